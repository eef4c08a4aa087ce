"""Quirky SMSCs for the session's edges, on 127.0.0.1, built on tests/smpp/_fake_smsc.py.

Outside SMSCs do things ours would not: each scenario here is one such habit.

- :class:`LateSMSC` answers every ``submit_sm`` ``delay`` seconds late (after the client's
  response timeout) but answers ``enquire_link`` at once, and notes when each probe came.
- :class:`EdgeSMSC` can make one connection fall silent (it keeps reading, writes nothing,
  keeps the socket open) after some submits, and can keep a connection open after the client's
  ``unbind_resp`` (to write answers after its own ``unbind``, as some SMSCs do).
- :func:`deliver_stop_and_wait` sends the parts of a long incoming message one at a time,
  each only after the previous one's ``deliver_sm_resp`` (what smpp34's server does).
"""

from __future__ import annotations

import anyio
import anyio.abc
from _fake_smsc import FakeSMSC, Peer

from smscenter.smpp.connection import State
from smscenter.smpp.pdu import DeliverSm, SubmitSm, SubmitSmResp


class EdgeSMSC(FakeSMSC):
    """The fake SMSC with per-connection quirks.

    - ``silent_after``: ``(connection number from 0, n)``: that connection stops writing after
      it has received ``n`` submits (answered the first ``n``); ``silent_submits`` counts what
      it received afterwards, ``silent_to`` their destination addresses.
    - ``linger``: keep a connection open after it is CLOSED in the SMPP sense (the client's
      ``unbind_resp``), until the client closes it or :meth:`Peer.drop`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.silent_after: tuple[int, int] | None = None
        self.silent_submits = 0
        self.silent_to: list[str] = []
        self.linger = False
        self._muted: set[int] = set()
        self._mute_next: Peer | None = None
        self._seen: dict[int, int] = {}
        self.on_submit = self._count_for_silence

    def _count_for_silence(self, peer: Peer, pdu: SubmitSm) -> None:
        if self.silent_after is None or self.peers.index(peer) != self.silent_after[0]:
            return
        if id(peer) in self._muted:
            self.silent_submits += 1
            self.silent_to.append(pdu.destination_addr)
            return
        seen = self._seen[id(peer)] = self._seen.get(id(peer), 0) + 1
        if seen >= self.silent_after[1]:
            self._mute_next = peer  # its answers of this read go out; then nothing more

    async def _serve(self, stream: anyio.abc.ByteStream) -> None:
        peer = Peer(self, stream)
        self.peers.append(peer)
        original_flush = peer.flush

        async def flush() -> None:
            if id(peer) in self._muted:
                peer.conn.data_to_send()  # read, never answer
                return
            await original_flush()
            if self._mute_next is peer:
                self._muted.add(id(peer))

        peer.flush = flush  # type: ignore[method-assign]
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
                    if not data:
                        return
                    if (drop or peer.conn.state is State.CLOSED) and not self.linger:
                        return
        finally:
            peer.closed.set()


async def write_raw(peer: Peer, data: bytes) -> bool:
    """Write bytes past the SMPP state machine (answers after our own unbind); False when the
    client had closed the connection already."""
    async with peer.lock:
        try:
            await peer.stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return False
    return True


def accept_raw(submits: list[SubmitSm], first_id: int) -> bytes:
    """submit_sm_resp (accepted, ids from ``first_id``) for ``submits``, encoded."""
    return b"".join(
        SubmitSmResp(sequence_number=pdu.sequence_number, message_id=str(first_id + n)).encode()
        for n, pdu in enumerate(submits)
    )


class LateSMSC(FakeSMSC):
    """Answers each submit_sm ``delay`` seconds after it came; enquire_link at once."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.hold = True
        self.probe_times: list[float] = []
        self._due: list[tuple[float, Peer, SubmitSm]] = []
        self.on_submit = self._note

    def _note(self, peer: Peer, pdu: SubmitSm) -> None:
        self._due.append((anyio.current_time() + self.delay, peer, pdu))

    def _on_event(self, peer: Peer, event: object) -> bool:
        if type(event).__name__ == "EnquireLinkReceived":
            self.probe_times.append(anyio.current_time())
        return super()._on_event(peer, event)

    async def __aenter__(self) -> LateSMSC:
        await super().__aenter__()
        tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(tg.cancel_scope.cancel)
        tg.start_soon(self._answer_late)
        return self

    async def _answer_late(self) -> None:
        while True:
            await anyio.sleep(0.005)
            now = anyio.current_time()
            due = [item for item in self._due if item[0] <= now]
            if not due:
                continue
            self._due = [item for item in self._due if item[0] > now]
            touched: dict[int, Peer] = {}
            for _, peer, pdu in due:
                if peer.conn.state is State.CLOSED:
                    continue
                peer.conn.respond(pdu, message_id=self.next_id())
                touched[id(peer)] = peer
            for peer in touched.values():
                await peer.flush()


async def deliver_stop_and_wait(peer: Peer, parts: list[DeliverSm], wait: float) -> list[int]:
    """Send ``parts`` one by one, each after the previous one's ``deliver_sm_resp`` (waiting at
    most ``wait`` seconds, then sending the next anyway). Returns the parts (1-based) whose
    answer did not come in time."""
    server = peer.server
    stalled: list[int] = []
    for number, part in enumerate(parts, 1):
        seq = await peer.deliver(part)
        with anyio.move_on_after(wait):
            while not any(s == seq for s, _ in server.deliver_resps):  # noqa: ASYNC110
                await anyio.sleep(0.002)
        if not any(s == seq for s, _ in server.deliver_resps):
            stalled.append(number)
    return stalled


__all__ = ["LateSMSC", "EdgeSMSC", "accept_raw", "deliver_stop_and_wait", "write_raw"]
