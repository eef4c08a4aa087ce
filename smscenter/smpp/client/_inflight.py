"""Parts written and not answered yet, and how each answer settles its job.

Pure and synchronous (httpcore's pool decides in sync code the same way): no socket, no clock,
no task. The session hands in what the connection reported (and ``now`` where it matters) and
acts on what comes back: wake the writer, pause after a throttle answer, watch for overdue
answers. A job's callback runs the moment its last part settles.

The answers (SMPP 3.4 §4.4.2, §5.1.3):

- accepted: the part's message id (a query's answer PDU) is recorded;
- refused for speed (``ESME_RTHROTTLED``, ``ESME_RMSGQFUL``): the part is written again later,
  up to ``throttle_retries`` times;
- refused otherwise: the job fails with the status as an error;
- no answer (timed out, link lost, malformed answer): the job fails with
  :class:`~smscenter.exceptions.UnknownOutcomeError`, as the part may have been sent.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from smscenter.exceptions import UnknownOutcomeError
from smscenter.smpp.client._jobs import JobState
from smscenter.smpp.client.reconcile import resend_refused, settle_refusal
from smscenter.smpp.pdu import Pdu, SubmitSmResp
from smscenter.smpp.statuses import THROTTLE_STATUSES, status_error

if TYPE_CHECKING:
    from smscenter.smpp.client._jobs import Job
    from smscenter.smpp.client.results import Counters

__all__ = ("InFlight", "Settled")

_ROK = 0
_DONE = JobState.DONE


class Settled(enum.Enum):
    """What an answer did (:meth:`InFlight.settle_response`)."""

    #: No part of a job waits under that sequence number (the probe's enquire_link, say).
    NOT_OURS = "not ours"
    #: The part is settled (its job may have finished).
    SETTLED = "settled"
    #: Refused for speed: the bind should pause (the part is written again, if retries are
    #: left, from :attr:`InFlight.retry`).
    THROTTLED = "throttled"


class InFlight:
    """The parts of jobs written on one bind and awaiting their answers.

    :param counters: the statistics this bind adds to (shared by a pool's binds).
    :param throttle_retries: how often one part is written again after throttle answers
        before its job fails with :class:`~smscenter.exceptions.ThrottledError`.
    """

    __slots__ = ("_counters", "_throttle_retries", "pending", "retry")

    def __init__(self, counters: Counters, throttle_retries: int) -> None:
        self._counters = counters
        self._throttle_retries = throttle_retries
        #: sequence number -> (job, part index).
        self.pending: dict[int, tuple[Job, int]] = {}
        #: Jobs with throttled parts to write again (the writer takes them before new work).
        self.retry: deque[Job] = deque()

    def __len__(self) -> int:
        return len(self.pending)

    def written(self, seqs: list[int], parts: list[tuple[Job, int]]) -> None:
        """``parts[i]`` went out under ``seqs[i]`` (their jobs' ``in_flight`` already count
        them)."""
        self.pending.update(zip(seqs, parts, strict=True))

    def settle_accepted(self, accepted: Iterable[tuple[int, str | Pdu]]) -> None:
        """Parts accepted, as ``(sequence number, message id)`` pairs (a query's answer PDU in
        place of the id); pairs not ours are skipped."""
        pop = self.pending.pop
        acknowledged = 0
        for seq, value in accepted:
            entry = pop(seq, None)
            if entry is None:  # pragma: no cover - the connection's window knew it: so do we
                continue
            job, index = entry
            if job.error is None:
                job.responses[index] = value
            acknowledged += job.counts_rate  # (submits count; queries do not)
            job.in_flight -= 1
            if job.in_flight:
                continue
            if job.todo or job.state is _DONE:
                job.finish_if_done()
            else:  # its last part, all written: finish_if_done's common case, inline
                job.state = _DONE
                job.callback(job)
        self._counters.acknowledged += acknowledged

    def settle_response(self, seq: int, pdu: Pdu, now: float, current: Job | None) -> Settled:
        """Any other answer to request ``seq``.

        :param now: for a resend under ReconcilePolicy (its duplicate window).
        :param current: the job the writer is in the middle of (it needs no retry entry).
        """
        status = pdu.command_status
        if status == _ROK:
            if seq not in self.pending:
                return Settled.NOT_OURS
            value = pdu.message_id if isinstance(pdu, SubmitSmResp) else pdu
            self.settle_accepted(((seq, value),))
            return Settled.SETTLED
        entry = self.pending.pop(seq, None)
        if entry is None:
            return Settled.NOT_OURS
        job, index = entry
        job.in_flight -= 1
        counters = self._counters
        if job.context is not None:
            # A resend under ReconcilePolicy: a duplicate refusal means "accepted".
            settled = settle_refusal(job, index, pdu, now)
            if settled is not None:
                if settled:
                    counters.acknowledged += 1
                else:
                    counters.unknown += 1
                job.finish_if_done()
                return Settled.SETTLED
        if status in THROTTLE_STATUSES:
            counters.throttled += 1
            job.throttles += 1
            if job.throttles > self._throttle_retries:
                error: BaseException = status_error(status, "submit_sm")
                if job.context is not None:  # a resend may have gone out before
                    error = resend_refused(job, index, error)
                    if isinstance(error, UnknownOutcomeError):
                        counters.unknown += 1
                job.fail(error)
                job.todo.clear()
            elif job.error is None:
                if not job.todo and job is not current:
                    self.retry.append(job)
                job.todo.append(index)
                return Settled.THROTTLED
            job.finish_if_done()
            return Settled.THROTTLED
        error = status_error(status, pdu.command_id.name.lower())
        if job.context is not None:  # a resend may have gone out before
            error = resend_refused(job, index, error)
        if job.counts_rate:
            if isinstance(error, UnknownOutcomeError):
                counters.unknown += 1
            else:
                counters.rejected += 1
        job.fail(error)
        job.todo.clear()
        job.finish_if_done()
        return Settled.SETTLED

    def expire(self, seq: int, error: Callable[[], BaseException]) -> tuple[Job, int] | None:
        """Request ``seq`` got no answer in time (or a broken one): its job fails with
        ``error()`` (an unknown outcome). Returns the part, or None when it was not ours."""
        entry = self.pending.pop(seq, None)
        if entry is None:
            return None
        job, _index = entry
        job.in_flight -= 1
        if job.counts_rate:
            self._counters.unknown += 1
        job.fail(error())
        job.todo.clear()
        job.finish_if_done()
        return entry

    def fail_all(
        self, error: Callable[[], BaseException], take_back: Callable[[Job, int], bool]
    ) -> tuple[list[Job], list[Job]]:
        """The link is gone with these parts unanswered. A part ``take_back(job, index)``
        allows goes back to its job's todo (to be written on another bind); the others fail
        with ``error()`` (an unknown outcome; one each: callers raise them).

        :returns: the jobs with parts taken back (in order, once each), and every job that had
            a part here (for the caller to finish once it has settled the leftovers).
        """
        pending, self.pending = self.pending, {}
        resend: list[Job] = []
        for job, index in pending.values():
            job.in_flight -= 1
            if job.error is None and take_back(job, index):
                job.todo.insert(0, index)
                if job not in resend:
                    resend.append(job)
                continue
            self._counters.unknown += 1
            job.fail(error())
        return resend, [job for job, _ in pending.values()]
