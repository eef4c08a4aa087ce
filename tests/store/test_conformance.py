"""The MessageStore contract, run against every backend (the ``backend`` fixture).

Backend-specific behaviour (files, pragmas, disk errors) is tested next to each backend.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from smscenter import (
    ConnectError,
    DeliveryError,
    DeliveryReport,
    InvalidRecipientError,
    MessageStatus,
    SendResult,
    Transport,
    UnknownOutcomeError,
)
from smscenter.store import (
    MessageStore,
    NotTrackedError,
    PlannedSend,
    Settlement,
    StoreError,
    TrackedMessage,
    TrackedState,
)
from tests.store.conftest import Backend


def send(client_id: int | str, transport: Transport = Transport.SMPP) -> PlannedSend:
    return PlannedSend(client_id=client_id, recipient=f"7900{client_id}", transport=transport)


def report(
    message_id: str,
    status: MessageStatus = MessageStatus.DELIVERED,
    *,
    phone: str = "79001",
    client_id: str | None = None,
    error: DeliveryError = DeliveryError.NO_ERROR,
    cost: Decimal | None = None,
) -> DeliveryReport:
    return DeliveryReport(
        message_id=message_id,
        status=status,
        phone=phone,
        client_id=client_id,
        error=error,
        cost=cost,
        transport=Transport.SMPP,
    )


def accepted(client_id: str, message_id: str, *more: str, cost: str | None = None) -> Settlement:
    result = SendResult(
        message_id=message_id,
        part_ids=(message_id, *more),
        parts=1 + len(more),
        cost=None if cost is None else Decimal(cost),
        transport=Transport.SMPP,
    )
    return Settlement.accepted(client_id, result)


async def sent(store: MessageStore, client_id: str, message_id: str) -> TrackedMessage:
    assert await store.prepare([send(client_id)]) == [None]
    await store.settle([accepted(client_id, message_id)])
    return await store.get(client_id)


async def test_backend_satisfies_the_protocol(store: MessageStore) -> None:
    assert isinstance(store, MessageStore)


async def test_a_new_send_goes_and_is_durably_sending(store: MessageStore) -> None:
    before = datetime.now(UTC)
    assert await store.prepare([send("a", Transport.HTTP)]) == [None]
    record = await store.get("a")
    assert record.state is TrackedState.SENDING
    assert (record.client_id, record.recipient) == ("a", "7900a")
    assert record.transport is Transport.HTTP
    assert record.attempts == 1
    assert record.created_at.tzinfo is not None and record.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= record.created_at <= datetime.now(UTC)
    assert record.message_id is None and record.reports == ()
    assert record.version > 0


async def test_int_and_str_client_ids_are_one_record(store: MessageStore) -> None:
    assert await store.prepare([send(5)]) == [None]
    assert (await store.get("5")).client_id == "5"
    assert (await store.get(5)).client_id == "5"
    [answer] = await store.prepare([send("5")])
    assert answer is not None and answer.state is TrackedState.SENDING


async def test_get_of_an_unknown_client_id_raises(store: MessageStore) -> None:
    with pytest.raises(NotTrackedError) as caught:
        await store.get("nobody")
    assert isinstance(caught.value, LookupError)
    assert await store.find("12345") is None


async def test_accepted_settlement_keeps_ids_parts_and_exact_cost(store: MessageStore) -> None:
    await store.prepare([send("a")])
    await store.settle([accepted("a", "1001", "1002", "1003", cost="0.0125")])
    record = await store.get("a")
    assert record.state is TrackedState.ACCEPTED
    assert record.message_id == "1001"
    assert record.part_ids == ("1001", "1002", "1003")
    assert record.parts == 3
    assert record.cost == Decimal("0.0125") and str(record.cost) == "0.0125"
    assert record.accepted_at is not None and record.accepted_at.utcoffset() == timedelta(0)
    assert record.error is None
    for part in ("1001", "1002", "1003"):
        found = await store.find(part)
        assert found is not None and found.client_id == "a"


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (UnknownOutcomeError("link dropped"), TrackedState.UNKNOWN),
        (InvalidRecipientError(7, "bad phone"), TrackedState.REFUSED),
        (ConnectError("refused"), TrackedState.FAILED),
    ],
)
async def test_failed_settlements(
    store: MessageStore, error: BaseException, state: TrackedState
) -> None:
    await store.prepare([send("a")])
    await store.settle([Settlement.failed("a", error)])
    record = await store.get("a")
    assert record.state is state
    assert record.error is not None and type(error).__name__ in record.error
    if state is TrackedState.REFUSED:
        assert record.error_code == 7
        assert record.finished_at is not None


async def _in_state(store: MessageStore, state: TrackedState, key: str) -> None:
    """Bring record ``key`` to ``state`` through the protocol."""
    assert await store.prepare([send(key)]) == [None]
    if state is TrackedState.SENDING:
        return
    if state is TrackedState.UNKNOWN:
        await store.settle([Settlement.failed(key, UnknownOutcomeError("timeout"))])
    elif state is TrackedState.REFUSED:
        await store.settle([Settlement.failed(key, InvalidRecipientError(7))])
    elif state is TrackedState.FAILED:
        await store.settle([Settlement.failed(key, ConnectError("refused"))])
    else:
        await store.settle([accepted(key, f"77{key}")])
        if state is TrackedState.DELIVERED:
            await store.record(report(f"77{key}"))
    assert (await store.get(key)).state is state


@pytest.mark.parametrize(
    ("state", "goes"),
    [
        (TrackedState.FAILED, True),
        (TrackedState.ACCEPTED, False),
        (TrackedState.DELIVERED, False),
        (TrackedState.REFUSED, False),
        (TrackedState.UNKNOWN, False),
        (TrackedState.SENDING, False),  # held by a live sender: this very store
    ],
)
async def test_prepare_decides_by_the_state(
    store: MessageStore, state: TrackedState, goes: bool
) -> None:
    await _in_state(store, state, "1")
    before = await store.get("1")
    [answer] = await store.prepare([send("1")])
    after = await store.get("1")
    if goes:
        assert answer is None
        assert after.state is TrackedState.SENDING
        assert after.attempts == before.attempts + 1
        assert after.error is None
    else:
        assert answer is not None
        assert answer.client_id == "1" and answer.state is state
        assert after.state is state and after.attempts == before.attempts
        assert after.version == before.version


async def test_unknown_is_resent_only_when_asked(store: MessageStore) -> None:
    await _in_state(store, TrackedState.UNKNOWN, "1")
    await _in_state(store, TrackedState.ACCEPTED, "2")
    answers = await store.prepare([send("1"), send("2"), send("3")], resend_unknown=True)
    assert answers[0] is None and answers[2] is None
    assert answers[1] is not None and answers[1].state is TrackedState.ACCEPTED
    record = await store.get("1")
    assert (record.state, record.attempts) == (TrackedState.SENDING, 2)


async def test_prepare_answers_in_order_and_a_repeated_id_goes_once(store: MessageStore) -> None:
    await _in_state(store, TrackedState.ACCEPTED, "b")
    answers = await store.prepare([send("a"), send("b"), send("a"), send("c")])
    assert answers[0] is None and answers[3] is None
    assert answers[1] is not None and answers[1].client_id == "b"
    assert answers[2] is not None and answers[2].state is TrackedState.SENDING
    assert (await store.get("a")).attempts == 1


async def test_settle_is_idempotent(store: MessageStore) -> None:
    await store.prepare([send("a")])
    settlement = accepted("a", "500", "501", cost="1.10")
    await store.settle([settlement])
    first = await store.get("a")
    await store.settle([settlement])
    await store.settle([settlement, settlement])
    again = await store.get("a")
    assert again == first


async def test_a_late_failure_does_not_undo_a_report(store: MessageStore) -> None:
    # The receipt (matched by the client id) came before the send's own answer timed out.
    await store.prepare([send("a")])
    await store.record(report("900", client_id="a"))
    assert (await store.get("a")).state is TrackedState.DELIVERED
    await store.settle([Settlement.failed("a", UnknownOutcomeError("timeout"))])
    record = await store.get("a")
    assert record.state is TrackedState.DELIVERED
    found = await store.find("900")
    assert found is not None and found.client_id == "a"


async def test_report_moves_the_record_and_keeps_history(store: MessageStore) -> None:
    await sent(store, "a", "100")
    await store.record(report("100", MessageStatus.TRANSMITTED, cost=Decimal("2.5")))
    record = await store.get("a")
    assert (record.state, record.status) == (TrackedState.ACCEPTED, MessageStatus.TRANSMITTED)
    await store.record(
        report("100", MessageStatus.UNDELIVERABLE, error=DeliveryError.SUBSCRIBER_OFFLINE)
    )
    record = await store.get("a")
    assert record.state is TrackedState.UNDELIVERABLE
    assert record.delivery_error is DeliveryError.SUBSCRIBER_OFFLINE
    assert record.cost == Decimal("2.5")
    assert record.finished_at is not None
    assert [r.status for r in record.reports] == [
        MessageStatus.TRANSMITTED,
        MessageStatus.UNDELIVERABLE,
    ]
    entry = record.reports[1]
    assert entry.message_id == "100" and entry.error is DeliveryError.SUBSCRIBER_OFFLINE
    assert entry.event_key == report("100", MessageStatus.UNDELIVERABLE).event_key
    assert entry.received_at.utcoffset() == timedelta(0)


async def test_duplicate_reports_add_no_history(store: MessageStore) -> None:
    await sent(store, "a", "100")
    one = report("100")
    await store.record(one)
    version = (await store.get("a")).version
    await store.record(one)
    await store.record(one, one)
    record = await store.get("a")
    assert len(record.reports) == 1
    assert record.version == version


async def test_report_order_never_moves_a_record_backwards(store: MessageStore) -> None:
    await sent(store, "a", "100")
    await store.record(report("100", MessageStatus.DELIVERED))
    await store.record(report("100", MessageStatus.TRANSMITTED))
    record = await store.get("a")
    assert (record.state, record.status) == (TrackedState.DELIVERED, MessageStatus.DELIVERED)
    assert len(record.reports) == 2
    await store.record(report("100", MessageStatus.READ))
    assert (await store.get("a")).state is TrackedState.READ
    await store.record(report("100", MessageStatus.EXPIRED))
    assert (await store.get("a")).state is TrackedState.READ


async def test_a_report_on_an_unknown_send_tells_the_outcome(store: MessageStore) -> None:
    await store.prepare([send("a")])
    await store.settle([Settlement.failed("a", UnknownOutcomeError("timeout"))])
    # The id is learnt from the report's client id (HTTP callbacks carry it).
    await store.record(report("300", MessageStatus.DELIVERED, client_id="a"))
    record = await store.get("a")
    assert record.state is TrackedState.DELIVERED
    assert record.error is None
    assert record.accepted_at is not None


async def test_reports_before_the_settlement_are_matched_later(store: MessageStore) -> None:
    await store.prepare([send("a"), send("b")])
    early = report("200", MessageStatus.DELIVERED)
    await store.record(early, report("201", MessageStatus.TRANSMITTED, phone="79002"))
    assert await store.find("200") is None
    assert (await store.get("a")).state is TrackedState.SENDING
    await store.record(early)  # a repeat of a pending report is still one report
    await store.settle([accepted("a", "200"), accepted("b", "201")])
    a, b = await store.get("a"), await store.get("b")
    assert (a.state, b.state) == (TrackedState.DELIVERED, TrackedState.ACCEPTED)
    assert [r.status for r in a.reports] == [MessageStatus.DELIVERED]
    assert [r.status for r in b.reports] == [MessageStatus.TRANSMITTED]


async def test_a_pending_report_matches_a_later_part_of_a_long_message(
    store: MessageStore,
) -> None:
    await store.prepare([send("a")])
    await store.record(report("402", MessageStatus.DELIVERED))  # the second part's receipt
    await store.settle([accepted("a", "401", "402")])
    record = await store.get("a")
    assert record.state is TrackedState.DELIVERED
    assert [r.message_id for r in record.reports] == ["402"]


async def test_a_pending_report_matches_by_its_client_id(store: MessageStore) -> None:
    # A callback (client id, provider id) came before the send's answer; the answer then
    # failed: the report's client id still ties them.
    await store.record(report("600", client_id="a"))
    await store.prepare([send("a")])
    await store.settle([Settlement.failed("a", UnknownOutcomeError("timeout"))])
    assert (await store.get("a")).state is TrackedState.DELIVERED


async def test_reports_in_one_call_with_the_settlement_racing(store: MessageStore) -> None:
    # Many writers at once (receipts and answers interleaved): the outcome does not depend on
    # which transaction each landed in.
    keys = [str(i) for i in range(60)]
    await store.prepare([send(k) for k in keys])
    async with anyio.create_task_group() as tg:
        for k in keys:
            tg.start_soon(store.record, report(f"5{k}", phone=f"7900{k}"))
            tg.start_soon(store.settle, [accepted(k, f"5{k}")])
    for k in keys:
        record = await store.get(k)
        assert record.state is TrackedState.DELIVERED, k
        assert len(record.reports) == 1


@pytest.mark.parametrize(
    ("settled", "lookups"),
    [
        ("00ab12", ["AB12", "ab12", "0000AB12", " ab12 "]),
        ("0042", ["42", "00042", "042"]),
        ("5f3a-Zz", ["5f3a-Zz"]),
    ],
)
async def test_find_by_any_spelling_of_an_id(
    store: MessageStore, settled: str, lookups: list[str]
) -> None:
    await store.prepare([send("a")])
    await store.settle([Settlement(client_id="a", state=TrackedState.ACCEPTED, message_id=settled)])
    for lookup in lookups:
        found = await store.find(lookup)
        assert found is not None and found.client_id == "a", lookup
    assert await store.find("5F3A-ZZ") is None  # opaque ids keep their case
    # A receipt written in another spelling of the same number matches too.
    await store.record(report(lookups[-1]))
    assert (await store.get("a")).state is TrackedState.DELIVERED


@pytest.mark.parametrize(
    "part_ids", [("1", "2"), ("a,b", "[x]", "Zz-9"), ("[1]",), ("x y", "ид-1")]
)
async def test_any_part_ids_round_trip(store: MessageStore, part_ids: tuple[str, ...]) -> None:
    await store.prepare([send("a")])
    await store.settle(
        [
            Settlement(
                client_id="a", state=TrackedState.ACCEPTED, message_id=part_ids[0],
                part_ids=part_ids,
            )
        ]
    )  # fmt: skip
    record = await store.get("a")
    assert (record.message_id, record.part_ids) == (part_ids[0], part_ids)
    for part in part_ids:
        found = await store.find(part)
        assert found is not None and found.part_ids == part_ids


async def test_counts_and_records(store: MessageStore) -> None:
    assert await store.counts() == {}
    await _in_state(store, TrackedState.ACCEPTED, "1")
    await _in_state(store, TrackedState.UNKNOWN, "2")
    await _in_state(store, TrackedState.DELIVERED, "3")
    await _in_state(store, TrackedState.UNKNOWN, "4")
    assert await store.counts() == {
        TrackedState.ACCEPTED: 1,
        TrackedState.UNKNOWN: 2,
        TrackedState.DELIVERED: 1,
    }
    assert [r.client_id async for r in store.records()] == ["1", "2", "3", "4"]
    unknown = [r.client_id async for r in store.records(states=[TrackedState.UNKNOWN])]
    assert unknown == ["2", "4"]
    assert [r.client_id async for r in store.records(limit=3)] == ["1", "2", "3"]
    assert [r.client_id async for r in store.records(limit=0)] == []
    some = store.records(states={TrackedState.DELIVERED, TrackedState.ACCEPTED}, limit=5)
    assert [r.client_id async for r in some] == ["1", "3"]


async def test_records_pages_through_many(store: MessageStore) -> None:
    keys = [f"k{i:04d}" for i in range(1203)]
    await store.prepare([send(k) for k in keys])
    assert [r.client_id async for r in store.records()] == keys


async def test_purge(store: MessageStore) -> None:
    await sent(store, "a", "100")
    await store.record(report("100"))
    await store.record(report("999"))  # never matched
    assert await store.purge(older_than=timedelta(hours=1)) == 0
    assert (await store.get("a")).state is TrackedState.DELIVERED
    assert await store.purge(older_than=timedelta(0)) == 1
    with pytest.raises(NotTrackedError):
        await store.get("a")
    assert await store.find("100") is None
    assert await store.counts() == {}
    # The unmatched report went too: a send settled with its id now gets no outcome from it.
    await store.prepare([send("b")])
    await store.settle([accepted("b", "999")])
    assert (await store.get("b")).state is TrackedState.ACCEPTED
    # And a new record under a purged id starts afresh.
    await store.prepare([send("a")])
    assert (await store.get("a")).attempts == 1


async def test_changes_feed_in_version_order_and_resumes(store: MessageStore) -> None:
    await store.prepare([send("a"), send("b")])
    await store.settle([accepted("a", "100")])
    seen: list[TrackedMessage] = []
    with anyio.fail_after(5):
        async for change in store.changes():
            seen.append(change)
            if len(seen) == 2:
                break
    versions = [c.version for c in seen]
    assert versions == sorted(set(versions))
    # "a" changed twice: the feed shows its latest version, once; "b" once.
    assert sorted((c.client_id, c.state.value) for c in seen) == [
        ("a", "accepted"),
        ("b", "sending"),
    ]
    assert seen[-1].client_id == "a"  # changed last
    last = versions[-1]
    seen_after: list[TrackedMessage] = []

    async def write_later() -> None:
        await anyio.sleep(0.05)
        await store.record(report("100"))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(write_later)
            async for change in store.changes(since=last):
                seen_after.append(change)
                if change.state is TrackedState.DELIVERED:
                    break
    assert [c.client_id for c in seen_after] == ["a"]
    assert seen_after[0].version > last


async def test_changes_feed_ends_when_the_store_closes(backend: Backend) -> None:
    store = backend.open(poll_interval=0.05)
    await store.__aenter__()
    await store.prepare([send("a")])
    got: list[str] = []

    async def read() -> None:
        async for change in store.changes():
            got.append(change.client_id)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await anyio.sleep(0.1)
            await store.aclose()
    assert got == ["a"]


async def test_a_closed_store_raises_store_error(backend: Backend) -> None:
    async with backend.open() as store:
        await store.prepare([send("a")])
    with pytest.raises(StoreError, match="closed"):
        await store.prepare([send("b")])
    with pytest.raises(StoreError):
        await store.get("a")
    await store.aclose()  # idempotent


async def test_records_survive_reopening(backend: Backend) -> None:
    async with backend.open() as store:
        await sent(store, "a", "100")
        await store.record(report("100"))
        before = await store.get("a")
    async with backend.open() as store:
        assert await store.get("a") == before
        [answer] = await store.prepare([send("a")])
        assert answer is not None and answer.state is TrackedState.DELIVERED


async def test_closing_marks_own_unsettled_sends_unknown(backend: Backend) -> None:
    async with backend.open() as store:
        await store.prepare([send("a"), send("b")])
        await store.settle([accepted("b", "100")])
    async with backend.open() as store:
        record = await store.get("a")
        assert record.state is TrackedState.UNKNOWN and record.error
        assert (await store.get("b")).state is TrackedState.ACCEPTED


# --- other processes on the same store -------------------------------------------------------

_ROOT = Path(__file__).resolve().parents[2]
_CHILD = [sys.executable, str(Path(__file__).with_name("_child.py"))]


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(_ROOT)}


async def test_changes_feed_sees_another_process(store: MessageStore, backend: Backend) -> None:
    await store.prepare([send("mine")])
    seen: dict[str, TrackedState] = {}
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:

            async def child() -> None:
                await anyio.run_process(
                    [*_CHILD, backend.name, backend.location, "write", "p1", "p2"],
                    env=_child_env(),
                )

            tg.start_soon(child)
            async for change in store.changes():
                seen[change.client_id] = change.state
                if seen.get("p1") is seen.get("p2") is TrackedState.ACCEPTED:
                    break
    assert seen["mine"] is TrackedState.SENDING
    record = await store.get("p2")
    assert (record.message_id, record.recipient) == ("9p2", "7900p2")


async def test_a_sender_killed_mid_send_leaves_unknown(
    store: MessageStore, backend: Backend
) -> None:
    keys = ["x1", "x2", "x3"]
    process = await anyio.open_process(
        [*_CHILD, backend.name, backend.location, "hold", *keys], env=_child_env()
    )
    try:
        assert process.stdout is not None
        with anyio.fail_after(30):
            line = await process.stdout.receive()
        assert line.strip() == b"ready"
        # Alive: the records are its, and nobody may send them again.
        answers = await store.prepare([send(k) for k in keys], resend_unknown=True)
        assert [a.state if a else None for a in answers] == [TrackedState.SENDING] * 3
        assert await store.counts() == {TrackedState.SENDING: 3}
    finally:
        process.send_signal(signal.SIGKILL)
        with anyio.fail_after(10):
            await process.wait()
        await process.aclose()
    # Dead: its sends may or may not have gone out.
    assert await store.counts() == {TrackedState.UNKNOWN: 3}
    assert (await store.get("x1")).state is TrackedState.UNKNOWN
    listed = [r.client_id async for r in store.records(states=[TrackedState.UNKNOWN])]
    assert listed == keys
    [answer] = await store.prepare([send("x1")])
    assert answer is not None and answer.state is TrackedState.UNKNOWN
    async with backend.open() as again:
        assert (await again.get("x2")).state is TrackedState.UNKNOWN
        assert await again.prepare([send("x2")], resend_unknown=True) == [None]
        record = await again.get("x2")
        assert (record.state, record.attempts) == (TrackedState.SENDING, 2)
