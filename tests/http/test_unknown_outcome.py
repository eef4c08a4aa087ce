"""A send that failed on the wire: "never written" (safe to send again) told apart from "written,
no answer" (UnknownOutcomeError with the client id, settled by asking the provider). Against
real local servers: a port nobody listens on, a raw socket server that reads a whole request
and resets the connection, and the simulator."""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import anyio
import anyio.abc
import pytest

from smscenter import (
    ConnectError,
    ConnectionLost,
    Credentials,
    HTTPClient,
    Message,
    RetryPolicy,
    Timeouts,
    Transport,
    TransportError,
    UnknownOutcomeError,
)
from smscenter.http import _outcome
from smscenter.http._outcome import SendAttempts
from smscenter.testing.simulator import SMSCSimulator

from .conftest import FAST_RETRY, dead_base_url

PHONE = "79991234567"


class ResettingServer:
    """Reads each HTTP request in full (headers and Content-Length body), records its form,
    then resets the connection (RST, no answer): the server had the request; the client never
    hears what became of it."""

    def __init__(self) -> None:
        self.forms: list[dict[str, list[str]]] = []
        self.times: list[float] = []
        self.port = 0

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive()
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            body += await stream.receive()
        self.forms.append(parse_qs(body.decode("ascii")))
        self.times.append(anyio.current_time())
        raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await stream.aclose()

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        try:
            await self._handle(stream)
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            pass


@pytest.fixture
async def resetting() -> AsyncIterator[ResettingServer]:
    server = ResettingServer()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    server.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server._serve)
        yield server
        tg.cancel_scope.cancel()
    await listener.aclose()


def client_on(base_url: str, retry: RetryPolicy, timeouts: Timeouts | None = None) -> HTTPClient:
    return HTTPClient(
        Credentials("acme", "secret"), base_url=base_url, mirrors=(), retry=retry, timeouts=timeouts
    )


async def test_never_written_is_a_transport_error_not_an_unknown_outcome() -> None:
    # Nothing listens on the port: no attempt ever writes the request.
    async with client_on(dead_base_url(), FAST_RETRY) as api:
        with pytest.raises(ConnectError) as info:
            await api.send(Message(to=PHONE, text="never written"))
    assert isinstance(info.value, TransportError)
    assert not isinstance(info.value, UnknownOutcomeError)


async def test_written_no_answer_is_an_unknown_outcome_with_the_client_id(
    resetting: ResettingServer,
) -> None:
    async with client_on(f"http://127.0.0.1:{resetting.port}", FAST_RETRY) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(Message(to=PHONE, text="written, no answer"))
    error = info.value
    # Every attempt reached the server, all with the same client id: the one the error carries.
    assert len(resetting.forms) == FAST_RETRY.attempts
    ids = {form["id"][0] for form in resetting.forms}
    assert len(ids) == 1
    assert error.client_id == ids.pop()
    assert error.recipients == (PHONE,)
    assert error.transport is Transport.HTTP
    assert isinstance(error.cause, ConnectionLost)
    assert "settle" in str(error)


async def test_own_client_id_is_kept_and_carried(resetting: ResettingServer) -> None:
    async with client_on(
        f"http://127.0.0.1:{resetting.port}", RetryPolicy(attempts=1, backoff=0.0)
    ) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(Message(to=PHONE, text="mine", client_id=4242))
    assert info.value.client_id == 4242
    assert [form["id"] for form in resetting.forms] == [["4242"]]


async def test_retries_stop_before_the_duplicate_window_closes(
    resetting: ResettingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The window shrunk to one second: attempts at about 0 s and 0.4 s fit (each may take the
    # 0.2 s connect timeout before it writes); the third, at about 1.2 s, would not.
    monkeypatch.setattr(_outcome, "DUPLICATE_WINDOW", 1.0)
    monkeypatch.setattr(_outcome, "RETRY_MARGIN", 0.0)
    retry = RetryPolicy(attempts=5, backoff=0.4, jitter=0.0)
    async with client_on(
        f"http://127.0.0.1:{resetting.port}", retry, timeouts=Timeouts(5, connect=0.2)
    ) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(Message(to=PHONE, text="inside the window"))
    assert len(resetting.forms) == 2
    assert resetting.times[1] - resetting.times[0] < 1.0
    assert "duplicate window" in str(info.value.cause)


def test_attempts_bookkeeping() -> None:
    sends = SendAttempts(connect=10.0)
    assert sends.may_start(0.0) and not sends.written
    sends.failed(100.0, written=False)  # a refused connection opens no window
    assert sends.may_start(1000.0) and not sends.written
    sends.failed(1000.0, written=True)
    sends.failed(1030.0, written=True)  # the window runs from the first written attempt
    assert sends.first_written == 1000.0
    limit = 1000.0 + _outcome.DUPLICATE_WINDOW - _outcome.RETRY_MARGIN - 10.0
    assert sends.may_start(limit)
    assert not sends.may_start(limit + 0.01)


async def test_lost_answers_settle_to_the_send_that_went_out(sim: SMSCSimulator) -> None:
    # The provider stores the first attempt, then every answer is lost on the way back (the
    # retries are refused as duplicates, unheard): the outcome stays open until settled.
    sim.behaviour.lose_answers = FAST_RETRY.attempts
    sim.behaviour.fault_endpoint = "send"
    async with HTTPClient(sim.credentials, base_url=sim.base_url, retry=FAST_RETRY) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(Message(to=PHONE, text="answers lost"))
        assert len(sim.sent) == 1, "the retries were refused as duplicates"
        assert info.value.client_id == sim.sent[0].client_id
        result = await api.settle(info.value)
    assert result is not None
    assert result.confirmed_by_status
    assert result.message_id == str(sim.sent[0].id)
    assert result.client_id == info.value.client_id


async def test_dropped_requests_settle_to_nothing_sent(sim: SMSCSimulator) -> None:
    # Every attempt is cut after the server read it but before the provider handled it.
    sim.behaviour.drop_connections = FAST_RETRY.attempts
    sim.behaviour.fault_endpoint = "send"
    async with HTTPClient(sim.credentials, base_url=sim.base_url, retry=FAST_RETRY) as api:
        with pytest.raises(UnknownOutcomeError) as info:
            await api.send(Message(to=PHONE, text="never handled"))
        assert sim.sent == []
        assert await api.settle(info.value) is None
        # Nothing went out: sending again is safe, and sends it once.
        await api.send(Message(to=PHONE, text="never handled"))
    assert len(sim.sent) == 1


async def test_settle_needs_a_client_id() -> None:
    async with client_on(dead_base_url(), FAST_RETRY) as api:
        with pytest.raises(ValueError, match="client id"):
            await api.settle(UnknownOutcomeError("smpp, no id"))
