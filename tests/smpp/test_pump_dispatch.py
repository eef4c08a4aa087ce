"""One bind's writer (smpp/client/_pump.py) and reader/timer decisions (_dispatch.py), without
sockets or tasks: an ESME and an SMSC core back to back, a clock the test moves, and the
session's side (wake the writer, poke the timer, end the link) recorded."""

from __future__ import annotations

from smscenter.config import Timeouts
from smscenter.exceptions import ConnectionLost, ThrottledError, UnknownOutcomeError
from smscenter.smpp.client._dispatch import Dispatch
from smscenter.smpp.client._inflight import InFlight
from smscenter.smpp.client._jobs import Job, JobQueue, JobState, new_job
from smscenter.smpp.client._pump import Pump
from smscenter.smpp.client._ratelimit import RateLimiter, ThrottlePause
from smscenter.smpp.client.overdue import Overdue
from smscenter.smpp.client.reports import ReportBuffer, ReportIntake
from smscenter.smpp.client.results import Counters
from smscenter.smpp.connection import ESME, SMSC, SMPPConnection, State
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus
from smscenter.smpp.events import (
    BindComplete,
    BindRequested,
    EnquireLinkReceived,
    RequestReceived,
)
from smscenter.smpp.pdu import Pdu, SubmitSm, SubmitSmResp
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipts import ReceiptReader

BODY = SubmitSm(destination_addr="79991234567", short_message=b"hi").encode()[16:]


class Bind:
    """The pure parts of one bind, wired as SMPPSession wires them, bound to an SMSC core."""

    def __init__(
        self,
        *,
        window: int = 10,
        throttle_retries: int = 2,
        response: float | None = 5.0,
        rate: float | None = None,
    ) -> None:
        self.esme = SMPPConnection(ESME, window=window)
        self.smsc = SMPPConnection(SMSC, window=window)
        self.esme.send_bind(BindMode.TRANSCEIVER, system_id="acme", password="pw")
        (req,) = self.smsc.receive_data(self.esme.data_to_send())
        assert isinstance(req, BindRequested)
        self.smsc.accept_bind(req.pdu, system_id="SMSC")
        (done,) = self.esme.receive_data(self.smsc.data_to_send())
        assert isinstance(done, BindComplete)
        self.now = 100.0
        #: What the bind asked of the session, in order.
        self.calls: list[str] = []
        self.died: list[BaseException | None] = []
        self.counters = Counters()
        self.queue = JobQueue()
        self.pump = Pump(
            self.esme,
            self.queue,
            RateLimiter(rate),
            InFlight(self.counters, throttle_retries),
            self.counters,
            ThrottlePause(1.0),
            Overdue(5.0),
            response,
            lambda deadline: self.calls.append(f"wrote {deadline}"),
        )
        intake = ReportIntake(
            ReportBuffer(10), self.counters, Reassembler(), ReceiptReader().report, noop, noop, "b"
        )
        self.dispatch = Dispatch(
            self.pump,
            intake,
            name="b",
            timeouts=Timeouts(response=response, enquire_link=30, unbind=2),
            probe_timeout=5.0,
            on_late_answer=None,
            clock=lambda: self.now,
            wake=self.wake,
            poke_timer=lambda: self.calls.append("timer"),
            detach=lambda: self.calls.append("detach"),
            die=self.died.append,
            unbound=lambda: self.calls.append("unbound"),
            idle=lambda: self.calls.append("idle"),
        )
        self.pump.taking = True
        self.queue.attach(self)

    @property
    def capacity_left(self) -> int:  # (the queue's consumer protocol, as the session's)
        return self.esme.window_available if self.pump.taking else 0

    def wake(self) -> None:
        self.calls.append("wake")

    def write(self) -> list[Pdu]:
        """A writer's turn: pump, then what it queued reaches the SMSC."""
        self.pump.pump(self.now)
        data = self.esme.data_to_send()
        if not data:
            return []  # (b"" would read as the end of the link)
        events = self.smsc.receive_data(data)
        return [event.pdu for event in events if isinstance(event, RequestReceived)]

    def answer(self, *pdus: Pdu) -> None:
        """The SMSC answers; the reader hands what arrives to the dispatch."""
        for pdu in pdus:
            self.smsc.send_response(pdu)
        self.dispatch.handle(self.esme.receive_data(self.smsc.data_to_send()))


def noop(pdus: object) -> None:
    """No report is acknowledged here."""


def queued(bind: Bind, parts: int = 1) -> tuple[Job, list[Job]]:
    done: list[Job] = []
    job = new_job((BODY,) * parts, done.append)
    bind.queue.push(job, bind.now, wake=False)
    return job, done


def accepted(pdu: Pdu, message_id: str) -> SubmitSmResp:
    return SubmitSmResp(sequence_number=pdu.sequence_number, message_id=message_id)


def test_one_run_writes_every_job_the_window_holds_and_finishes_a_long_one_next_time() -> None:
    bind = Bind(window=4)
    one, one_done = queued(bind)
    long, long_done = queued(bind, parts=5)
    sent = bind.write()
    assert [type(p) for p in sent] == [SubmitSm] * 4  # one write: the job, then 3 of 5 parts
    assert bind.calls == ["wrote 105.0"]  # the timer hears of the deadline once per run
    assert bind.pump.current is long and long.todo == [3, 4]
    assert bind.counters.submitted == 4
    bind.answer(*(accepted(p, f"id{n}") for n, p in enumerate(sent)))
    assert one_done == [one] and one.responses == ["id0"]
    assert long_done == [] and "wake" in bind.calls
    rest = bind.write()  # the long message goes on first
    assert len(rest) == 2 and bind.pump.current is None
    bind.answer(*(accepted(p, f"x{n}") for n, p in enumerate(rest)))
    assert long_done == [long] and long.responses == ["id1", "id2", "id3", "x0", "x1"]
    assert bind.calls[-1] == "idle"  # nothing in flight any more


