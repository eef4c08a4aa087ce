"""SMPPSession (one bind) against a real TCP SMSC on 127.0.0.1 (tests/smpp/_fake_smsc.py)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable

import anyio
import pytest
import trustme
from _fake_smsc import FakeSMSC, mo, receipt

from smscenter import (
    AuthenticationError,
    ConnectError,
    ConnectionLost,
    Credentials,
    DeliveryReport,
    IncomingMessage,
    Message,
    MessageStatus,
    PoolTimeout,
    ResponseTimeout,
    SMPPStatusError,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp.client.session import SMPPSession
from smscenter.smpp.constants import BindMode, CommandStatus

CREDS = Credentials("acme", "secret")
MSG = Message(to="+79991234567", text="hello")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The session runs on both of anyio's backends (style.md §5)."""
    return str(request.param)


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as server:
        yield server


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait (bounded) until the predicate holds."""
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling server-side state, bounded
            await anyio.sleep(0.002)


def session(smsc: FakeSMSC, **kwargs: object) -> SMPPSession:
    kwargs.setdefault("timeouts", Timeouts(5))
    return SMPPSession("127.0.0.1", smsc.port, CREDS, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", list(BindMode))
async def test_bind_modes_and_system_type(smsc: FakeSMSC, mode: BindMode) -> None:
    async with session(smsc, mode=mode, system_type="ISO,SINGLE") as s:
        assert s.bound
        assert smsc.binds == [(mode, "acme", "ISO,SINGLE")]
        if mode.can_send:
            result = await s.send(MSG)
            assert result.message_id == "1000"
        else:
            with pytest.raises(RuntimeError):
                await s.send(MSG)
    assert not s.bound
    assert smsc.unbinds == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (CommandStatus.ESME_RINVPASWD, AuthenticationError),
        (CommandStatus.ESME_RALYBND, SMPPStatusError),
    ],
)
async def test_bind_refused(smsc: FakeSMSC, status: int, error: type[Exception]) -> None:
    smsc.refuse = status
    with pytest.raises(error) as info:
        async with session(smsc):
            pass
    assert info.value.code == status  # type: ignore[attr-defined]


async def test_connect_refused_is_connect_error() -> None:
    async with FakeSMSC() as server:
        port = server.port
    with pytest.raises(ConnectError):
        async with SMPPSession("127.0.0.1", port, CREDS):
            pass


async def test_password_never_in_repr(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        assert "secret" not in repr(s)
        assert "bound" in repr(s)


async def test_window_caps_requests_in_flight(smsc: FakeSMSC) -> None:
    smsc.hold = True
    results = []
    async with session(smsc, window=50) as s, anyio.create_task_group() as tg:

        async def one(i: int) -> None:
            results.append(await s.send(Message(to=f"+7999{i:07d}", text="x")))

        for i in range(80):
            tg.start_soon(one, i)
        await until(lambda: len(smsc.submits) == 50)
        await anyio.sleep(0.05)
        assert len(smsc.submits) == 50  # never more than the window
        stats = s.statistics()
        assert stats.in_flight == 50
        assert stats.queued == 30
        smsc.hold = False
        smsc.live_peers[0].answer_held()
        await smsc.live_peers[0].flush()
    assert len(results) == 80
    assert len({r.message_id for r in results}) == 80


async def test_response_timeout_is_unknown_outcome_and_late_response_logged(
    smsc: FakeSMSC, caplog: pytest.LogCaptureFixture
) -> None:
    smsc.hold = True
    async with session(smsc, timeouts=Timeouts(5, response=0.2)) as s:
        with pytest.raises(UnknownOutcomeError) as info:
            await s.send(MSG)
        assert isinstance(info.value.cause, ResponseTimeout)
        assert s.statistics().unknown == 1
        assert s.in_flight == 0
        with caplog.at_level(logging.WARNING, logger="smscenter.smpp.client.session"):
            peer = smsc.live_peers[0]
            peer.answer_held()
            await peer.flush()
            await until(lambda: "late submit_sm_resp" in caplog.text)
        # The session is still fine and the late answer did not complete anything else.
        smsc.hold = False
        result = await s.send(MSG)
        assert result.message_id == "1001"


async def test_pool_timeout_when_the_window_stays_full(smsc: FakeSMSC) -> None:
    smsc.hold = True
    async with (
        session(smsc, window=1, timeouts=Timeouts(5, pool=0.2)) as s,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(s.send, MSG)
        await until(lambda: len(smsc.submits) == 1)
        with pytest.raises(PoolTimeout):
            await s.send(MSG)
        assert s.statistics().queued == 0
        smsc.live_peers[0].answer_held()
        await smsc.live_peers[0].flush()
    assert len(smsc.submits) == 1


async def test_cancelled_waiter_leaves_nothing_behind(smsc: FakeSMSC) -> None:
    smsc.hold = True
    async with session(smsc, window=1) as s:
        async with anyio.create_task_group() as tg:
            tg.start_soon(s.send, MSG)
            await until(lambda: len(smsc.submits) == 1)
            with anyio.move_on_after(0.1) as scope:
                await s.send(Message(to="+79990000000", text="cancelled"))
            assert scope.cancelled_caught
            assert s.statistics().queued == 0
            assert len(s._queue) == 0
            smsc.hold = False
            smsc.live_peers[0].answer_held()
            await smsc.live_peers[0].flush()
        await anyio.sleep(0.05)
        assert [p.destination_addr for p in smsc.submits] == ["79991234567"]
        assert s.in_flight == 0


async def test_enquire_link_both_ways(smsc: FakeSMSC) -> None:
    async with session(smsc, timeouts=Timeouts(5, enquire_link=0.1)) as s:
        await until(lambda: smsc.enquire_links >= 2)
        peer = smsc.live_peers[0]
        await peer.enquire_link()
        await until(lambda: smsc.enquire_resps == 1)
        assert s.bound


async def test_dead_link_is_detected(smsc: FakeSMSC) -> None:
    smsc.answer_enquire = False
    start = anyio.current_time()
    async with session(smsc, timeouts=Timeouts(5, response=0.2, enquire_link=0.1)) as s:
        with anyio.fail_after(3):
            await s.wait_closed()
        assert isinstance(s.error, ConnectionLost)
        assert "enquire_link" in str(s.error)
    assert anyio.current_time() - start < 3


async def test_receipts_are_acknowledged_only_after_the_hand_off(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        peer = smsc.live_peers[0]
        await peer.deliver(receipt("1000"))
        await peer.deliver(receipt("1001", stat="UNDELIV"))
        await until(lambda: s.statistics().reports == 2)
        await anyio.sleep(0.05)
        assert smsc.deliver_resps == []  # nobody has seen them yet
        async with s.reports() as stream:
            first = await stream.receive()
            assert isinstance(first, DeliveryReport)
            assert first.message_id == "1000"
            assert first.status is MessageStatus.DELIVERED
            await anyio.sleep(0.05)
            assert smsc.deliver_resps == []  # still being handled
            second = await stream.receive()  # asking for the next acknowledges the first
            await until(lambda: len(smsc.deliver_resps) == 1)
            assert isinstance(second, DeliveryReport)
            assert second.status is MessageStatus.UNDELIVERABLE
        await until(lambda: len(smsc.deliver_resps) == 2)
        assert [status for _, status in smsc.deliver_resps] == [0, 0]


async def test_error_in_consumer_does_not_acknowledge(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        await smsc.live_peers[0].deliver(receipt("7"))
        with pytest.raises(KeyError):
            async with s.reports() as stream:
                async for _event in stream:
                    raise KeyError("crash while handling")
        await anyio.sleep(0.05)
        assert smsc.deliver_resps == []


async def test_incoming_multipart_is_reassembled(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        peer = smsc.live_peers[0]
        first = await peer.deliver(mo(b"Hello, ", udh=bytes([5, 0, 3, 7, 2, 1])))
        await peer.deliver(mo(b"world", udh=bytes([5, 0, 3, 7, 2, 2])))
        await peer.deliver(mo(b"single"))
        await until(lambda: s.statistics().reports == 2)
        await anyio.sleep(0.05)
        # A held part is answered at once; the completing part with its whole message.
        assert smsc.deliver_resps == [(first, 0)]
        async with s.reports() as stream:
            got = [await stream.receive(), await stream.receive()]
        assert all(isinstance(g, IncomingMessage) for g in got)
        assert [g.text for g in got] == ["Hello, world", "single"]  # type: ignore[union-attr]
        assert got[0].phone == "79990000001"  # type: ignore[union-attr]
        await until(lambda: len(smsc.deliver_resps) == 3)


async def test_full_report_buffer_defers_without_stalling_submits(smsc: FakeSMSC) -> None:
    async with session(smsc, options=SMPPOptions(report_buffer=2)) as s:
        peer = smsc.live_peers[0]
        for i in range(4):
            await peer.deliver(receipt(str(i)))
        await until(lambda: len(smsc.deliver_resps) == 2)
        assert [st for _, st in smsc.deliver_resps] == [CommandStatus.ESME_RX_T_APPN] * 2
        assert s.statistics().reports_deferred == 2
        # Submits are answered while nobody reads the reports.
        assert (await s.send(MSG)).message_id == "1000"
        async with s.reports() as stream:
            assert [(await stream.receive()).message_id for _ in range(2)] == ["0", "1"]  # type: ignore[union-attr]


async def test_throttling_resends_and_slows_down(smsc: FakeSMSC) -> None:
    smsc.throttle = lambda n: n < 3
    async with session(smsc, max_rate=1000, options=SMPPOptions(throttle_pause=0.01)) as s:
        result = await s.send(MSG)
        stats = s.statistics()
    assert result.message_id == "1000"
    assert stats.throttled == 3
    assert stats.submitted == 4
    assert stats.acknowledged == 1
    assert stats.rate is not None and stats.rate < 1000


async def test_throttled_too_often_is_a_definite_error(smsc: FakeSMSC) -> None:
    from smscenter import ThrottledError

    smsc.throttle = lambda n: True
    async with session(
        smsc, max_rate=None, options=SMPPOptions(throttle_pause=0.001, throttle_retries=2)
    ) as s:
        with pytest.raises(ThrottledError):
            await s.send(MSG)
    assert smsc.submit_count == 3


async def test_rate_limit(smsc: FakeSMSC) -> None:
    async with session(smsc, max_rate=50) as s:
        start = anyio.current_time()
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(s.send, MSG)
        elapsed = anyio.current_time() - start
    # burst of 5 tokens, then 50/s: 15 more need at least 0.3 s
    assert elapsed >= 0.28
    assert len(smsc.submits) == 20


async def test_urgent_overtakes_queued_bulk(smsc: FakeSMSC) -> None:
    smsc.hold = True
    async with session(smsc, window=1) as s, anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(s.send, Message(to=f"+7999000000{i}", text="bulk"))
        await until(lambda: len(smsc.submits) == 1 and len(s._queue) == 4)

        async def urgent() -> None:
            await s.send(Message(to="+79997777777", text="urgent"), urgent=True)

        tg.start_soon(urgent)
        await until(lambda: len(s._queue) == 5)
        smsc.hold = False
        smsc.live_peers[0].answer_held()
        await smsc.live_peers[0].flush()
    order = [p.destination_addr for p in smsc.submits]
    # the one already in flight first, then the urgent one ahead of the four queued
    assert order[1] == "79997777777"
    assert sorted(order[:1] + order[2:]) == [f"7999000000{i}" for i in range(5)]


async def test_query_sm(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        result = await s.query("1234")
        assert result.message_id == "1234"
        assert result.status is MessageStatus.DELIVERED
        with pytest.raises(SMPPStatusError) as info:
            await s.query("missing")
        assert info.value.code == CommandStatus.ESME_RQUERYFAIL


async def test_graceful_unbind_waits_for_answers_in_flight(smsc: FakeSMSC) -> None:
    smsc.hold = True
    results = []
    async with anyio.create_task_group() as tg, session(smsc) as s:

        async def one() -> None:
            results.append(await s.send(MSG))

        tg.start_soon(one)
        await until(lambda: len(smsc.submits) == 1)

        async def answer_later() -> None:
            await anyio.sleep(0.1)
            smsc.live_peers[0].answer_held()
            await smsc.live_peers[0].flush()

        tg.start_soon(answer_later)
        # leaving the session waited for the answer, then unbound
    assert [r.message_id for r in results] == ["1000"]
    assert smsc.unbinds == 1


async def test_unbind_wait_is_bounded(smsc: FakeSMSC) -> None:
    smsc.hold = True
    outcome: list[BaseException] = []
    start = anyio.current_time()
    async with (
        anyio.create_task_group() as tg,
        session(smsc, timeouts=Timeouts(5, unbind=0.2)) as s,
    ):

        async def one() -> None:
            try:
                await s.send(MSG)
            except UnknownOutcomeError as exc:
                outcome.append(exc)

        tg.start_soon(one)
        await until(lambda: len(smsc.submits) == 1)
    assert anyio.current_time() - start < 2
    assert len(outcome) == 1


async def test_drop_with_messages_in_flight(smsc: FakeSMSC) -> None:
    smsc.hold = True
    errors: list[BaseException] = []
    async with session(smsc, window=3) as s, anyio.create_task_group() as tg:

        async def one(i: int) -> None:
            try:
                await s.send(Message(to=f"+7999000000{i}", text="x"))
            except Exception as exc:
                errors.append(exc)

        for i in range(5):
            tg.start_soon(one, i)
        await until(lambda: len(smsc.submits) == 3)
        await smsc.live_peers[0].drop()
        await until(lambda: len(errors) == 5)
    # written, never answered: unknown outcome; never written: a definite ConnectionLost
    assert sum(isinstance(e, UnknownOutcomeError) for e in errors) == 3
    assert sum(type(e) is ConnectionLost for e in errors) == 2
    assert isinstance(s.error, ConnectionLost)


async def test_tls_with_verified_certificate() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with FakeSMSC(tls=server_ctx) as server:
        async with SMPPSession("127.0.0.1", server.port, CREDS, tls=client_ctx) as s:
            assert (await s.send(MSG)).message_id == "1000"
        # Verification is on by default: an unknown CA is refused.
        with pytest.raises(ConnectError):
            async with SMPPSession("127.0.0.1", server.port, CREDS, tls=True):
                pass


async def test_long_message_parts_back_to_back(smsc: FakeSMSC) -> None:
    async with session(smsc, window=2) as s:
        result = await s.send(Message(to="+79991234567", text="y" * 400))
    assert result.parts == 3
    assert result.part_ids == ("1000", "1001", "1002")
    udhs = [p.short_message[:6] for p in smsc.submits]
    assert [u[5] for u in udhs] == [1, 2, 3]
    assert len({u[3] for u in udhs}) == 1


async def test_bind_timeout(smsc: FakeSMSC) -> None:
    from smscenter import BindTimeout

    smsc.silent = True
    with pytest.raises(BindTimeout):
        async with session(smsc, timeouts=Timeouts(5, bind=0.2)):
            pass


async def test_server_unbind_ends_the_session(smsc: FakeSMSC) -> None:
    async with session(smsc) as s:
        peer = smsc.live_peers[0]
        peer.conn.send_unbind()
        await peer.flush()
        with anyio.fail_after(3):
            await s.wait_closed()
        assert isinstance(s.error, ConnectionLost)
        assert not s.bound


async def test_incomplete_multipart_is_handed_over_partly_after_the_timeout(
    smsc: FakeSMSC,
) -> None:
    async with session(smsc, timeouts=Timeouts(5, enquire_link=0.05)) as s:
        s._intake.reassembler.timeout = 0.1
        peer = smsc.live_peers[0]
        await peer.deliver(mo(b"first half ", udh=bytes([5, 0, 3, 9, 2, 1])))
        async with s.reports() as stream:
            with anyio.fail_after(3):
                event = await stream.receive()
            assert isinstance(event, IncomingMessage)
            assert event.text == "first half "
            # answered when it was held: nothing is left to acknowledge
            assert [status for _, status in smsc.deliver_resps] == [0]
        await anyio.sleep(0.05)
        assert [status for _, status in smsc.deliver_resps] == [0]
