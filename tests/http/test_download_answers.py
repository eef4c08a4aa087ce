"""downloads.php ``get_file`` answered with a JSON content type but a body that is not JSON
(a proxy's page, an empty body) ends with the library's typed error, as every other call
does, not with a bare ``json.JSONDecodeError``."""

from __future__ import annotations

import pytest

from smscenter import RemoteProtocolError
from tests.http.test_secrets_and_tls import CREDS, _client, answering


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>Bad gateway</html>", "is not JSON"), (b" ", "empty answer")],
)
async def test_download_json_answer_that_is_not_json_is_a_protocol_error(
    body: bytes, reason: str
) -> None:
    async with answering(body) as url, _client(url, CREDS) as client:
        with pytest.raises(RemoteProtocolError, match=reason):
            await client.download_bytes(task_id="1")
