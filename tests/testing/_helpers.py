"""Plain-httpx helpers for talking to the simulator."""

from __future__ import annotations

from typing import Any

import httpx

from smscenter.testing import SMSCSimulator


async def call(
    http: httpx.AsyncClient,
    sim: SMSCSimulator,
    endpoint: str,
    *,
    auth: bool = True,
    fmt: str = "3",
    **params: Any,
) -> Any:
    """POST a form to /sys/<endpoint>.php with the default credentials; decode fmt=3 JSON."""
    data: dict[str, str] = {"fmt": fmt, "charset": "utf-8"}
    if auth:
        data.update(sim.credentials.http_params())
    data.update({k.rstrip("_"): str(v) for k, v in params.items()})  # del_ -> del
    response = await http.post(f"/sys/{endpoint}.php", data=data)
    assert response.status_code == 200
    if fmt == "3":
        return response.json()
    return response.text
