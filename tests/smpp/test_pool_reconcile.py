"""ReconcilePolicy: messages left unanswered by dropped binds are resent inside the provider's
duplicate window, and a duplicate refusal reads as "it went out the first time". Against the
simulator, whose binds are cut mid-run with the last answers lost (some of those submits were
stored, some never received), and which refuses an identical submit_sm within the window."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from smscenter import (
    ConnectionLost,
    Limits,
    Message,
    ReconcilePolicy,
    SendOutcome,
    SMPPPool,
    SMPPStatusError,
    Timeouts,
    TransportError,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp import SMPPSession
from smscenter.smpp.client._jobs import Job, new_job
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.smpp.client.reconcile import settle_refusal, take_back
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.pdu import SubmitSm, SubmitSmResp
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)
TOTAL = 4_000
POLICY = ReconcilePolicy(duplicate_status=CommandStatus.ESME_RSUBMITFAIL)


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=5, balance=1_000_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        # The drill: every connection is cut at its 1,000th PDU, and the answers still queued
        # (to submits the simulator stored) are lost with it.
        simulator.behaviour.smpp.drop_after_pdus = 1_000
        simulator.behaviour.smpp.drop_loses_answers = True
        yield simulator


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text=f"Offer {i}")


async def drill(sim: SMSCSimulator, resend_unknown: bool | ReconcilePolicy) -> list[SendOutcome]:
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=FAST,
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=2, window=100),
        options=SMPPOptions(resend_unknown=resend_unknown),
    ) as pool:
        outcomes = [o async for o in pool.send_many(messages(TOTAL))]
        assert pool.statistics().unknown == sum(
            isinstance(o.error, UnknownOutcomeError) for o in outcomes
        )
    assert sorted(o.index for o in outcomes) == list(range(TOTAL))
    return outcomes


def stored_once(sim: SMSCSimulator) -> collections.Counter[str]:
    """How often each recipient's message was stored (and billed) by the simulator."""
    return collections.Counter(m.phone for m in sim.sent)


async def test_drop_drill_with_the_policy_ends_with_no_unknown_and_no_duplicate(
    sim: SMSCSimulator,
) -> None:
    outcomes = await drill(sim, POLICY)
    assert sim.smpp.counters.drops >= 3
    kinds = collections.Counter("ok" if o.ok else type(o.error).__name__ for o in outcomes)
    assert kinds == {"ok": TOTAL}, kinds
    # Nothing twice at the SMSC, nothing missing.
    copies = stored_once(sim)
    assert len(copies) == TOTAL and max(copies.values()) == 1
    # Both kinds of lost answer happened and were settled: resends the SMSC refused as
    # duplicates (it had the first) and resends it accepted (it had never received them).
    confirmed = [o for o in outcomes if o.result is not None and o.result.confirmed_by_duplicate]
    # (A resend refused as a duplicate may lose its answer in the next drop and be refused
    # again: the SMSC can count more refusals than there are settled messages.)
    assert confirmed and sim.smpp.counters.duplicates >= len(confirmed)
    assert all(o.result.message_id is None for o in confirmed if o.result is not None)
    held = {(str(m.id), m.phone) for m in sim.sent}
    for outcome in outcomes:
        assert outcome.result is not None
        if not outcome.result.confirmed_by_duplicate:
            assert (outcome.result.message_id, outcome.recipient.lstrip("+")) in held


async def test_drop_drill_without_the_policy_is_unchanged(sim: SMSCSimulator) -> None:
    outcomes = await drill(sim, False)
    unknown = [o for o in outcomes if isinstance(o.error, UnknownOutcomeError)]
    assert unknown, "the drops leave unknown outcomes"
    assert {type(o.error) for o in outcomes if not o.ok} <= {UnknownOutcomeError, ConnectionLost}
    assert sim.smpp.counters.duplicates == 0, "nothing was resent"
    assert all(not o.result.confirmed_by_duplicate for o in outcomes if o.result is not None)
    # Some of the unknown ones did go out (their answers were lost), the rest never arrived.
    copies = stored_once(sim)
    assert max(copies.values()) == 1
    assert 0 < sum(o.recipient.lstrip("+") in copies for o in unknown) < len(unknown)


async def test_refusal_carrying_the_id_gives_the_id(sim: SMSCSimulator) -> None:
    sim.behaviour.smpp.duplicate_with_id = True
    outcomes = await drill(sim, POLICY)
    assert all(o.ok for o in outcomes)
    held = {(str(m.id), m.phone) for m in sim.sent}
    confirmed = [o for o in outcomes if o.result is not None and o.result.confirmed_by_duplicate]
    assert confirmed
    for outcome in confirmed:
        assert (outcome.message_id, outcome.recipient.lstrip("+")) in held


