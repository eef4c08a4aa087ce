"""Where the pieces of issues 9, 14 and 15 meet: the throttle pause next to the adaptive rate
limiter, and the statistics of resends that never went out again. Against the simulator on
127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from _fake_smsc import FakeSMSC, Peer, mo
from _quirky_smsc import QuirkySMSC

from smscenter import (
    Credentials,
    IncomingMessage,
    Limits,
    Message,
    ReconcilePolicy,
    SendResult,
    SMPPPool,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.config import SMPPOptions
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.smpp.client.results import SendOutcome
from smscenter.smpp.connection import State
from smscenter.smpp.constants import CommandStatus
from smscenter.testing import SMSCSimulator


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=7, balance=1_000_000) as simulator:
        yield simulator


async def test_a_few_throttled_sends_pause_rather_than_burn_their_retries(
    sim: SMSCSimulator,
) -> None:
    # No client-side rate, and too few sends for the limiter to learn a rate from: a throttle
    # answer must still pause the bind (SMPP 3.4 §5.1.3: "try later"), not resend at once
    # until throttle_retries is spent and the message fails.
    sim.behaviour.smpp.throughput = 0.5  # one every 2 s
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=1),
        options=SMPPOptions(throttle_pause=0.1),
    ) as pool:
        results: dict[int, SendResult | BaseException] = {}

        async def one(i: int) -> None:
            try:
                results[i] = await pool.send(Message(to=f"+7999{i:07d}", text="x"))
            except Exception as exc:
                results[i] = exc

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for i in range(2):
                    tg.start_soon(one, i)
        stats = pool.statistics()
    failed = {i: r for i, r in results.items() if not isinstance(r, SendResult)}
    assert not failed, failed
    assert stats.throttled > 0, "the SMSC did throttle"
    assert len(sim.sent) == 2


async def test_resends_given_up_in_the_queue_count_as_unknown(sim: SMSCSimulator) -> None:
    # One bind, cut at its third PDU (bind, submit, submit): the two submits are left
    # unanswered and go back to the queue for a resend under the policy. Binds are then
    # refused past the (shortened) duplicate window, so both end UnknownOutcomeError in the
    # queue: the statistics must say so too.
    sim.behaviour.smpp.drop_after_pdus = 3
    sim.behaviour.smpp.drop_loses_answers = True
    policy = ReconcilePolicy(
        duplicate_status=CommandStatus.ESME_RSUBMITFAIL, window=1.0, margin=0.5
    )
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(10),
        limits=Limits(connections=1, window=10),
        options=SMPPOptions(resend_unknown=policy),
    ) as pool:
        sim.behaviour.smpp.refuse_binds_for(1.5)
        with anyio.fail_after(10):
            outcomes = [
                o
                async for o in pool.send_many(
                    Message(to=f"+7999{i:07d}", text="x") for i in range(2)
                )
            ]
        stats = pool.statistics()
    assert [type(o.error) for o in outcomes] == [UnknownOutcomeError, UnknownOutcomeError]
    assert stats.unknown == 2
    # The error says what happened (not "some parts were sent", nor a pool timeout of None s).
    assert "answer to the message was lost" in str(outcomes[0].error)
    assert "duplicate window" in str(getattr(outcomes[0].error, "cause", None))


async def test_a_throttled_resend_is_not_written_after_the_window(sim: SMSCSimulator) -> None:
    # A drop leaves two submits unanswered: the first was stored (its answer lost), the second
    # never arrived. Their resends on the next bind are throttled, and the bind's pause after
    # the second throttle answer ends past the duplicate window. Written then, nothing refuses
    # the first as a duplicate: it would go out twice. Both must end UnknownOutcomeError.
    window = 1.0
    sim.behaviour.duplicate_window = window
    sim.behaviour.smpp.drop_loses_answers = True
    sim.behaviour.smpp.throughput = 1.0  # the first submit takes the one token
    policy = ReconcilePolicy(
        duplicate_status=CommandStatus.ESME_RSUBMITFAIL, window=window, margin=0.2
    )
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=1),
        # Throttle pauses: resends at ~0.2 s and ~0.6 s, then 0.8 s later: past the window.
        options=SMPPOptions(throttle_pause=0.4, resend_unknown=policy),
    ) as pool:
        sim.behaviour.smpp.drop_after_pdus = 3  # bind, stored submit, the cut one
        sim.behaviour.smpp.refuse_binds_for(0.2)  # time to turn the drops off again
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                outcomes: list[SendOutcome] = []

                async def send() -> None:
                    messages = (Message(to=f"+7999000000{i}", text="x") for i in range(2))
                    outcomes.extend([o async for o in pool.send_many(messages)])

                tg.start_soon(send)
                while not sim.smpp.counters.drops:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
                sim.behaviour.smpp.drop_after_pdus = None
        stats = pool.statistics()
    assert sim.smpp.counters.throttled >= 3
    assert len(sim.sent) == 1, "sent twice"
    assert [type(o.error) for o in outcomes] == [UnknownOutcomeError, UnknownOutcomeError]
    assert stats.unknown == 2


async def test_a_resend_throttled_out_stays_unknown(sim: SMSCSimulator) -> None:
    # The first write was stored (its answer lost in the drop); every resend is throttled
    # until throttle_retries is spent. A throttle answer says nothing about the first write:
    # the message may have gone out, so the caller must hear "unknown", not a definite
    # ThrottledError that invites sending it again.
    sim.behaviour.smpp.drop_loses_answers = True
    sim.behaviour.smpp.throughput = 0.1  # the first submit takes the one token for 10 s
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=1),
        options=SMPPOptions(
            throttle_pause=0.02,
            throttle_retries=2,
            resend_unknown=ReconcilePolicy(duplicate_status=CommandStatus.ESME_RSUBMITFAIL),
        ),
    ) as pool:
        sim.behaviour.smpp.drop_after_pdus = 3  # bind, stored submit, the cut one
        sim.behaviour.smpp.refuse_binds_for(0.1)  # time to turn the drops off again
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                outcomes: list[SendOutcome] = []

                async def send() -> None:
                    messages = (Message(to=f"+7999000000{i}", text="x") for i in range(2))
                    outcomes.extend([o async for o in pool.send_many(messages)])

                tg.start_soon(send)
                while not sim.smpp.counters.drops:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
                sim.behaviour.smpp.drop_after_pdus = None
        stats = pool.statistics()
    assert len(sim.sent) == 1, "the first message went out"
    assert sim.smpp.counters.throttled >= 6
    assert [type(o.error) for o in outcomes] == [UnknownOutcomeError, UnknownOutcomeError]
    assert stats.unknown == 2


async def test_a_long_message_cut_mid_window_goes_back_to_the_queue_once(
    sim: SMSCSimulator,
) -> None:
    # Window 2, three parts: two are written (and never answered), the third waits on the
    # bind. The drop puts the message back for a resend: once, or the queue counts it twice
    # and withdraw_queued reports two outcomes for one message.
    sim.behaviour.smpp.swallow_submits = True
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=1, window=2),
        options=SMPPOptions(
            resend_unknown=ReconcilePolicy(duplicate_status=CommandStatus.ESME_RSUBMITFAIL)
        ),
    ) as pool:
        errors: list[BaseException] = []
        async with anyio.create_task_group() as tg:

            async def send() -> None:
                try:
                    await pool.send(Message(to="+79990000001", text="long " * 80))
                except Exception as exc:
                    errors.append(exc)

            tg.start_soon(send)
            with anyio.fail_after(5):
                while sim.smpp.counters.swallowed < 2:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
                sim.behaviour.smpp.refuse_binds_for(5)
                sim.smpp.disconnect_all()
                while not pool.statistics().queued:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
            queued = pool.statistics().queued
            withdrawn = pool.withdraw_queued(ConnectionError("stopped"))
    assert queued == 1
    assert len(withdrawn) == 1
    assert [type(e) for e in errors] == [UnknownOutcomeError]


async def test_answers_without_an_id_count_as_unknown() -> None:
    # An OK submit_sm_resp with an empty message_id ends the message UnknownOutcomeError: the
    # statistics count it there too, as they do every other unknown outcome.
    async with (
        QuirkySMSC("empty_id", quirky=lambda n: n % 3 == 0) as smsc,
        SMPPPool(
            "127.0.0.1",
            smsc.port,
            Credentials("acme", "secret"),
            limits=Limits(max_rate=None),
            timeouts=Timeouts(5),
        ) as pool,
    ):
        with anyio.fail_after(20):
            outcomes = [
                o
                async for o in pool.send_many(
                    Message(to=f"+7999{i:07d}", text="bulk") for i in range(30)
                )
            ]
        stats = pool.statistics()
    unknown = sum(isinstance(o.error, UnknownOutcomeError) for o in outcomes)
    assert unknown == smsc.quirky_answers == 10
    assert stats.unknown == unknown
    assert stats.acknowledged == 20


async def test_a_long_incoming_message_survives_a_reconnect_between_its_parts() -> None:
    # Each part is answered when it arrives (a stop-and-wait SMSC must not stall), so the
    # SMSC will not send it again: when the bind drops between parts, the parts already held
    # must still meet the rest, which come on the next bind.
    udh = [bytes([5, 0, 3, 0x2B, 2, n]) for n in (1, 2)]
    async with (
        FakeSMSC() as smsc,
        SMPPPool(
            "127.0.0.1",
            smsc.port,
            Credentials("acme", "secret"),
            reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
            timeouts=Timeouts(5),
            limits=Limits(connections=1),
        ) as pool,
    ):
        first = smsc.live_peers[0]
        await first.deliver(mo(b"one, ", udh=udh[0]))
        with anyio.fail_after(5):
            while not smsc.deliver_resps:  # noqa: ASYNC110 - bounded poll
                await anyio.sleep(0.002)
            await first.drop()
            while not [p for p in smsc.live_peers if p is not first and bound(p)]:  # noqa: ASYNC110
                await anyio.sleep(0.002)
        second = [p for p in smsc.live_peers if p is not first and bound(p)][0]
        await second.deliver(mo(b"two", udh=udh[1]))
        async with pool.reports() as stream:
            with anyio.fail_after(3):
                event = await stream.receive()
    assert isinstance(event, IncomingMessage)
    assert event.text == "one, two"


async def test_a_resend_refused_otherwise_than_as_a_duplicate_stays_unknown(
    sim: SMSCSimulator,
) -> None:
    # The policy names another status than the one the SMSC uses for duplicates (the provider
    # does not document it): the resend of a message that went out is refused with a status
    # the policy does not read as "duplicate". That refusal says nothing about the first
    # write: the caller must hear "unknown", not a definite refusal that invites a resend.
    sim.behaviour.smpp.drop_loses_answers = True
    async with SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(10),
        limits=Limits(max_rate=None, connections=1),
        options=SMPPOptions(
            resend_unknown=ReconcilePolicy(duplicate_status=CommandStatus.ESME_RSYSERR)
        ),
    ) as pool:
        sim.behaviour.smpp.drop_after_pdus = 3  # bind, stored submit, the cut one
        sim.behaviour.smpp.refuse_binds_for(0.1)  # time to turn the drops off again
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                outcomes: list[SendOutcome] = []

                async def send() -> None:
                    messages = (Message(to=f"+7999000000{i}", text="x") for i in range(2))
                    outcomes.extend([o async for o in pool.send_many(messages)])

                tg.start_soon(send)
                while not sim.smpp.counters.drops:  # noqa: ASYNC110 - bounded poll
                    await anyio.sleep(0.005)
                sim.behaviour.smpp.drop_after_pdus = None
        stats = pool.statistics()
    assert sim.smpp.counters.duplicates == 1
    assert len(sim.sent) == 2, "the first went out the first time, the second on its resend"
    first, second = sorted(outcomes, key=lambda o: o.index)
    assert isinstance(first.error, UnknownOutcomeError)
    assert second.ok
    assert stats.unknown == 1 and stats.rejected == 0


def bound(peer: Peer) -> bool:
    """Whether the fake SMSC's side of a connection has accepted its bind."""
    return peer.conn.state in (State.BOUND_TX, State.BOUND_RX, State.BOUND_TRX)
