"""SMPPPool against real TCP SMSCs on 127.0.0.1 (tests/smpp/_fake_smsc.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import anyio.lowlevel
import attrs
import pytest
from _fake_smsc import FakeSMSC, SubmitSm, receipt

import smscenter
from smscenter import (
    AuthenticationError,
    Credentials,
    DeliveryReport,
    Limits,
    Message,
    MessageKind,
    PoolTimeout,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp import SendOutcome, SMPPStatistics
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.constants import CommandStatus

CREDS = Credentials("acme", "secret")
FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)
NO_RATE = Limits(max_rate=None)


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as server:
        yield server


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling server-side state, bounded
            await anyio.sleep(0.002)


def pool(smsc: FakeSMSC, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", NO_RATE)
    kwargs.setdefault("reconnect", FAST)
    kwargs.setdefault("timeouts", Timeouts(5))
    return SMPPPool("127.0.0.1", smsc.port, CREDS, **kwargs)  # type: ignore[arg-type]


def messages(n: int, counter: list[int] | None = None) -> Iterator[Message]:
    for i in range(n):
        if counter is not None:
            counter[0] += 1
        yield Message(to=f"+7999{i:07d}", text="bulk")


async def test_public_names() -> None:
    assert smscenter.SMPPPool is SMPPPool


async def test_mcon_set_for_several_binds(smsc: FakeSMSC) -> None:
    async with pool(smsc, system_type="ISO", limits=Limits(max_rate=None, connections=3)) as p:
        await until(lambda: p.statistics().binds_up == 3)
        assert p.system_type.connections == 3
    assert sorted(b[2] for b in smsc.binds) == ["MCON3,ISO"] * 3


async def test_single_bind_has_no_mcon(smsc: FakeSMSC) -> None:
    async with pool(smsc) as p:
        assert (await p.send(Message(to="+79991234567", text="hi"))).message_id == "1000"
    assert smsc.binds[0][2] == ""


async def test_least_loaded_dispatch(smsc: FakeSMSC) -> None:
    smsc.hold = True
    seen: dict[int, int] = {}
    smsc.on_submit = lambda peer, pdu: seen.__setitem__(id(peer), seen.get(id(peer), 0) + 1)
    async with pool(smsc, limits=Limits(max_rate=None, connections=2, window=5)) as p:
        await until(lambda: p.statistics().binds_up == 2)
        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(p.send, Message(to=f"+7999000000{i}", text="x"))
            await until(lambda: len(smsc.submits) == 10)
            assert sorted(seen.values()) == [5, 5]
            stats = p.statistics()
            assert stats.in_flight == 10
            smsc.hold = False
            for peer in smsc.live_peers:
                peer.answer_held()
                await peer.flush()


async def test_long_message_parts_stay_on_one_bind_back_to_back(smsc: FakeSMSC) -> None:
    order: list[tuple[int, bytes]] = []
    smsc.on_submit = lambda peer, pdu: order.append((id(peer), pdu.short_message[:6]))
    async with pool(smsc, limits=Limits(max_rate=None, connections=2, window=10)) as p:
        await until(lambda: p.statistics().binds_up == 2)
        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(p.send, Message(to=f"+7999000000{i}", text=f"{i}" * 400))
    assert len(order) == 18
    by_ref: dict[int, list[int]] = {}
    for peer, udh in order:
        by_ref.setdefault(udh[3], []).append(peer)
    assert all(len(set(peers)) == 1 and len(peers) == 3 for peers in by_ref.values())
    # back to back on each bind: parts 1, 2, 3 of one message are consecutive
    for peer in {peer for peer, _ in order}:
        seqs = [udh[5] for pid, udh in order if pid == peer]
        assert seqs == [1, 2, 3] * (len(seqs) // 3)


async def test_send_refuses_several_recipients(smsc: FakeSMSC) -> None:
    async with pool(smsc) as p:
        with pytest.raises(ValueError, match="send_many"):
            await p.send(Message(to=["+79990000001", "+79990000002"], text="x"))


async def test_send_many_outcomes_per_recipient_and_errors_as_values(smsc: FakeSMSC) -> None:
    smsc.reject = lambda pdu: (
        CommandStatus.ESME_RINVDSTADR if pdu.destination_addr == "79990000666" else 0
    )
    inputs = [
        Message(to=["+79990000001", "+79990000002"], text="two"),
        Message(to="+79990000666", text="refused"),
        Message(to="+79990000003", text="mms", kind=MessageKind.MMS, subject="s"),
        Message(to="+79990000004", text="ok"),
    ]
    async with pool(smsc) as p:
        outcomes = [o async for o in p.send_many(inputs)]
    assert len(outcomes) == 5
    by = {(o.index, o.recipient): o for o in outcomes}
    assert by[(0, "+79990000001")].ok and by[(0, "+79990000002")].ok
    assert by[(1, "+79990000666")].error is not None
    assert isinstance(by[(1, "+79990000666")].error, smscenter.InvalidRecipientError)
    assert isinstance(by[(2, "+79990000003")].error, ValueError)
    assert by[(3, "+79990000004")].message_id is not None


@pytest.mark.parametrize("asynchronous", [False, True], ids=["iterable", "async-iterable"])
async def test_send_many_is_lazy(smsc: FakeSMSC, asynchronous: bool) -> None:
    # (An async source is handed over before each wait for it: the read-ahead bounds what is
    # taken all the same, a pass does not read on past its room.)
    smsc.hold = True
    consumed = [0]

    async def async_source() -> AsyncIterator[Message]:
        for message in messages(1000, consumed):
            await anyio.lowlevel.checkpoint()
            yield message

    source = async_source() if asynchronous else messages(1000, consumed)
    got: list[SendOutcome] = []
    async with pool(smsc, limits=Limits(max_rate=None, window=5)) as p:
        async with anyio.create_task_group() as tg:

            async def consume() -> None:
                async for outcome in p.send_many(source, read_ahead=20):
                    got.append(outcome)

            tg.start_soon(consume)
            await until(lambda: len(smsc.submits) == 5)
            await anyio.sleep(0.05)
            assert consumed[0] <= 21  # bounded read-ahead, not the whole input
            smsc.hold = False
            smsc.live_peers[0].answer_held()
            await smsc.live_peers[0].flush()
        assert consumed[0] == 1000
        assert len(got) == 1000 and all(o.ok for o in got)
        assert sorted(o.index for o in got) == list(range(1000))


async def test_a_large_read_ahead_is_handed_over_in_passes(smsc: FakeSMSC) -> None:
    # Quirk: a read-ahead of thousands (a store's default is 12,000 or more) used to be built
    # in one synchronous pass: no other task ran (keepalives, receipts, a web app's handlers)
    # and nothing was sent until all of it was built. Now a pass builds at most HAND_OVER jobs,
    # hands them to the binds and lets the event loop run before the next.
    from smscenter.smpp.client._bulk import HAND_OVER

    passes = 10
    total = passes * HAND_OVER
    ticks = [0]
    seen: list[tuple[int, int]] = []  # (messages pulled, ticks then), at each pass boundary
    first_submit_at: list[int] = []
    consumed = [0]

    def source() -> Iterator[Message]:
        for message in messages(total, consumed):
            if consumed[0] % HAND_OVER == 1:
                seen.append((consumed[0], ticks[0]))
            if smsc.submits and not first_submit_at:
                first_submit_at.append(consumed[0])
            yield message

    async def ticker() -> None:
        while True:
            ticks[0] += 1
            await anyio.lowlevel.checkpoint()

    async with (
        pool(smsc, limits=Limits(max_rate=None, window=50)) as p,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(ticker)
        outcomes = [o async for o in p.send_many(source(), read_ahead=total)]
        tg.cancel_scope.cancel()
    assert len(outcomes) == total and all(o.ok for o in outcomes)
    # Other tasks ran between passes: the ticker moved on from one pass to the next...
    assert len(seen) == passes and all(b[1] > a[1] for a, b in zip(seen, seen[1:], strict=False))
    # ...and the SMSC had the first message before the whole read-ahead was built (a few
    # turns of the event loop after the first pass: the bind writes, the SMSC reads).
    assert first_submit_at and first_submit_at[0] <= total - 2 * HAND_OVER


async def test_send_many_async_iterable(smsc: FakeSMSC) -> None:
    async def source() -> AsyncIterator[Message]:
        for message in messages(50):
            await anyio.lowlevel.checkpoint()
            yield message

    async with pool(smsc, limits=Limits(max_rate=None, window=7)) as p:
        outcomes = [o async for o in p.send_many(source())]
    assert len(outcomes) == 50 and all(o.ok for o in outcomes)


async def test_a_slow_async_source_is_not_held_back(smsc: FakeSMSC) -> None:
    # The source produces each message only once the SMSC has the previous one: send_many must
    # send what it has before waiting for more (not fill a batch of its read-ahead first).
    async def source() -> AsyncIterator[Message]:
        for n, message in enumerate(messages(5)):
            if n:
                with anyio.fail_after(5):
                    await until(lambda n=n: len(smsc.submits) >= n)  # type: ignore[misc]
            yield message

    async with pool(smsc, limits=Limits(max_rate=None, window=50)) as p:
        outcomes = [o async for o in p.send_many(source())]
    assert sorted(o.index for o in outcomes) == [0, 1, 2, 3, 4] and all(o.ok for o in outcomes)


async def test_leaving_send_many_early_withdraws_the_rest(smsc: FakeSMSC) -> None:
    smsc.hold = True
    async with pool(smsc, limits=Limits(max_rate=None, window=2)) as p:
        async with anyio.create_task_group() as tg:

            async def answer_soon() -> None:
                await until(lambda: len(smsc.submits) == 2)
                smsc.live_peers[0].answer_held()
                await smsc.live_peers[0].flush()

            tg.start_soon(answer_soon)
            async with contextlib.aclosing(p.send_many(messages(100), read_ahead=50)) as it:
                async for _ in it:
                    break
        assert p.statistics().queued == 0
        await anyio.sleep(0.05)
        submitted = len(smsc.submits)
        # (what is still held answered: closing need not wait for it until the timeout)
        smsc.live_peers[0].answer_held()
        await smsc.live_peers[0].flush()
    assert submitted <= 4


async def test_statistics_and_repr(smsc: FakeSMSC) -> None:
    smsc.throttle = lambda n: n == 0
    smsc.reject = lambda pdu: 0x45 if pdu.destination_addr.endswith("9") else 0
    async with pool(
        smsc,
        limits=Limits(max_rate=None, connections=2, window=8),
        options=SMPPOptions(throttle_pause=0.01),
    ) as p:
        await until(lambda: p.statistics().binds_up == 2)
        outcomes = [o async for o in p.send_many(messages(10))]
        stats = p.statistics()
        text = repr(p)
    assert isinstance(stats, SMPPStatistics)
    assert sum(o.ok for o in outcomes) == 9
    assert stats.submitted == 11
    assert stats.acknowledged == 9
    assert stats.rejected == 1
    assert stats.throttled == 1
    assert stats.in_flight == 0
    assert stats.binds_up == 2 and stats.binds == 2
    with pytest.raises(AttributeError):
        stats.submitted = 0  # type: ignore[misc]
    assert text.startswith(f"<SMPPPool 127.0.0.1:{smsc.port} open binds=2/2 window=8")
    assert "submitted=11 acknowledged=9 rejected=1" in text
    assert "secret" not in text
    assert "closed binds=0/2" in repr(p)


async def test_merged_reports_from_every_bind(smsc: FakeSMSC) -> None:
    async with pool(smsc, limits=Limits(max_rate=None, connections=2)) as p:
        await until(lambda: p.statistics().binds_up == 2)
        for i, peer in enumerate(smsc.live_peers):
            await peer.deliver(receipt(f"{i}"))
        got = []
        async with p.reports() as stream:
            async for event in stream:
                assert isinstance(event, DeliveryReport)
                got.append(event.message_id)
                if len(got) == 2:
                    break
        assert sorted(got) == ["0", "1"]
        await until(lambda: len(smsc.deliver_resps) == 2)


async def test_reports_stream_ends_when_the_pool_closes(smsc: FakeSMSC) -> None:
    got: list[object] = []
    async with anyio.create_task_group() as tg, pool(smsc) as p:

        async def consume() -> None:
            async with p.reports() as stream:
                async for event in stream:
                    got.append(event)

        tg.start_soon(consume)
        await smsc.live_peers[0].deliver(receipt("5"))
        await until(lambda: len(got) == 1)
    assert len(got) == 1


async def test_wrong_password_fails_entering_at_once(smsc: FakeSMSC) -> None:
    smsc.refuse = CommandStatus.ESME_RINVPASWD
    with anyio.fail_after(2), pytest.raises(AuthenticationError):
        async with pool(smsc, limits=Limits(max_rate=None, connections=2)):
            pass
    assert smsc.bind_attempts == 2


async def test_refusals_past_the_startup_deadline_fail_entering(smsc: FakeSMSC) -> None:
    smsc.refuse = CommandStatus.ESME_RBINDFAIL
    with pytest.raises(AuthenticationError) as info:
        async with pool(smsc, timeouts=Timeouts(0.1)):
            pass
    assert info.value.code == CommandStatus.ESME_RBINDFAIL
    assert 1 < smsc.bind_attempts < 20  # retried with backoff meanwhile, not hammered


async def test_reconnects_after_a_drop(smsc: FakeSMSC) -> None:
    async with pool(smsc) as p:
        await p.send(Message(to="+79991234567", text="a"))
        await smsc.live_peers[0].drop()
        await until(lambda: p.statistics().reconnects == 1 and p.statistics().binds_up == 1)
        assert len(smsc.binds) == 2
        assert (await p.send(Message(to="+79991234567", text="b"))).message_id == "1001"


async def test_bind_refused_for_a_while(smsc: FakeSMSC) -> None:
    async with pool(smsc, timeouts=Timeouts(5, pool=5)) as p:
        smsc.refuse = CommandStatus.ESME_RALYBND
        await smsc.live_peers[0].drop()
        await until(lambda: p.statistics().binds_up == 0)
        async with anyio.create_task_group() as tg:
            result: list[str] = []

            async def send() -> None:
                result.append((await p.send(Message(to="+79991234567", text="w"))).message_id)

            tg.start_soon(send)
            await until(lambda: smsc.bind_attempts >= 3)
            attempts = smsc.bind_attempts
            await anyio.sleep(0.1)
            # refused: the pause is at least ReconnectPolicy.refused (50 ms), no hammering
            assert smsc.bind_attempts - attempts <= 3
            assert p.statistics().queued == 1
            smsc.refuse = None
        assert result == ["1000"]


async def test_pool_timeout_while_no_bind_is_up(smsc: FakeSMSC) -> None:
    async with pool(smsc, timeouts=Timeouts(5, pool=0.2)) as p:
        smsc.refuse = CommandStatus.ESME_RBINDFAIL
        await smsc.live_peers[0].drop()
        await until(lambda: p.statistics().binds_up == 0)
        with pytest.raises(PoolTimeout):
            await p.send(Message(to="+79991234567", text="w"))
        assert p.statistics().queued == 0


async def test_backup_host_takes_over() -> None:
    async with FakeSMSC() as dead:
        dead_port = dead.port
    async with FakeSMSC() as backup:
        async with SMPPPool(
            "127.0.0.1",
            dead_port,
            CREDS,
            backup_hosts=[("127.0.0.1", backup.port)],
            limits=NO_RATE,
            reconnect=FAST,
        ) as p:
            assert (await p.send(Message(to="+79991234567", text="b"))).message_id == "1000"
        assert len(backup.binds) == 1


async def test_backup_used_when_primary_refuses_the_bind(smsc: FakeSMSC) -> None:
    smsc.refuse = CommandStatus.ESME_RBINDFAIL
    async with FakeSMSC() as backup:
        async with pool(smsc, backup_hosts=[("127.0.0.1", backup.port)]) as p:
            await p.send(Message(to="+79991234567", text="b"))
        assert smsc.bind_attempts == 1
        assert len(backup.submits) == 1


async def _drop_with_five_in_flight(smsc: FakeSMSC, p: SMPPPool) -> list[SendOutcome]:
    """send_many of 20 (window 5): the link drops while the first five wait unanswered."""
    smsc.hold = True
    outcomes: list[SendOutcome] = []
    async with anyio.create_task_group() as tg:

        async def run() -> None:
            async for outcome in p.send_many(messages(20)):
                outcomes.append(outcome)

        tg.start_soon(run)
        await until(lambda: len(smsc.submits) == 5)
        smsc.hold = False
        await smsc.live_peers[0].drop()
    return outcomes


async def test_drop_with_messages_in_flight_reports_unknown_outcome(smsc: FakeSMSC) -> None:
    async with pool(smsc, limits=Limits(max_rate=None, window=5)) as p:
        outcomes = await _drop_with_five_in_flight(smsc, p)
        assert len(outcomes) == 20
        unknown = [o for o in outcomes if isinstance(o.error, UnknownOutcomeError)]
        assert len(unknown) == 5  # written, never answered: not silently resent
        assert all(o.ok for o in outcomes if o not in unknown)  # the rest went via the rebind
        assert p.statistics().unknown == 5


async def test_resend_unknown_is_an_explicit_option(smsc: FakeSMSC) -> None:
    async with pool(
        smsc, limits=Limits(max_rate=None, window=5), options=SMPPOptions(resend_unknown=True)
    ) as p:
        outcomes = await _drop_with_five_in_flight(smsc, p)
    assert len(outcomes) == 20 and all(o.ok for o in outcomes)
    assert len(smsc.submits) == 25  # the five unanswered ones went out twice


async def test_every_message_ends_when_binds_keep_dropping(smsc: FakeSMSC) -> None:
    smsc.drop_after = 150
    total = 2000

    def drop_again(peer: object, pdu: SubmitSm) -> None:
        if smsc.submit_count % 300 == 0:
            smsc.drop_after = smsc.submit_count + 150

    smsc.on_submit = drop_again
    async with pool(smsc, limits=Limits(max_rate=None, connections=2, window=50)) as p:
        outcomes = [o async for o in p.send_many(messages(total))]
        stats = p.statistics()
    assert sorted(o.index for o in outcomes) == list(range(total))
    for o in outcomes:
        assert o.ok or isinstance(o.error, UnknownOutcomeError | smscenter.ConnectionLost)
    assert stats.reconnects >= 1
    assert sum(o.ok for o in outcomes) >= total - stats.unknown


async def test_throttled_submits_are_resent_and_none_is_lost(smsc: FakeSMSC) -> None:
    # Every odd submit is throttled unless it is a resend: half of the first windows, and never
    # one message twice (a parity rule on all submits could keep one message on the odd counts
    # while two binds ran in step, until its throttle_retries ran out).
    seen: set[str] = set()
    refused = [0]

    def odd_first_submits_throttled(pdu: SubmitSm) -> int:
        first = pdu.destination_addr not in seen
        seen.add(pdu.destination_addr)
        if not first or smsc.submit_count % 2 == 1:  # (counted already: this one was even)
            return 0
        refused[0] += 1
        return CommandStatus.ESME_RTHROTTLED

    smsc.reject = odd_first_submits_throttled
    async with pool(
        smsc,
        limits=Limits(max_rate=None, connections=2, window=20),
        timeouts=Timeouts(30),  # (a loaded machine may take seconds: no PoolTimeout then)
        options=SMPPOptions(throttle_pause=0.002),
    ) as p:
        outcomes = [o async for o in p.send_many(messages(300))]
        stats = p.statistics()
    assert len(outcomes) == 300 and all(o.ok for o in outcomes)
    assert len(smsc.submits) == 300 and stats.acknowledged == 300
    assert refused[0] >= 20 and stats.throttled == refused[0]


async def test_a_strict_smsc_refusing_a_whole_burst_does_not_starve_it(smsc: FakeSMSC) -> None:
    # Quirk: a strict per-second limit with no burst refuses everything two binds write at
    # once. Those refusals come within milliseconds and say nothing of the per-second limit;
    # following "sent minus refused" down left the pool resending at 1 message a second.
    smsc.throttle = lambda n: n < 40
    async with pool(
        smsc,
        limits=Limits(max_rate=None, connections=2, window=20),
        timeouts=Timeouts(30),
        options=SMPPOptions(throttle_pause=0.002),
    ) as p:
        await until(lambda: p.statistics().binds_up == 2)
        outcomes = [o async for o in p.send_many(messages(40))]
        stats = p.statistics()
    assert len(outcomes) == 40 and all(o.ok for o in outcomes) and len(smsc.submits) == 40
    assert stats.throttled == 40
    assert stats.rate is not None and stats.rate >= 10, stats.rate


async def test_rate_limit_is_shared_by_all_binds(smsc: FakeSMSC) -> None:
    async with pool(smsc, limits=Limits(max_rate=100, connections=3)) as p:
        await until(lambda: p.statistics().binds_up == 3)
        start = anyio.current_time()
        outcomes = [o async for o in p.send_many(messages(60))]
        elapsed = anyio.current_time() - start
    assert all(o.ok for o in outcomes)
    assert elapsed >= 0.45  # 10 burst tokens, then 50 more at 100/s


async def test_query_through_the_pool(smsc: FakeSMSC) -> None:
    async with pool(smsc) as p:
        result = await p.query("42")
    assert result.message_id == "42"


async def test_cannot_use_a_closed_pool(smsc: FakeSMSC) -> None:
    async with pool(smsc) as p:
        pass
    with pytest.raises(RuntimeError):
        await p.send(Message(to="+79991234567", text="late"))


async def test_nothing_listening_fails_entering_without_waiting_for_the_deadline() -> None:
    async with FakeSMSC() as gone:
        port = gone.port
    start = anyio.current_time()
    with pytest.raises(smscenter.ConnectError):
        async with SMPPPool("127.0.0.1", port, CREDS, backup_hosts=[("127.0.0.1", port)]):
            pass
    assert anyio.current_time() - start < 2


async def test_unbound_by_the_smsc_comes_back_only_after_the_refusal_pause(smsc: FakeSMSC) -> None:
    policy = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.3)
    async with pool(smsc, reconnect=policy) as p:
        peer = smsc.live_peers[0]
        peer.conn.send_unbind()
        await peer.flush()
        await until(lambda: p.statistics().binds_up == 0)
        start = anyio.current_time()
        await until(lambda: p.statistics().binds_up == 1)
        assert anyio.current_time() - start >= 0.25
        assert len(smsc.binds) == 2


async def test_cancelled_send_leaves_nothing_queued(smsc: FakeSMSC) -> None:
    smsc.hold = True
    async with (
        pool(smsc, limits=Limits(max_rate=None, window=1)) as p,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(p.send, Message(to="+79991234567", text="first"))
        await until(lambda: len(smsc.submits) == 1)
        with anyio.move_on_after(0.05):
            await p.send(Message(to="+79990000000", text="given up"))
        assert p.statistics().queued == 0
        smsc.hold = False
        smsc.live_peers[0].answer_held()
        await smsc.live_peers[0].flush()
    assert [s.destination_addr for s in smsc.submits] == ["79991234567"]


async def test_pool_over_tls() -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    async with FakeSMSC(tls=server_ctx) as server:
        async with SMPPPool(
            "127.0.0.1",
            server.port,
            CREDS,
            tls=client_ctx,
            limits=attrs.evolve(NO_RATE, connections=2),
        ) as p:
            await until(lambda: p.statistics().binds_up == 2)
            outcomes = [o async for o in p.send_many(messages(20))]
        assert all(o.ok for o in outcomes)
        assert [b[2] for b in server.binds] == ["MCON2", "MCON2"]


async def test_rate_limited_send_many_reads_ahead_only_what_the_rate_drains(
    smsc: FakeSMSC,
) -> None:
    consumed = [0]
    async with pool(smsc, limits=Limits(max_rate=200), timeouts=Timeouts(5, pool=0.4)) as p:
        outcomes = []
        async for outcome in p.send_many(messages(150, consumed)):
            outcomes.append(outcome)
            # 200/s x 0.4 s / 4 = 20 messages held at most
            assert consumed[0] - len(outcomes) <= 20
    assert len(outcomes) == 150 and all(o.ok for o in outcomes)  # none timed out in the queue