async def test_no_resend_once_the_window_is_over(sim: SMSCSimulator) -> None:
    # One bind; the connection is cut at its third PDU, so of two submits written together the
    # first is stored with its answer lost and the second never arrives. Binds are then
    # refused for longer than the (shortened) window: the resends may not go out late.
    sim.behaviour.smpp.drop_after_pdus = 3
    policy = ReconcilePolicy(
        duplicate_status=CommandStatus.ESME_RSUBMITFAIL, window=1.0, margin=0.5
    )
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=FAST,
        timeouts=Timeouts(10),
        limits=Limits(connections=1, window=10),
        options=SMPPOptions(resend_unknown=policy),
    ) as pool:
        sim.behaviour.smpp.refuse_binds_for(1.5)
        start = anyio.current_time()
        outcomes = [o async for o in pool.send_many(messages(2))]
        waited = anyio.current_time() - start
        sim.behaviour.smpp.drop_after_pdus = None
        # Binds come back; nothing is written again behind the caller's back.
        with anyio.fail_after(5):
            while not pool.statistics().binds_up:  # noqa: ASYNC110 (no event to wait on)
                await anyio.sleep(0.05)
    assert [type(o.error) for o in outcomes] == [UnknownOutcomeError, UnknownOutcomeError]
    assert waited < 1.5, "ended when the window closed, not when a bind came back"
    assert len(sim.sent) <= 1


async def test_a_first_send_refused_as_duplicate_stays_an_error(sim: SMSCSimulator) -> None:
    # The policy reads a duplicate refusal as "accepted" only for a resend: the same message
    # sent twice by the caller within the window is refused as before.
    sim.behaviour.smpp.drop_after_pdus = None
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        options=SMPPOptions(resend_unknown=POLICY),
    ) as pool:
        message = Message(to="+79990000001", text="twice")
        await pool.send(message)
        with pytest.raises(SMPPStatusError) as info:
            await pool.send(message)
    assert info.value.code == CommandStatus.ESME_RSUBMITFAIL
    assert sim.smpp.counters.duplicates == 1
    assert len(sim.sent) == 1


def test_policy_checks_its_numbers() -> None:
    with pytest.raises(ValueError, match="margin"):
        ReconcilePolicy(duplicate_status=0x45, window=5, margin=5)
    with pytest.raises(ValueError):
        ReconcilePolicy(duplicate_status=0)


# --- never written vs written, no answer (a lone bind on the simulator) ----------------------


async def test_smpp_never_written_and_written_no_answer_are_told_apart(
    sim: SMSCSimulator,
) -> None:
    # Window 1: the first message is written and swallowed (no answer); the second waits for
    # the window. The server then goes away: one may have been sent, the other never left.
    sim.behaviour.smpp.drop_after_pdus = None
    sim.behaviour.smpp.swallow_submits = True
    results: dict[str, BaseException] = {}
    async with SMPPSession(
        sim.smpp_host, sim.smpp_port, sim.smpp_credentials, window=1, timeouts=Timeouts(10)
    ) as session:

        async def send(name: str) -> None:
            try:
                await session.send(Message(to="+79990000002", text=name))
            except Exception as exc:
                results[name] = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(send, "written")
            with anyio.fail_after(5):
                while sim.smpp.counters.swallowed < 1:  # noqa: ASYNC110 (no event to wait on)
                    await anyio.sleep(0.01)
            tg.start_soon(send, "queued")
            await anyio.sleep(0.05)
            sim.smpp.disconnect_all()
    assert isinstance(results["written"], UnknownOutcomeError)
    assert isinstance(results["queued"], TransportError)
    assert not isinstance(results["queued"], UnknownOutcomeError)
    assert sim.smpp.counters.submits == 1


# --- the bookkeeping on its own ---------------------------------------------------------------


def resent_job(policy: ReconcilePolicy, taken_at: float = 100.0) -> Job:
    job = new_job(
        (SubmitSm(destination_addr="79990000003", short_message=b"x").encode()[16:],), noop
    )
    job.taken_at = taken_at
    job.in_flight = 0
    return job


def noop(job: Job) -> None:
    pass


def test_take_back_keeps_to_the_window_and_the_resend_count() -> None:
    policy = ReconcilePolicy(duplicate_status=0x45, window=60.0, margin=10.0, resends=2)
    job = resent_job(policy)
    assert take_back(policy, job, 0, now=120.0)
    assert job.deadline == 150.0, "it may wait for a bind until the window closes"
    assert take_back(policy, job, 0, now=130.0)
    assert not take_back(policy, job, 0, now=131.0), "two resends at most"
    late = resent_job(policy)
    assert not take_back(policy, late, 0, now=150.0), "the window (less the margin) is over"
    assert not take_back(False, resent_job(policy), 0, now=101.0)
    blunt = resent_job(policy)
    blunt.attempts = 1
    assert take_back(True, blunt, 0, now=1000.0), "the blunt resend knows no window"


def test_refusals_of_a_resend() -> None:
    policy = ReconcilePolicy(duplicate_status=0x45)
    job = resent_job(policy)
    assert take_back(policy, job, 0, now=101.0)
    other = SubmitSmResp(command_status=CommandStatus.ESME_RINVDSTADR)
    assert settle_refusal(job, 0, other, now=102.0) is None, "an ordinary refusal"
    throttled = SubmitSmResp(command_status=CommandStatus.ESME_RTHROTTLED)
    assert settle_refusal(job, 0, throttled, now=102.0) is None, "resent again in time"
    assert settle_refusal(job, 0, throttled, now=151.0) is False, "too late to write again"
    assert isinstance(job.error, UnknownOutcomeError)
    named = resent_job(policy)
    assert take_back(policy, named, 0, now=101.0)
    duplicate = SubmitSmResp(command_status=0x45, message_id="777")
    assert settle_refusal(named, 0, duplicate, now=102.0) is True
    assert named.responses == ["777"]
