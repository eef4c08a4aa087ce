"""The in-flight bookkeeping of one bind (smpp/client/_inflight.py), without sockets: what each
answer does to the job whose part it answers."""

from __future__ import annotations

from smscenter.exceptions import APIError, ConnectionLost, ThrottledError, UnknownOutcomeError
from smscenter.smpp.client._inflight import InFlight, Settled
from smscenter.smpp.client._jobs import Job, JobState, new_job
from smscenter.smpp.client.results import Counters
from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.pdu import EnquireLinkResp, QuerySmResp, SubmitSmResp


def written(inflight: InFlight, job: Job, first_seq: int) -> list[int]:
    """Write every part of ``job`` as the writer does (taken from todo, counted in flight)."""
    job.state = JobState.STARTED
    indices = list(job.todo)
    job.todo.clear()
    job.in_flight += len(indices)
    job.written = True
    seqs = list(range(first_seq, first_seq + len(indices)))
    inflight.written(seqs, [(job, index) for index in indices])
    return seqs


def make(parts: int = 1, **kwargs: object) -> tuple[Job, list[Job]]:
    done: list[Job] = []
    return new_job(tuple(b"part%d" % n for n in range(parts)), done.append, **kwargs), done  # type: ignore[arg-type]


def test_a_long_message_finishes_with_its_last_acceptance() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=2)
    job, done = make(parts=3)
    a, b, c = written(inflight, job, 10)
    assert len(inflight) == 3
    inflight.settle_accepted([(c, "id-c"), (a, "id-a")])
    assert done == [] and job.in_flight == 1
    inflight.settle_accepted([(b, "id-b"), (999, "not ours")])  # (a stranger is skipped)
    assert done == [job] and job.state is JobState.DONE
    assert job.responses == ["id-a", "id-b", "id-c"] and job.error is None
    assert counters.acknowledged == 3 and len(inflight) == 0


def test_a_refusal_fails_the_message_and_counts_it() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=2)
    job, done = make(parts=2)
    first, second = written(inflight, job, 1)
    refusal = SubmitSmResp(sequence_number=first, command_status=CommandStatus.ESME_RINVDSTADR)
    assert inflight.settle_response(first, refusal, 0.0, None) is Settled.SETTLED
    assert done == []  # the other part is still out
    assert isinstance(job.error, APIError) and job.error.code == CommandStatus.ESME_RINVDSTADR
    inflight.settle_accepted([(second, "late id")])  # accepted, but the message failed
    assert done == [job] and job.responses == [None, None]
    assert (counters.rejected, counters.acknowledged) == (1, 1)


def test_a_throttled_part_is_written_again_then_given_up() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=1)
    job, done = make()
    (seq,) = written(inflight, job, 1)
    throttled = SubmitSmResp(sequence_number=seq, command_status=CommandStatus.ESME_RTHROTTLED)
    assert inflight.settle_response(seq, throttled, 0.0, None) is Settled.THROTTLED
    assert job.todo == [0] and list(inflight.retry) == [job] and done == []
    inflight.retry.clear()
    (seq,) = written(inflight, job, 2)
    again = SubmitSmResp(sequence_number=seq, command_status=CommandStatus.ESME_RTHROTTLED)
    assert inflight.settle_response(seq, again, 0.0, None) is Settled.THROTTLED  # still a pause
    assert done == [job] and isinstance(job.error, ThrottledError) and job.todo == []
    assert not inflight.retry and counters.throttled == 2


def test_the_job_in_hand_needs_no_retry_entry() -> None:
    inflight = InFlight(Counters(), throttle_retries=5)
    job, _ = make()
    (seq,) = written(inflight, job, 1)
    throttled = SubmitSmResp(sequence_number=seq, command_status=CommandStatus.ESME_RTHROTTLED)
    assert inflight.settle_response(seq, throttled, 0.0, job) is Settled.THROTTLED
    assert job.todo == [0] and not inflight.retry


def test_a_query_answer_is_kept_whole_and_not_counted() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=1)
    job, done = make(counts_rate=False, command_id=CommandId.QUERY_SM)
    (seq,) = written(inflight, job, 7)
    answer = QuerySmResp(sequence_number=seq, message_id="42", message_state=2)
    assert inflight.settle_response(seq, answer, 0.0, None) is Settled.SETTLED
    assert done == [job] and job.responses == [answer]
    assert counters.acknowledged == 0


def test_answers_to_requests_not_of_a_job_are_not_ours() -> None:
    inflight = InFlight(Counters(), throttle_retries=1)
    probe = EnquireLinkResp(sequence_number=5)
    assert inflight.settle_response(5, probe, 0.0, None) is Settled.NOT_OURS
    refused = SubmitSmResp(sequence_number=6, command_status=CommandStatus.ESME_RSYSERR)
    assert inflight.settle_response(6, refused, 0.0, None) is Settled.NOT_OURS
    assert inflight.expire(5, lambda: UnknownOutcomeError("x")) is None


def test_no_answer_in_time_is_an_unknown_outcome() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=1)
    job, done = make(parts=2)
    first, second = written(inflight, job, 1)
    assert inflight.expire(first, lambda: UnknownOutcomeError("no answer")) == (job, 0)
    assert done == [] and isinstance(job.error, UnknownOutcomeError)
    inflight.settle_accepted([(second, "id")])
    assert done == [job] and counters.unknown == 1


def test_a_lost_link_takes_back_what_may_be_resent_and_fails_the_rest() -> None:
    counters = Counters()
    inflight = InFlight(counters, throttle_retries=1)
    kept, kept_done = make(parts=2)
    lost, lost_done = make()
    written(inflight, kept, 1)
    written(inflight, lost, 3)
    errors: list[BaseException] = []

    def error() -> BaseException:
        errors.append(UnknownOutcomeError("link lost", cause=ConnectionLost("eof")))
        return errors[-1]

    resend, touched = inflight.fail_all(error, lambda job, index: job is kept)
    assert resend == [kept] and sorted(kept.todo) == [0, 1] and kept.in_flight == 0
    assert lost.error is errors[0] and len(errors) == 1  # one error per failed part
    assert touched == [kept, kept, lost] and len(inflight) == 0
    assert counters.unknown == 1
    assert kept_done == [] and lost_done == []  # the caller finishes them (or resends)
