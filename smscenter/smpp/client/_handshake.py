"""Binding one link (SMPP 3.4 §2.2, §4.1): the request, the wait for its answer, and what the
answer means for the caller.

Before the bind completes no task runs on the link: this reads and writes it directly, within
``Timeouts.bind``. What arrives with the bind answer (in the same read) is handed back, so the
session handles it first, in order.
"""

from __future__ import annotations

import anyio

from smscenter.config import Credentials
from smscenter.exceptions import BindTimeout, ConnectionLost, LocalProtocolError
from smscenter.smpp.client._stream import Link
from smscenter.smpp.connection import SMPPConnection
from smscenter.smpp.constants import BindMode
from smscenter.smpp.events import BindComplete, BindRefused, ConnectionClosed, Event
from smscenter.smpp.statuses import status_error

__all__ = ("bind",)


async def bind(
    link: Link,
    conn: SMPPConnection,
    mode: BindMode,
    credentials: Credentials,
    system_type: str,
    *,
    within: float | None,
    name: str,
) -> list[Event]:
    """Bind ``conn`` over ``link``; return the events that came after the bind answer.

    :raises ValueError: a field over its limit (the message names the field, never the
        password's value).
    :raises APIError: the SMSC refused the bind (e.g. ``ESME_RINVPASWD``).
    :raises BindTimeout: no answer within ``within`` seconds.
    :raises ConnectionLost: the SMSC closed the link during the bind, or writing failed.
    """
    assert credentials.login is not None and credentials.password is not None
    try:
        conn.send_bind(
            mode,
            system_id=credentials.login,
            password=credentials.password,
            system_type=system_type,
        )
    except LocalProtocolError as exc:
        raise ValueError(f"cannot bind: {exc}") from None
    try:
        with anyio.fail_after(within):
            await link.send(conn.data_to_send())
            while True:
                events = conn.receive_data(await link.receive())
                for i, event in enumerate(events):
                    if isinstance(event, BindComplete):
                        return events[i + 1 :]
                    if isinstance(event, BindRefused):
                        raise status_error(event.command_status, "bind")
                    if isinstance(event, ConnectionClosed):
                        raise ConnectionLost(
                            f"{name} closed the connection during the bind", host=name
                        )
                out = conn.data_to_send()
                if out:
                    await link.send(out)
    except TimeoutError:
        raise BindTimeout(f"{name} did not answer the bind within {within} s", host=name) from None
