"""Every Python example in docs/webhooks.md runs; the framework ones also serve requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from ._provider import form, signed

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def run_block(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_webhooks"}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace


def test_doc_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index: int) -> None:
    run_block(BLOCKS[index])


def _block_defining(name: str) -> str:
    found: list[str] = [b for b in BLOCKS if re.search(rf"^(async )?def {name}\b", b, flags=re.M)]
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("name", ["smsc_callback", "on_event"])
async def test_framework_examples_serve_signed_callbacks(name: str) -> None:
    app = run_block(_block_defining(name))["app"]
    status = {"id": "5", "phone": "79991234567", "status": "1", "ts": "1763800000"}
    good = form(signed(status, "md5", secret="my-secret", encoding="cp1251"), "cp1251")
    bad = form(signed(status, "md5", secret="not-it"), "cp1251")
    headers = {"content-type": "application/x-www-form-urlencoded"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        ok = await client.post("/smsc/callback", content=good, headers=headers)
        forged = await client.post("/smsc/callback", content=bad, headers=headers)
        malformed = await client.post(
            "/smsc/callback", content=b"x", headers={"content-type": "text/plain"}
        )
    assert (ok.status_code, forged.status_code, malformed.status_code) == (200, 403, 404)


def test_handle_example_dedupes() -> None:
    namespace = run_block(_block_defining("handle"))
    status = {"id": "5", "phone": "79991234567", "status": "1", "ts": "1763800000"}
    body = form(signed(status, "sha1", secret="my-secret"), "cp1251")
    handle = namespace["handle"]
    assert handle(body, "application/x-www-form-urlencoded") == 200
    assert len(namespace["recent"]) == 1
    assert handle(body, "application/x-www-form-urlencoded") == 200
    assert len(namespace["recent"]) == 1
