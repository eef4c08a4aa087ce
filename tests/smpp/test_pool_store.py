"""SMPPPool(..., store=SQLiteStore(...)) against the simulator on a real socket: sends recorded
before they go out and settled before their outcome is yielded, resume without double sends,
receipts recorded before they are acknowledged, and a store that fails."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest
from _early_receipt_smsc import EarlyReceiptSMSC
from _store_watch import Watched

from smscenter import Credentials, Limits, Message, Timeouts
from smscenter.config import ReconnectPolicy, SMPPOptions
from smscenter.exceptions import UnknownOutcomeError, ValidationError
from smscenter.models import DeliveryReport
from smscenter.smpp.client._settle_hold import HeldSettlements
from smscenter.smpp.client.pool import SMPPPool
from smscenter.store import PlannedSend, RedisStore, StoreError, TrackedState
from smscenter.store.sqlite import SQLiteStore
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=1, balance=100_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "messages.db") as opened:
        yield opened


async def until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling simulator state, bounded
            await anyio.sleep(0.005)


def pool(sim: SMSCSimulator, store: object, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", Limits(max_rate=None, window=50))
    kwargs.setdefault("reconnect", FAST)
    kwargs.setdefault("timeouts", Timeouts(5))
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        store=store,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def messages(n: int, start: int = 0) -> Iterator[Message]:
    for i in range(start, start + n):
        yield Message(to=f"+7999{i:07d}", text=f"Sale {i}", sender="Shop", client_id=f"c{i}")


async def test_send_many_records_before_sending_and_yields_after_settling(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)
    submits_at_prepare: list[tuple[int, int]] = []
    prepared = 0

    def on_prepare(sends: object) -> None:
        # Nothing of a batch may be on the wire before it is recorded: the SMSC has seen at
        # most what earlier batches held.
        submits_at_prepare.append((sim.smpp.counters.submits, prepared))

    watched.on_prepare = on_prepare
    n, read_ahead = 600, 100
    async with pool(sim, watched) as p:
        outcomes = []
        async for outcome in p.send_many(messages(n), read_ahead=read_ahead):
            assert outcome.ok, outcome.error
            # Yielded only once its settlement is in the store.
            assert str(outcome.message.client_id) in watched.settled
            record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
            assert record.state is TrackedState.ACCEPTED
            assert record.message_id == outcome.message_id
            outcomes.append(outcome)
            prepared = sum(map(len, watched.prepares))
    assert len(outcomes) == n
    for submits, before in submits_at_prepare:
        assert submits <= before
    # One store call per batch read ahead, not per message.
    assert sum(map(len, watched.prepares)) == n
    assert len(watched.prepares) < n // 10
    assert len(watched.settles) < n // 2
    counts = await store.counts()
    assert counts[TrackedState.ACCEPTED] == n


async def test_resume_sends_nothing_twice(sim: SMSCSimulator, tmp_path: Path) -> None:
    path = tmp_path / "campaign.db"
    async with SQLiteStore(path) as store, pool(sim, store) as p:
        first = {o.message.client_id: o.message_id async for o in p.send_many(messages(150))}
    assert len(sim.sent) == 150
    # A new process: the same file, the whole campaign again.
    async with SQLiteStore(path) as store, pool(sim, store) as p:
        outcomes = [o async for o in p.send_many(messages(400))]
    assert len(sim.sent) == 400  # the first 150 were not sent again
    assert len({m.phone for m in sim.sent}) == 400
    assert len(outcomes) == 400 and all(o.ok for o in outcomes)
    resumed = [o for o in outcomes if o.tracked is not None]
    assert len(resumed) == 150
    for outcome in resumed:
        assert outcome.message_id == first[outcome.message.client_id]
        assert outcome.result is not None
        assert outcome.result.client_id == outcome.message.client_id
    assert all(o.tracked is None for o in outcomes if o.message.client_id not in first)


async def test_unknown_is_reported_not_resent_unless_asked(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    batch = list(messages(5))
    sim.behaviour.smpp.swallow_submits = True
    async with pool(sim, store, timeouts=Timeouts(5, response=0.3)) as p:
        outcomes = [o async for o in p.send_many(batch)]
    assert all(isinstance(o.error, UnknownOutcomeError) for o in outcomes)
    for message in batch:
        assert (await store.get(message.client_id)).state is TrackedState.UNKNOWN  # type: ignore[arg-type]
    sim.behaviour.smpp.swallow_submits = False
    submits = sim.smpp.counters.submits
    async with pool(sim, store) as p:
        again = [o async for o in p.send_many(batch)]
        assert sim.smpp.counters.submits == submits  # reported, not sent
        assert all(isinstance(o.error, UnknownOutcomeError) for o in again)
        assert all(o.tracked is not None for o in again)
        assert all(o.tracked.state is TrackedState.UNKNOWN for o in again if o.tracked)
        with pytest.raises(UnknownOutcomeError, match="resend_unknown"):
            await p.send(batch[0])
        resent = [o async for o in p.send_many(batch, resend_unknown=True)]
    assert sim.smpp.counters.submits == submits + 5
    assert all(o.ok and o.tracked is None for o in resent)
    for message in batch:
        record = await store.get(message.client_id)  # type: ignore[arg-type]
        assert record.state is TrackedState.ACCEPTED
        assert record.attempts == 2


async def test_messages_a_store_cannot_track_are_refused_before_sending(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    no_id = Message(to="+79990000001", text="hi")
    two = Message(to=("+79990000002", "+79990000003"), text="hi", client_id="two")
    async with pool(sim, store) as p:
        with pytest.raises(ValidationError, match="client_id"):
            await p.send(no_id)
        outcomes = [o async for o in p.send_many([no_id, two, *messages(2)])]
    assert sim.smpp.counters.submits == 2
    bad = [o for o in outcomes if not o.ok]
    assert len(bad) == 3 and all(isinstance(o.error, ValidationError) for o in bad)
    assert {o.index for o in bad} == {0, 1}
    assert (await store.counts()).get(TrackedState.ACCEPTED) == 2


async def test_pool_send_settles_before_returning_and_is_idempotent(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    message = Message(to="+79991234567", text="Order shipped", client_id=77)
    async with pool(sim, store) as p:
        result = await p.send(message)
        record = await store.get(77)
        assert record.state is TrackedState.ACCEPTED
        assert record.message_id == result.message_id
        assert sim.smpp.counters.submits == 1
        again = await p.send(message)  # accepted before: its ids, no second submit
        assert sim.smpp.counters.submits == 1
        assert again.message_id == result.message_id and again.client_id == 77


async def test_a_store_that_cannot_record_stops_the_send(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)
    watched.fail_prepare = -1
    async with pool(sim, watched) as p:
        with pytest.raises(StoreError):
            await p.send(Message(to="+79990000001", text="x", client_id="one"))
        with pytest.raises(StoreError):
            async for _ in p.send_many(messages(20)):
                pass
    assert sim.smpp.counters.submits == 0


async def test_a_settlement_the_store_cannot_record_says_so(
    sim: SMSCSimulator, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No room to keep it for a retry (test_pool_store_hold.py: kept and retried): it says so.
    monkeypatch.setattr(HeldSettlements, "CAPACITY", 0)
    watched = Watched(store)
    watched.fail_settle = 1
    async with pool(sim, watched) as p:
        with pytest.raises(StoreError, match="accepted as"):
            await p.send(Message(to="+79990000001", text="x", client_id="one"))
        # Still 'sending' in the store: a later run reports it, it does not send it twice.
        assert (await store.get("one")).state is TrackedState.SENDING
        assert p.statistics().store_errors == 1


async def test_receipts_are_recorded_then_acknowledged_without_a_reader(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)
    acked_at_record: list[int] = []
    watched.on_record = lambda reports: acked_at_record.append(sim.smpp.counters.receipts_acked)
    n = 40
    async with pool(sim, watched, options=SMPPOptions(report_buffer=5)) as p:
        async for outcome in p.send_many(messages(n)):
            assert outcome.ok
        sim.advance(10)
        # Nobody reads the stream: the receipts are acknowledged once recorded all the same.
        await until(lambda: sim.smpp.counters.receipts_acked == n)
        assert p.statistics().reports_recorded == n
        # The stream is a bounded live view: what it holds is the first copies, acknowledged.
        got = []
        async with p.reports() as stream:
            with anyio.move_on_after(0.2):
                async for event in stream:
                    got.append(event)
        assert 1 <= len(got) <= 5 and all(isinstance(e, DeliveryReport) for e in got)
    # Recorded before acknowledged: no batch saw its own receipts acknowledged.
    total = 0
    for acked, size in zip(acked_at_record, watched.records, strict=True):
        assert acked <= total
        total += size
    for message in messages(n):
        record = await store.get(message.client_id)  # type: ignore[arg-type]
        assert record.state is TrackedState.DELIVERED
        assert len(record.reports) == 1


async def test_receipts_of_two_binds_recorded_together_are_each_answered_on_their_bind(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    # The simulator hands receipts to the login's binds round robin, so one recorded batch
    # holds receipts of both: each deliver_sm_resp must go back on the bind that got it.
    n = 60
    async with pool(sim, store, limits=Limits(max_rate=None, connections=2, window=50)) as p:
        async for outcome in p.send_many(messages(n)):
            assert outcome.ok
        assert len(sim.smpp.sessions()) == 2
        sim.advance(10)
        await until(lambda: sim.smpp.counters.receipts_acked == n)
        assert p.statistics().reports_recorded == n
        assert p.statistics().reports_deferred == 0
    for message in messages(n):
        record = await store.get(message.client_id)  # type: ignore[arg-type]
        assert record.state is TrackedState.DELIVERED


async def test_receipts_the_store_fails_on_are_not_acknowledged(
    sim: SMSCSimulator, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    watched = Watched(store)
    async with pool(sim, watched) as p:
        result = await p.send(Message(to="+79990000001", text="x", client_id="r1"))
        watched.fail_record = 3
        sim.advance(10)
        await until(lambda: p.statistics().store_errors >= 3)
        assert sim.smpp.counters.receipts_acked == 0  # answered "try later": redelivered
        await until(lambda: sim.smpp.counters.receipts_acked == 1)
        assert p.statistics().reports_recorded == 1
    record = await store.get("r1")
    assert record.state is TrackedState.DELIVERED
    assert record.message_id == result.message_id
    assert "not acknowledged" in caplog.text


async def test_a_full_recorder_answers_try_later(sim: SMSCSimulator, store: SQLiteStore) -> None:
    watched = Watched(store)
    watched.gate_record = anyio.Event()
    n = 30
    async with pool(sim, watched, options=SMPPOptions(report_buffer=4)) as p:
        async for outcome in p.send_many(messages(n)):
            assert outcome.ok
        sim.advance(10)
        await until(lambda: p.statistics().reports_deferred > 0)
        assert sim.smpp.counters.receipts_acked == 0
        watched.gate_record.set()
        await until(lambda: sim.smpp.counters.receipts_acked == n)
    counts = await store.counts()
    assert counts[TrackedState.DELIVERED] == n
    assert sum(watched.records) == n  # each recorded once: the deferred ones came again


# --- receipts that race their answers (a quirky SMSC on a real socket) -----------------------


async def test_receipts_before_their_answers_and_repeated_land_once(
    store: SQLiteStore,
) -> None:
    n = 25
    async with (
        EarlyReceiptSMSC(duplicates=2) as smsc,
        SMPPPool(
            "127.0.0.1",
            smsc.port,
            Credentials("acme", "secret"),
            limits=Limits(max_rate=None, window=10),
            timeouts=Timeouts(5),
            store=store,
        ) as p,
    ):
        outcomes = [o async for o in p.send_many(messages(n))]
        assert all(o.ok for o in outcomes)
        # Every copy is acknowledged once the store has it (a repeat changes nothing there).
        await until(lambda: smsc.receipts_acked == 2 * n)
    for outcome in outcomes:
        record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
        assert record.message_id == outcome.message_id
        assert record.state is TrackedState.DELIVERED
        assert len(record.reports) == 1  # the repeat added no history entry


async def test_a_receipt_for_an_id_not_known_yet_is_kept_and_matched(
    store: SQLiteStore,
) -> None:
    async with (
        EarlyReceiptSMSC() as smsc,
        SMPPPool(
            "127.0.0.1",
            smsc.port,
            Credentials("acme", "secret"),
            limits=Limits(max_rate=None),
            timeouts=Timeouts(5),
            store=store,
        ) as p,
    ):
        await until(lambda: bool(smsc.live_peers))
        early = await smsc.receipt_ahead()
        # Recorded (kept unmatched) and acknowledged before any send knows that id.
        await until(lambda: smsc.receipts_acked == 1)
        assert await store.find(early) is None
        result = await p.send(Message(to="+79990000001", text="x", client_id="late"))
        assert result.message_id == early
    record = await store.get("late")
    assert record.state is TrackedState.DELIVERED
    assert [r.message_id for r in record.reports] == [early]


async def test_leaving_send_many_early_leaves_no_record_sending(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    n = 300
    async with (
        # Paced at 20/s: most of what was read ahead is still queued when the loop leaves.
        pool(sim, store, limits=Limits(max_rate=20, window=5)) as p,
        aclosing(p.send_many(messages(n), read_ahead=100)) as outcomes,
    ):
        async for outcome in outcomes:
            assert outcome.ok
            break
    # Claimed but never written: failed (safe to send again); written: settled on the bind.
    counts = await store.counts()
    assert TrackedState.SENDING not in counts
    assert counts.get(TrackedState.FAILED, 0) > 0
    assert counts.get(TrackedState.ACCEPTED, 0) == len(sim.sent)
    assert sum(counts.values()) <= 100 + 5


async def test_incoming_messages_still_reach_a_stream_full_of_receipt_copies(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    async with pool(sim, store, options=SMPPOptions(report_buffer=3)) as p:
        async for outcome in p.send_many(messages(6)):
            assert outcome.ok
        sim.advance(10)
        await until(lambda: sim.smpp.counters.receipts_acked == 6)
        assert p.statistics().reports == 6
        sim.inject_incoming("+79990001122", "STOP")
        # Taken at once, before anyone reads: the oldest copies made room for it.
        await until(lambda: p.statistics().reports == 7, limit=3)
        texts = []
        async with p.reports() as stream:
            async for event in stream:
                if not isinstance(event, DeliveryReport):
                    texts.append(event.text)
                    break
        assert texts == ["STOP"]
        await until(lambda: sim.smpp.counters.incoming_acked == 1)


async def test_an_async_source_is_claimed_as_it_comes(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    watched = Watched(store)

    claimed = [0]
    enough: list[tuple[int, anyio.Event]] = []

    def count(sends: Sequence[PlannedSend]) -> None:
        claimed[0] += len(sends)
        for target, event in enough:
            if claimed[0] >= target:
                event.set()

    watched.on_prepare = count

    async def source(before: int) -> AsyncIterator[Message]:
        for i, message in enumerate(messages(30)):
            if i and i % 10 == 0:
                # A slow source: it pauses until what came so far is claimed (waiting on the
                # claims, not on a sleep, so that a slow machine cannot merge the claims).
                event = anyio.Event()
                enough.append((before + i, event))
                if claimed[0] >= before + i:
                    event.set()
                with anyio.fail_after(10):
                    await event.wait()
            yield message

    async with pool(sim, watched) as p:
        outcomes = [o async for o in p.send_many(source(0))]
        again = [o async for o in p.send_many(source(30))]
    assert all(o.ok and o.tracked is None for o in outcomes)
    assert all(o.ok and o.tracked is not None for o in again)
    assert len(sim.sent) == 30
    assert sum(map(len, watched.prepares)) == 60
    assert len(watched.prepares) >= 6  # at least one claim per pause of the source


async def test_links_dropping_mid_run_leave_every_record_truthful(
    sim: SMSCSimulator, store: SQLiteStore
) -> None:
    # Each link is cut after 120 PDUs, with the answers of its last read lost: the SMSC has
    # messages whose answers the pool never saw.
    sim.behaviour.smpp.drop_after_pdus = 120
    sim.behaviour.smpp.drop_loses_answers = True
    n = 400
    async with pool(sim, store, limits=Limits(max_rate=None, window=20)) as p:
        outcomes = [o async for o in p.send_many(messages(n))]
    assert len(outcomes) == n
    held = {m.phone.lstrip("+") for m in sim.sent}
    states = []
    for outcome in outcomes:
        record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
        states.append(record.state)
        phone = outcome.recipient.lstrip("+")
        # The store never says more than it knows: accepted only what the SMSC holds, failed
        # (safe to send again) only what it does not, and nothing left 'sending'.
        assert record.state in (TrackedState.ACCEPTED, TrackedState.FAILED, TrackedState.UNKNOWN)
        if record.state is TrackedState.ACCEPTED:
            assert phone in held and record.message_id == outcome.message_id
        elif record.state is TrackedState.FAILED:
            assert phone not in held
        else:
            assert isinstance(outcome.error, UnknownOutcomeError)
    assert states.count(TrackedState.ACCEPTED) >= n // 2
    assert sim.smpp.counters.drops >= 2


async def test_receipts_after_a_restart_land_on_their_records(
    sim: SMSCSimulator, tmp_path: Path
) -> None:
    path = tmp_path / "restart.db"
    async with SQLiteStore(path) as store, pool(sim, store) as p:
        outcomes = [o async for o in p.send_many(messages(50))]
    assert all(o.ok for o in outcomes)
    sim.advance(10)  # delivered while nobody is bound: the SMSC keeps the receipts
    async with SQLiteStore(path) as store:
        async with pool(sim, store) as p:
            await until(lambda: p.statistics().reports_recorded == 50)
        for outcome in outcomes:
            record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
            assert record.state is TrackedState.DELIVERED
            assert record.message_id == outcome.message_id
    assert sim.smpp.counters.receipts_acked == 50


async def test_the_pool_tracks_through_redis_too(sim: SMSCSimulator, redis_url: str) -> None:
    # The transport depends on the MessageStore protocol only: the fleet's backend works alike.
    async with RedisStore(redis_url, login="wire") as store:
        async with pool(sim, store) as p:
            first = [o async for o in p.send_many(messages(60))]
            sim.advance(10)
            await until(lambda: p.statistics().reports_recorded == 60)
            again = [o async for o in p.send_many(messages(80))]
        assert all(o.ok for o in first + again)
        assert len(sim.sent) == 80
        assert sum(o.tracked is not None for o in again) == 60
        for outcome in first:
            record = await store.get(outcome.message.client_id)  # type: ignore[arg-type]
            assert record.state is TrackedState.DELIVERED
            assert record.message_id == outcome.message_id
