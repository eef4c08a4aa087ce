"""One SMPP client connection of the simulator, and the small records the server keeps.

:class:`_Session` drives an :class:`~smscenter.smpp.connection.SMPPConnection` (``role=SMSC``)
between a reader and a writer task, and hands each read's events to
:meth:`SMPPServer.handle_events <smscenter.testing._smpp_server.SMPPServer.handle_events>`;
:class:`_Delivery` is a deliver_sm waiting for a receiving bind, :class:`_PartGroup` the parts of
a long message, :class:`_Throttle` the per-login token bucket, :class:`_Origin` what a receipt
needs of the submit it reports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from smscenter.smpp.connection import Role, SMPPConnection, State
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.system_type import SystemType
from smscenter.testing._login_rules import ConnectionRecord

if TYPE_CHECKING:
    from smscenter.testing._smpp_server import SMPPServer

logger = logging.getLogger("smscenter.testing._smpp_server")


@attrs.frozen(kw_only=True)
class _Origin:
    """The ``origin`` of a message submitted over SMPP (what its receipt needs)."""

    server: object  # the SMPPServer that took it: its receipts are that server's to send
    registered_delivery: int
    source: str
    destination: str


class _Delivery:
    """A deliver_sm (or the parts of a long incoming message) waiting for a receiving bind."""

    __slots__ = ("build", "failed", "incoming", "outstanding")

    def __init__(self, build: Callable[[_Session], list[DeliverSm]], *, incoming: bool) -> None:
        self.build = build
        self.incoming = incoming
        self.outstanding: set[int] = set()
        self.failed = False


class _PartGroup:
    """Parts of one long message arriving over one login (non-SINGLE binds)."""

    __slots__ = ("first_at", "id", "parts", "total")

    def __init__(self, message_id: int, total: int, now: float) -> None:
        self.id = message_id
        self.total = total
        self.parts: dict[int, str] = {}
        self.first_at = now


class _Throttle:
    """A token bucket: ``rate`` per second, bursts up to ``rate``."""

    __slots__ = ("last", "tokens")

    def __init__(self, rate: float, now: float) -> None:
        self.tokens = max(rate, 1.0)
        self.last = now

    def take(self, rate: float, now: float) -> bool:
        self.tokens = min(max(rate, 1.0), self.tokens + (now - self.last) * rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class _Session:
    """One client connection: an SMPPConnection(role=SMSC) between a reader and a writer."""

    def __init__(self, server: SMPPServer, stream: anyio.abc.ByteStream) -> None:
        self.server = server
        self.stream = stream
        self.conn = SMPPConnection(
            Role.SMSC, window=max(1, server.behaviour.receipt_window), enquire_link_interval=1e9
        )
        self.login: str | None = None
        self.record: ConnectionRecord | None = None
        self.system_type = SystemType()
        self.pdus = 0
        self.unanswered = 0
        self.answered = 0
        self.deliveries: dict[int, _Delivery] = {}
        send, receive = anyio.create_memory_object_stream[tuple[float, bytes, int]](float("inf"))
        self._out_send: MemoryObjectSendStream[tuple[float, bytes, int]] = send
        self._out_receive: MemoryObjectReceiveStream[tuple[float, bytes, int]] = receive
        self._reader_scope = anyio.CancelScope()
        self._group: anyio.abc.TaskGroup | None = None

    @property
    def bound(self) -> bool:
        return self.conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)

    @property
    def can_receive(self) -> bool:
        return self.conn.state in (State.BOUND_RX, State.BOUND_TRX)

    # --- output -------------------------------------------------------------------------------

    def push(self, answered: int = 0) -> None:
        """Hand everything the connection queued to the writer (one chunk)."""
        data = self.conn.data_to_send()
        behaviour = self.server.behaviour
        if behaviour.stop_answering:
            self.unanswered -= answered
            return
        if not data and not answered:
            return
        due = time.monotonic() + behaviour.response_delay if behaviour.response_delay > 0 else 0.0
        try:
            self._out_send.send_nowait((due, data, answered))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def push_raw(self, data: bytes) -> None:
        """Queue bytes the connection did not encode (a fault knob's broken PDU)."""
        self.push()
        if not self.server.behaviour.stop_answering:
            try:
                self._out_send.send_nowait((0.0, data, 0))
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass

    async def write_loop(self) -> None:
        receive = self._out_receive
        stream = self.stream
        held: tuple[float, bytes, int] | None = None
        try:
            while True:
                if held is None:
                    try:
                        item = await receive.receive()
                    except anyio.EndOfStream:
                        return
                else:
                    item, held = held, None
                due, data, count = item
                if due:
                    delay = due - time.monotonic()
                    if delay > 0:
                        await anyio.sleep(delay)
                chunks = [data]
                now = time.monotonic()
                while True:  # coalesce everything already due into one write
                    try:
                        item = receive.receive_nowait()
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                    if item[0] > now:
                        held = item  # not due yet: it waits for its turn
                        break
                    chunks.append(item[1])
                    count += item[2]
                payload = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                if payload:
                    await stream.send(payload)
                self.unanswered -= count
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.abort()

    def kick(self) -> None:
        """Unbind (a newer bind of the same login came without MCON), then close."""
        if self.conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX):
            self.conn.send_unbind()
            self.push()
        self._reader_scope.cancel()

    def abort(self) -> None:
        """Close at once, without flushing."""
        self._reader_scope.cancel()
        if self._group is not None:
            self._group.cancel_scope.cancel()

    # --- input --------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self.write_loop)
                with self._reader_scope:
                    await self.read_loop()
                self._out_send.close()
                # Let the writer flush what is queued (unbind_resp, a kick's unbind), but not
                # forever.
                group.cancel_scope.deadline = anyio.current_time() + 2.0
        finally:
            self._out_send.close()
            self._out_receive.close()

    async def read_loop(self) -> None:
        server = self.server
        stream = self.stream
        conn = self.conn
        while conn.state is not State.CLOSED:
            idle = server.behaviour.idle_timeout
            try:
                if idle is None:
                    data = await stream.receive(65536)
                else:
                    with anyio.move_on_after(idle) as scope:
                        data = await stream.receive(65536)
                    if scope.cancelled_caught:
                        server.counters.idle_cuts += 1
                        logger.info("smpp simulator: idle connection of %r cut", self.login)
                        return
            except anyio.EndOfStream:
                data = b""
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return
            events = conn.receive_data(data)
            if server.behaviour.stop_answering:
                conn.data_to_send()
                self.pdus += len(events)
                continue
            if not server.handle_events(self, events):
                server.counters.drops += 1
                if server.behaviour.drop_loses_answers:
                    conn.data_to_send()  # the answers of this read never leave
                    self.abort()  # nor do those still queued
                    return
                self.push(self.answered)
                return
            if not data:
                return