def test_a_throttle_answer_pauses_the_bind_then_the_part_goes_first() -> None:
    bind = Bind()
    job, done = queued(bind)
    other, _ = queued(bind)
    first, second = bind.write()
    bind.answer(
        SubmitSmResp(
            sequence_number=first.sequence_number,
            command_status=CommandStatus.ESME_RTHROTTLED,
        )
    )
    assert bind.counters.throttled == 1 and list(bind.pump.inflight.retry) == [job]
    assert bind.pump.pump(bind.now) == 1.0  # paused for throttle_pause: nothing written
    assert bind.esme.data_to_send() == b""
    bind.now += 1.0
    queued(bind)
    again = bind.write()
    assert len(again) == 2  # the throttled part first, then new work
    bind.answer(accepted(again[0], "after"), accepted(second, "other"))
    assert done == [job] and job.responses == ["after"] and other.responses == ["other"]


def test_throttled_past_its_retries_the_message_fails() -> None:
    bind = Bind(throttle_retries=0)
    job, done = queued(bind)
    (pdu,) = bind.write()
    bind.answer(
        SubmitSmResp(
            sequence_number=pdu.sequence_number, command_status=CommandStatus.ESME_RMSGQFUL
        )
    )
    assert done == [job] and isinstance(job.error, ThrottledError)


def test_the_rate_limit_keeps_the_job_unwritten_and_it_can_be_taken_back() -> None:
    bind = Bind(rate=1.0)
    queued(bind)
    second, _ = queued(bind)
    assert len(bind.write()) == 1
    wait = bind.pump.pump(bind.now)
    assert wait is not None and wait > 0 and bind.pump.current is second
    assert bind.pump.take_back_unwritten() is second  # (a send_many that stops withdraws it)
    assert bind.pump.current is None and not second.written


def test_an_expired_request_stalls_the_bind_until_the_probe_is_answered() -> None:
    bind = Bind()
    job, done = queued(bind)
    bind.write()
    bind.now += 5.0
    bind.calls.clear()
    nxt = bind.dispatch.tick(bind.now)
    assert done == [job] and isinstance(job.error, UnknownOutcomeError)
    assert bind.counters.unknown == 1 and bind.pump.overdue.stalled
    (probe,) = bind.smsc.receive_data(bind.esme.data_to_send())  # the tick's enquire_link
    assert isinstance(probe, EnquireLinkReceived)  # (the SMSC core answers it by itself)
    assert nxt == bind.now + 5.0  # the probe's own deadline
    queued(bind)
    assert bind.write() == []  # stalled: no new work
    bind.dispatch.handle(bind.esme.receive_data(bind.smsc.data_to_send()))
    assert not bind.pump.overdue.stalled and "wake" in bind.calls
    assert len(bind.write()) == 1


def test_the_smscs_unbind_detaches_and_waits_for_answers_then_gives_up() -> None:
    bind = Bind()
    queued(bind)
    bind.write()
    bind.smsc.send_encoded(CommandId.UNBIND, (b"",))
    bind.dispatch.handle(bind.esme.receive_data(bind.smsc.data_to_send()))
    assert bind.dispatch.unbound_by_peer
    assert bind.calls[-3:] == ["detach", "timer", "wake"]
    assert bind.dispatch.drain_until == bind.now + 2
    assert bind.dispatch.tick(bind.now) == bind.now + 2 and bind.died == []
    bind.now += 2
    bind.dispatch.tick(bind.now)
    (error,) = bind.died
    assert isinstance(error, ConnectionLost) and "did not answer 1 requests" in str(error)


def test_an_eof_is_a_goodbye_only_after_our_unbind() -> None:
    bind = Bind()
    bind.dispatch.handle(bind.esme.receive_data(b""))
    assert isinstance(bind.died[0], ConnectionLost)
    bind = Bind()
    bind.dispatch.unbind_sent = True
    bind.dispatch.handle(bind.esme.receive_data(b""))
    assert bind.died == [None]


def test_settle_all_hands_back_what_may_go_elsewhere_and_fails_the_rest() -> None:
    bind = Bind(window=2)
    one, one_done = queued(bind)
    long, long_done = queued(bind, parts=3)
    bind.write()  # one, and the first part of long
    assert bind.pump.current is long
    taken_back: list[tuple[Job, int]] = []

    def take_back(job: Job, index: int) -> bool:
        taken_back.append((job, index))
        return job is one  # one was never answered but may go elsewhere; long's part not

    bind.pump.settle_all(lambda: UnknownOutcomeError("gone"), take_back)
    assert one_done == [] and one.state is JobState.QUEUED and one.todo == [0]
    assert long_done == [long] and isinstance(long.error, UnknownOutcomeError)
    assert list(bind.queue.bulk) == [one] and bind.pump.current is None
    assert sorted(index for _, index in taken_back) == [0, 0]


def test_nothing_goes_out_outside_a_bound_state() -> None:
    bind = Bind()
    queued(bind)
    bind.esme.send_unbind()
    assert bind.esme.state is State.UNBINDING
    bind.esme.data_to_send()
    assert bind.pump.pump(bind.now) is None and bind.esme.data_to_send() == b""
