"""The client's stream layer (smscenter/smpp/client/_stream.py): the ``connect=`` seam, the one
mapping of the stream's errors, and a session and a pool run over an in-memory SMSC."""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
import pytest

from smscenter import (
    ConnectError,
    ConnectionLost,
    ConnectTimeout,
    Credentials,
    Message,
    ReconnectPolicy,
    SMPPPool,
    Timeouts,
)
from smscenter.smpp import SMPPSession
from smscenter.smpp.client._stream import Link
from smscenter.smpp.client.pool import PoolState
from smscenter.smpp.connection import SMSC, SMPPConnection
from smscenter.smpp.events import BindRequested, ConnectionClosed, SubmitSmReceived

CREDS = Credentials("acme", "secret")
MSG = Message(to="+79991234567", text="hello")


class _Pipe(anyio.abc.ByteStream):
    """One end of an in-memory byte stream pair."""

    def __init__(
        self,
        send: anyio.abc.ObjectSendStream[bytes],
        receive: anyio.abc.ObjectReceiveStream[bytes],
    ) -> None:
        self._send, self._receive = send, receive

    async def send(self, item: bytes) -> None:
        await self._send.send(item)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._receive.receive()

    async def send_eof(self) -> None:
        await self._send.aclose()

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


def _pipe() -> tuple[_Pipe, _Pipe]:
    a_send, b_receive = anyio.create_memory_object_stream[bytes](100)
    b_send, a_receive = anyio.create_memory_object_stream[bytes](100)
    return _Pipe(a_send, a_receive), _Pipe(b_send, b_receive)


async def _memory_smsc(stream: _Pipe, submits: list[str]) -> None:
    """A minimal SMSC on the sans-IO core: accepts the bind, answers each submit_sm with an id
    made from its text, and answers unbind (the core does)."""
    conn = SMPPConnection(SMSC)
    async with stream:
        while True:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                data = b""
            for event in conn.receive_data(data):
                if isinstance(event, BindRequested):
                    conn.accept_bind(event.pdu, system_id="MEM")
                elif isinstance(event, SubmitSmReceived):
                    text = event.pdu.short_message.decode()
                    submits.append(text)
                    conn.respond(event.pdu, message_id=f"id-{len(submits)}")
                elif isinstance(event, ConnectionClosed):
                    return
            out = conn.data_to_send()
            if out:
                try:
                    await stream.send(out)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
            if not data:
                return


def _connector(
    tg: anyio.abc.TaskGroup, submits: list[str], calls: list[tuple[str, int]]
) -> Callable[[str, int], Awaitable[anyio.abc.ByteStream]]:
    async def connect(host: str, port: int) -> anyio.abc.ByteStream:
        calls.append((host, port))
        client, server = _pipe()
        tg.start_soon(_memory_smsc, server, submits)
        return client

    return connect


async def test_a_session_runs_over_a_memory_stream() -> None:
    submits: list[str] = []
    calls: list[tuple[str, int]] = []
    async with anyio.create_task_group() as tg:
        connect = _connector(tg, submits, calls)
        async with SMPPSession("smsc.invalid", 2775, CREDS, connect=connect) as session:
            result = await session.send(MSG)
        assert result.message_id == "id-1"
        assert submits == ["hello"] and calls == [("smsc.invalid", 2775)]


async def test_a_pool_runs_over_a_memory_stream_and_its_state_is_an_enum() -> None:
    submits: list[str] = []
    calls: list[tuple[str, int]] = []
    async with anyio.create_task_group() as tg:
        connect = _connector(tg, submits, calls)
        pool = SMPPPool("smsc.invalid", 2775, CREDS, connect=connect)
        assert pool._state is PoolState.NEW
        async with pool:
            assert pool._state is PoolState.OPEN and " open " in repr(pool)
            outcomes = [o async for o in pool.send_many([MSG, MSG])]
        assert pool._state is PoolState.CLOSED
        assert sorted(o.message_id or "" for o in outcomes) == ["id-1", "id-2"]
        assert calls == [("smsc.invalid", 2775)]
        with pytest.raises(RuntimeError, match="the pool is closed"):
            await pool.send(MSG)


class _Broken(anyio.abc.ByteStream):
    """A stream whose every read and write fails with ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def send(self, item: bytes) -> None:
        raise self.error

    async def receive(self, max_bytes: int = 65536) -> bytes:
        raise self.error

    async def send_eof(self) -> None:
        raise self.error

    async def aclose(self) -> None:
        raise self.error


_ERRORS = [
    OSError("reset"),
    ssl.SSLError("bad record"),
    anyio.BrokenResourceError(),
    anyio.ClosedResourceError(),
]


@pytest.mark.parametrize("error", _ERRORS, ids=lambda e: type(e).__name__)
async def test_each_stream_error_maps_the_same_way(error: BaseException) -> None:
    link = Link(_Broken(error), "smsc:1")
    with pytest.raises(ConnectionLost, match="writing to smsc:1 failed") as info:
        await link.send(b"x")
    assert info.value.__cause__ is error
    assert await link.receive() == b""  # a broken read is the end of the link
    await link.send_quietly(b"x")
    await link.aclose()  # never raises


@pytest.mark.parametrize("error", _ERRORS, ids=lambda e: type(e).__name__)
async def test_a_link_that_breaks_during_the_bind_is_connection_lost(error: BaseException) -> None:
    async def connect(host: str, port: int) -> anyio.abc.ByteStream:
        return _Broken(error)

    with pytest.raises(ConnectionLost):
        async with SMPPSession("smsc.invalid", 1, CREDS, connect=connect, timeouts=Timeouts(5)):
            pass


async def test_connect_errors_and_timeouts_are_mapped() -> None:
    async def refuse(host: str, port: int) -> anyio.abc.ByteStream:
        raise ConnectionRefusedError("refused")

    async def hang(host: str, port: int) -> anyio.abc.ByteStream:
        await anyio.sleep_forever()
        raise AssertionError

    with pytest.raises(ConnectError, match="could not connect to smsc.invalid:1"):
        async with SMPPSession("smsc.invalid", 1, CREDS, connect=refuse):
            pass
    with pytest.raises(ConnectTimeout):
        async with SMPPSession(
            "smsc.invalid", 1, CREDS, connect=hang, timeouts=Timeouts(5, connect=0.05)
        ):
            pass


async def test_a_pool_against_an_smsc_that_resets_every_connection() -> None:
    # A real socket on 127.0.0.1 whose listener accepts and at once resets the connection (RST,
    # SO_LINGER 0): whatever the OS raises for that is mapped in the session (_stream.py), so
    # the pool's supervisor retries with backoff and the start-up ends with ConnectionLost.
    accepted = 0

    async def reset(stream: anyio.abc.SocketStream) -> None:
        nonlocal accepted
        accepted += 1
        sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await stream.aclose()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, reset)
        pool = SMPPPool(
            "127.0.0.1",
            port,
            CREDS,
            timeouts=Timeouts(5, connect=0.3, bind=0.3),
            reconnect=ReconnectPolicy(initial=0.01, maximum=0.02, refused=0.02),
        )
        with pytest.raises(ConnectionLost):
            async with pool:
                pass
        tg.cancel_scope.cancel()
    assert accepted >= 2  # retried, not crashed on the first reset
