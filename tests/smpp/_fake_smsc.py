"""A small SMSC for the session and pool tests: the core's SMPPConnection(role=SMSC) served on
127.0.0.1 with anyio, with knobs for faults. (The simulator's SMPP half replaces it later.)"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
import anyio.abc
from anyio.streams.tls import TLSListener

from smscenter.smpp.connection import SMSC, SMPPConnection, State
from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.events import (
    BindRequested,
    ConnectionClosed,
    RequestReceived,
    ResponseReceived,
    SubmitSmReceived,
)
from smscenter.smpp.pdu import DeliverSm, Pdu, QuerySm, SubmitSm


class Peer:
    """One ESME connection as the server sees it."""

    def __init__(self, server: FakeSMSC, stream: anyio.abc.ByteStream) -> None:
        self.server = server
        self.stream = stream
        self.conn = SMPPConnection(SMSC, window=100_000)
        self.lock = anyio.Lock()
        self.system_type = ""
        self.mode: Any = None
        self.closed = anyio.Event()
        self.held: list[SubmitSm] = []

    async def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.server.silent:
            async with self.lock:
                try:
                    await self.stream.send(data)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    pass

    async def deliver(self, pdu: DeliverSm) -> int:
        seq = self.conn.send(pdu)
        await self.flush()
        return seq

    async def enquire_link(self) -> int:
        seq = self.conn.send_enquire_link()
        await self.flush()
        return seq

    async def drop(self) -> None:
        await self.stream.aclose()

    def answer_held(self) -> None:
        for pdu in self.held:
            self.conn.respond(pdu, message_id=self.server.next_id())
        self.held.clear()


class FakeSMSC:
    """Knobs (plain attributes, change them any time):

    - ``refuse``: a command_status to refuse binds with (None: accept);
    - ``throttle``: f(n) -> bool, answer the n-th submit_sm (from 0) with ESME_RTHROTTLED;
    - ``reject``: f(submit_sm) -> status or 0;
    - ``hold``: keep submits unanswered (answer later with ``peer.answer_held()``);
    - ``silent``: read but never write anything;
    - ``drop_after``: close the connection after this many submit_sm (counted per server);
    - ``answer_enquire``: False to ignore enquire_link.
    """

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = 0
        self.refuse: int | None = None
        self.throttle: Callable[[int], bool] = lambda n: False
        self.reject: Callable[[SubmitSm], int] = lambda pdu: 0
        self.hold = False
        self.silent = False
        self.drop_after: int | None = None
        self.answer_enquire = True
        self.submits: list[SubmitSm] = []
        self.submit_count = 0
        self.binds: list[tuple[Any, str, str]] = []
        self.bind_attempts = 0
        self.deliver_resps: list[tuple[int, int]] = []
        self.enquire_links = 0
        self.enquire_resps = 0
        self.unbinds = 0
        self.peers: list[Peer] = []
        self.connected = anyio.Event()
        self._ids = itertools.count(1000)
        self._stack = AsyncExitStack()
        self.on_submit: Callable[[Peer, SubmitSm], None] | None = None

    def next_id(self) -> str:
        return str(next(self._ids))

    @property
    def live_peers(self) -> list[Peer]:
        return [p for p in self.peers if not p.closed.is_set()]

    async def __aenter__(self) -> FakeSMSC:
        await self._stack.__aenter__()
        listener: anyio.abc.Listener[Any] = await anyio.create_tcp_listener(
            local_host="127.0.0.1", local_port=self.port
        )
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        if self.tls is not None:
            listener = TLSListener(listener, self.tls, standard_compatible=False)
        self._stack.push_async_callback(listener.aclose)
        tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(tg.cancel_scope.cancel)
        tg.start_soon(listener.serve, self._serve)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(None, None, None)

    async def _serve(self, stream: anyio.abc.ByteStream) -> None:
        peer = Peer(self, stream)
        self.peers.append(peer)
        try:
            async with stream:
                while True:
                    try:
                        data = await stream.receive(1 << 16)
                    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                        data = b""
                    except anyio.ClosedResourceError:
                        return
                    drop = False
                    for event in peer.conn.receive_data(data):
                        drop = self._on_event(peer, event) or drop
                    await peer.flush()
                    if drop or not data or peer.conn.state is State.CLOSED:
                        return
        finally:
            peer.closed.set()

    def _on_event(self, peer: Peer, event: Any) -> bool:
        conn = peer.conn
        if isinstance(event, BindRequested):
            self.bind_attempts += 1
            if self.refuse is not None:
                conn.reject_bind(event.pdu, self.refuse)
                return False
            peer.mode = event.mode
            peer.system_type = event.pdu.system_type
            self.binds.append((event.mode, event.pdu.system_id, event.pdu.system_type))
            conn.accept_bind(event.pdu, system_id="fake")
            self.connected.set()
        elif isinstance(event, SubmitSmReceived):
            pdu = event.pdu
            n = self.submit_count
            self.submit_count += 1
            if self.on_submit is not None:
                self.on_submit(peer, pdu)
            if self.throttle(n):
                conn.respond(pdu, CommandStatus.ESME_RTHROTTLED)
            elif status := self.reject(pdu):
                conn.respond(pdu, status)
            else:
                self.submits.append(pdu)
                if self.hold:
                    peer.held.append(pdu)
                else:
                    conn.respond(pdu, message_id=self.next_id())
            if self.drop_after is not None and self.submit_count >= self.drop_after:
                return True
        elif isinstance(event, RequestReceived) and isinstance(event.pdu, QuerySm):
            pdu = event.pdu
            if pdu.message_id == "missing":
                conn.respond(pdu, CommandStatus.ESME_RQUERYFAIL)
            else:
                conn.respond(pdu, message_id=pdu.message_id, message_state=2, final_date="")
        elif isinstance(event, ResponseReceived):
            if event.request_command_id == CommandId.DELIVER_SM:
                self.deliver_resps.append((event.request_seq, event.command_status))
            elif event.request_command_id == CommandId.ENQUIRE_LINK:
                self.enquire_resps += 1
        elif type(event).__name__ == "EnquireLinkReceived":
            self.enquire_links += 1
            if not self.answer_enquire:
                conn.data_to_send()  # swallow the automatic answer
        elif type(event).__name__ == "UnbindReceived":
            self.unbinds += 1
        elif isinstance(event, ConnectionClosed):
            return True
        return False


def receipt(message_id: str, stat: str = "DELIVRD", phone: str = "79991234567") -> DeliverSm:
    text = (
        f"id:{message_id} sub:001 dlvrd:001 submit date:2411221200 done date:2411221201 "
        f"stat:{stat} err:000"
    )
    return DeliverSm(
        source_addr=phone, destination_addr="ACME", esm_class=0x04, short_message=text.encode()
    )


def mo(text: bytes, *, udh: bytes = b"", phone: str = "79990000001") -> DeliverSm:
    return DeliverSm(
        source_addr=phone,
        destination_addr="1234",
        esm_class=0x40 if udh else 0,
        short_message=udh + text,
    )


__all__ = ["FakeSMSC", "Pdu", "Peer", "mo", "receipt"]
