"""examples/fastapi_app.py end to end: the real HTTPClient (over a fake provider transport)
opened by the lifespan, a send, then signed callbacks reporting on it."""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.parse
from pathlib import Path
from types import ModuleType

import httpx

from smscenter import Credentials

from ._provider import SECRET, form, signed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi_app.py"
FORM = "application/x-www-form-urlencoded"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("smscenter_example_fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


class FakeProvider:
    """send.php answering like the provider with fmt=3 and cost=3."""

    def __init__(self) -> None:
        self.sent: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # (Tolerates the first-cut client's doubled slash after a bare host.)
        assert request.url.path.lstrip("/") == "sys/send.php", request.url
        params = urllib.parse.parse_qs(request.content.decode())
        self.sent.append(params)
        answer = {"id": 101, "cnt": 1, "cost": "2.50", "balance": "97.50"}
        return httpx.Response(200, content=json.dumps(answer).encode(),
                              headers={"content-type": "application/json"})  # fmt: skip


async def test_example_sends_and_receives_callbacks() -> None:
    example = load_example()
    provider = FakeProvider()
    app = example.create_app(
        Credentials("acme", "pw"),
        callback_secret=SECRET,
        base_url="https://smsc.test",
        transport=httpx.MockTransport(provider),
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as client,
    ):
        opened = app.state.smsc
        assert repr(opened).startswith("<HTTPClient opened")
        sent = await client.post("/messages", json={"to": "+79991234567", "text": "Привет"})
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"message_id": "101", "parts": 1, "cost": "2.50"}
        assert provider.sent[0]["mes"] == ["Привет"]
        assert provider.sent[0]["phones"] == ["79991234567"] or provider.sent[0]["phones"] == [
            "+79991234567"
        ]

        missing = await client.get("/messages/101")
        assert missing.status_code == 404

        status = {"id": "101", "phone": "79991234567", "status": "1", "ts": "1763800000"}
        callback = await client.post(
            "/smsc/callback",
            content=form(signed(status, "md5", encoding="cp1251"), "cp1251"),
            headers={"content-type": FORM},
        )
        assert callback.status_code == 200
        report = await client.get("/messages/101")
        assert report.json() == {
            "message_id": "101",
            "status": "delivered",
            "delivered": True,
            "final": True,
            "error": "NO_ERROR",
        }

        incoming = {"id": "9", "phone": "79991234567", "mes": "Ответ", "to": "79030000000"}
        answer = await client.post(
            "/smsc/callback",
            content=form(signed(incoming, "sha1", encoding="cp1251"), "cp1251"),
            headers={"content-type": FORM},
        )
        assert answer.status_code == 200
        inbox = await client.get("/inbox")
        assert inbox.json() == [{"phone": "79991234567", "text": "Ответ", "to": "79030000000"}]

        forged = await client.post(
            "/smsc/callback",
            content=form(dict(status, md5="0" * 32), "cp1251"),
            headers={"content-type": FORM},
        )
        assert forged.status_code == 403
    assert repr(opened).startswith("<HTTPClient closed")
    assert not hasattr(app.state, "smsc")
