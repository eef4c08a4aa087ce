"""Work waiting for a bind: jobs (one message to one recipient, or one query), the queue the
binds pull them from (pure: the caller passes ``now``), and what a finished job becomes (its
:class:`~smscenter.SendResult` or :class:`~smscenter.smpp.client.results.SendOutcome`). How a
caller waits for its job is :mod:`~smscenter.smpp.client._waiting`.

Why a shared queue that binds *pull* from, rather than each caller waiting for a window slot:

- urgent jobs overtake bulk ones simply by sitting in the other deque (smscentre.com/api/smpp:
  the provider itself sends urgent single messages "before any mass mailings");
- a bind only takes work while its window has room, so work flows to the least-loaded bind, and
  a bind that drops leaves every job it had not started in the queue for the others;
- all parts of one long message are taken by one bind together and written back to back
  (smscentre.com/api/smpp: every part must reach the provider within a minute);
- there is no per-message task and no per-message wait: a caller that waits has one event,
  ``send_many`` none at all.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from smscenter._provider import Transport
from smscenter.exceptions import PoolTimeout, UnknownOutcomeError
from smscenter.ids import canonical_message_id
from smscenter.models import (
    Message,
    SendResult,
    _make_send_result,
    _make_smpp_result,
)
from smscenter.smpp.client import reconcile
from smscenter.smpp.client.results import SendOutcome, make_outcome
from smscenter.smpp.constants import CommandId

if TYPE_CHECKING:
    from smscenter.smpp.pdu import Pdu

__all__ = ("Job", "JobQueue", "JobState", "new_job")

_SMPP = Transport.SMPP


class JobState(enum.Enum):
    """Where a job is in its life."""

    QUEUED = "queued"  # waiting in a queue; nothing written
    STARTED = "started"  # a bind took it; some parts may be written
    DONE = "done"  # finished: ids or an error, callback called
    CANCELLED = "cancelled"  # its caller gave up before anything was written


_DONE = JobState.DONE


class Job:
    """One unit of work for one bind: the parts of one message to one recipient, or one other
    request (a query).

    Every part is an encoded request body (the ``submit_sm`` bodies
    :meth:`~smscenter.smpp.submit.SubmitBuilder.build` gives, one per part; a query's
    ``query_sm`` body), sent as :attr:`command_id`.

    The bind fills :attr:`responses` (one per part), or sets :attr:`error`; when nothing of it
    is outstanding any more it calls :attr:`callback` exactly once.
    """

    __slots__ = (
        "attempts",
        "callback",
        "command_id",
        "context",
        "counts_rate",
        "deadline",
        "error",
        "in_flight",
        "index",
        "message",
        "parts",
        "recipient",
        "responses",
        "state",
        "taken_at",
        "throttles",
        "todo",
        "urgent",
        "written",
    )

    # Built by :func:`new_job` only (no ``__init__``: send_many makes one job per message, and
    # a class call's argument tuple and frame were a good part of a job's cost).
    parts: tuple[bytes, ...]
    command_id: CommandId
    callback: Callable[[Job], None]
    urgent: bool
    deadline: float | None
    counts_rate: bool
    message: Message | None
    recipient: str | None
    index: int
    context: Any
    #: Per part: the submit's message id, or (query_sm) the response PDU.
    responses: list[str | Pdu | None]
    #: Part indices still to be written (refused parts come back here).
    todo: list[int]
    in_flight: int
    #: Whether any part was ever written (then the job may not move to another bind).
    written: bool
    #: When a bind first took it (before its first write; for ReconcilePolicy's window).
    taken_at: float | None
    error: BaseException | None
    state: JobState
    throttles: int
    attempts: int

    def __repr__(self) -> str:
        return (
            f"<Job {self.state.value} parts={len(self.parts)} todo={len(self.todo)} "
            f"in_flight={self.in_flight} error={type(self.error).__name__ if self.error else None}>"
        )

    def fail(self, error: BaseException) -> None:
        """Record an error. An unknown outcome outranks a definite one: if any part may have gone
        out, the caller must hear that it may have been sent."""
        if self.error is None or (
            isinstance(error, UnknownOutcomeError)
            and not isinstance(self.error, UnknownOutcomeError)
        ):
            self.error = error

    def finish_if_done(self) -> bool:
        """Call the callback when nothing is left to write or to wait for."""
        if self.state is JobState.DONE or self.in_flight:
            return False
        if self.todo and self.error is None:
            return False
        self.todo.clear()
        self.state = JobState.DONE
        self.callback(self)
        return True

    def finish(self, error: BaseException | None = None) -> None:
        """End the job now (never written, or being given up on)."""
        if error is not None:
            self.fail(error)
        if self.state is JobState.DONE:
            return
        self.todo.clear()
        self.state = JobState.DONE
        self.callback(self)


_new = object.__new__
_QUEUED = JobState.QUEUED
_SUBMIT_SM = CommandId.SUBMIT_SM


def new_job(
    parts: tuple[bytes, ...],
    callback: Callable[[Job], None],
    urgent: bool = False,
    deadline: float | None = None,
    counts_rate: bool = True,
    message: Message | None = None,
    recipient: str | None = None,
    index: int = 0,
    context: Any = None,
    command_id: CommandId = _SUBMIT_SM,
) -> Job:
    """A new queued :class:`Job`: ``parts`` (encoded request bodies, one per part) to be sent
    as ``command_id``; ``callback`` is called once when nothing of it is outstanding.
    Positional arguments are welcome (``send_many`` builds one job per message)."""
    job: Job = _new(Job)
    job.parts = parts
    job.command_id = command_id
    job.callback = callback
    job.urgent = urgent
    job.deadline = deadline
    job.counts_rate = counts_rate
    job.message = message
    job.recipient = recipient
    job.index = index
    job.context = context
    count = len(parts)
    job.responses = [None] * count
    job.todo = [0] if count == 1 else list(range(count))
    job.in_flight = 0
    job.written = False
    job.taken_at = None
    job.error = None
    job.state = _QUEUED
    job.throttles = 0
    job.attempts = 0
    return job


class JobQueue:
    """Jobs waiting for a bind: urgent first, then bulk, each first in first out.

    Binds register a wake-up function with :meth:`attach`; :meth:`push` wakes the least loaded
    one that has room.

    :param pool_timeout: how long a job may wait before it fails with :class:`PoolTimeout`
        (None: forever).
    """

    def __init__(self, pool_timeout: float | None = None) -> None:
        self.pool_timeout = pool_timeout
        self.urgent: deque[Job] = deque()
        self.bulk: deque[Job] = deque()
        self._consumers: list[Any] = []
        self._watchdog: Callable[[], None] | None = None
        self.closed = False
        #: Messages given up here after some part was written (a resend after a drop that no
        #: bind took in time): they end UnknownOutcomeError, and the statistics count them.
        self.unknown = 0

    def __len__(self) -> int:
        return len(self.urgent) + len(self.bulk)

    def __repr__(self) -> str:
        return f"<JobQueue urgent={len(self.urgent)} bulk={len(self.bulk)}>"

    # consumers are sessions: they have .capacity_left (int) and .wake()
    def attach(self, consumer: Any) -> None:
        """A bind starts taking work."""
        self._consumers.append(consumer)

    def detach(self, consumer: Any) -> None:
        """A bind stops taking work."""
        try:
            self._consumers.remove(consumer)
        except ValueError:
            pass

    def set_watchdog(self, wake: Callable[[], None] | None) -> None:
        """Who to wake when a job is added to an empty queue (to time it out)."""
        self._watchdog = wake

    def wake_one(self) -> None:
        """Wake the bind with the most room (the least loaded)."""
        best = None
        room = 0
        for consumer in self._consumers:
            left = consumer.capacity_left
            if left > room:
                best, room = consumer, left
        if best is not None:
            best.wake()

    def wake_all(self) -> None:
        """Wake every bind that has room (after queueing many jobs at once)."""
        for consumer in self._consumers:
            if consumer.capacity_left > 0:
                consumer.wake()

    def push(self, job: Job, now: float, *, wake: bool = True) -> None:
        """Queue a new job (its pool deadline starts now)."""
        if self.pool_timeout is not None and job.deadline is None:
            job.deadline = now + self.pool_timeout
        was_empty = not self.urgent and not self.bulk
        (self.urgent if job.urgent else self.bulk).append(job)
        if was_empty and self._watchdog is not None:
            self._watchdog()
        if wake:
            self.wake_one()

    def push_many(self, jobs: list[Job], urgent: bool) -> None:
        """Queue new jobs, all urgent or all bulk, whose deadlines are set already; wakes
        nobody (call :meth:`wake_all`). ``send_many``'s batches."""
        if not jobs:
            return
        was_empty = not self.urgent and not self.bulk
        (self.urgent if urgent else self.bulk).extend(jobs)
        if was_empty and self._watchdog is not None:
            self._watchdog()

    def push_back(self, job: Job) -> None:
        """Return a job that was taken but never written (its bind went away): it goes first."""
        job.state = JobState.QUEUED
        (self.urgent if job.urgent else self.bulk).appendleft(job)
        if self._watchdog is not None:
            self._watchdog()

    def pop(self, now: float) -> Job | None:
        """The next job to start, or None. Jobs past their deadline fail on the way."""
        for dq in (self.urgent, self.bulk):
            while dq:
                job = dq.popleft()
                if job.state is not JobState.QUEUED:
                    continue
                if job.deadline is not None and job.deadline <= now:
                    self.give_up(job, _pool_timeout(self.pool_timeout, job))
                    continue
                job.state = JobState.STARTED
                if job.taken_at is None:
                    job.taken_at = now
                return job
        return None

    def remove(self, job: Job) -> bool:
        """Take a job back out (its caller gave up). False when it was already taken."""
        if job.state is not JobState.QUEUED:
            return False
        dq = self.urgent if job.urgent else self.bulk
        try:
            dq.remove(job)
        except ValueError:
            return False
        job.state = JobState.CANCELLED
        return True

    def withdraw(self, which: Callable[[Job], bool]) -> list[Job]:
        """Take back out every queued job ``which`` picks (its caller left, or is stopping);
        returns them, in queue order, marked cancelled. One pass over the queue."""
        taken = [
            job
            for dq in (self.urgent, self.bulk)
            for job in dq
            if job.state is JobState.QUEUED and which(job)
        ]
        for job in taken:
            job.state = JobState.CANCELLED
        if taken:
            self.urgent = deque(j for j in self.urgent if j.state is JobState.QUEUED)
            self.bulk = deque(j for j in self.bulk if j.state is JobState.QUEUED)
        return taken

    def expire(self, now: float) -> float | None:
        """Fail every job past its deadline; return the next deadline (None: none)."""
        nxt: float | None = None
        for dq in (self.urgent, self.bulk):
            while dq:
                job = dq[0]
                if job.state is not JobState.QUEUED:
                    dq.popleft()
                    continue
                if job.deadline is not None and job.deadline <= now:
                    dq.popleft()
                    self.give_up(job, _pool_timeout(self.pool_timeout, job))
                    continue
                if job.deadline is not None and (nxt is None or job.deadline < nxt):
                    nxt = job.deadline
                break
        return nxt

    def fail_all(self, error: BaseException) -> None:
        """Fail everything still queued (the pool is closing; nothing of it was written)."""
        for dq in (self.urgent, self.bulk):
            while dq:
                job = dq.popleft()
                if job.state is JobState.QUEUED:
                    self.give_up(job, error)

    def give_up(self, job: Job, error: BaseException) -> None:
        """End a job that was taken out of the queue (or a bind gave back) unwritten this time:
        with ``error``, or UnknownOutcomeError if some part went out before (counted)."""
        if job.written and job.counts_rate and job.state is not JobState.DONE:
            self.unknown += 1
        job.finish(_not_sent(job, error))


def _not_sent(job: Job, error: BaseException) -> BaseException:
    """The error for a job that is given up while waiting in the queue. One that came back from
    a bind that dropped after writing some of its parts was partly sent: its outcome is
    unknown, not "never written"."""
    if job.written:
        if job.context is not None:  # put back by ReconcilePolicy for a resend
            return UnknownOutcomeError(
                "the answer to the message was lost when its bind dropped, and it was not "
                "written again; it may have been sent",
                cause=error,
            )
        return UnknownOutcomeError(
            "some parts of the message were sent before its bind dropped; the rest were not",
            cause=error,
        )
    return error


def _pool_timeout(timeout: float | None, job: Job) -> PoolTimeout:
    if job.context is not None:  # a ReconcilePolicy resend: its deadline is the window's
        return PoolTimeout("no bind could resend it within the provider's duplicate window")
    return PoolTimeout(f"no bind took the message within the pool timeout of {timeout} s")


# --- a finished job as the caller's result ------------------------------------------------------


def send_result(job: Job) -> SendResult:
    """The ids of an accepted submit job: the one place a :class:`~smscenter.SendResult` is
    made of SMPP message ids."""
    responses = job.responses
    message = job.message
    client_id = message.client_id if message is not None else None
    if job.context is not None and reconcile.confirmed(job):
        # Some part shown accepted by a duplicate refusal: its id may be unknown ("").
        ids = tuple(mid if isinstance(mid, str) else "" for mid in responses)
        return SendResult(
            message_id=ids[0] or None,
            parts=len(ids),
            part_ids=ids,
            client_id=client_id,
            transport=_SMPP,
            confirmed_by_duplicate=True,
        )
    # Positional (order checked at import, _SEND_RESULT_FIELDS): one per message sent.
    if len(responses) == 1 and type(raw_id := responses[0]) is str:  # the usual message
        # canonical_message_id's common case inline (a decimal id without leading zeros is
        # its own canonical form): this runs once per message.
        if raw_id.isdigit() and raw_id.isascii() and raw_id[0] != "0":
            message_id = raw_id
        else:
            message_id = canonical_message_id(raw_id)
        return _make_smpp_result(
            message_id, 1, None, None, (), (message_id,), client_id, False, _SMPP, raw_id
        )
    ids = tuple(mid if isinstance(mid, str) else "" for mid in responses)
    # __attrs_post_init__ makes the ids canonical and keeps the first one as written.
    return _make_send_result(
        ids[0], len(ids), None, None, (), ids, client_id, False, _SMPP, "", False
    )


_SEND_RESULT_FIELDS = (
    "message_id", "parts", "cost", "balance", "recipients", "part_ids", "client_id",
    "confirmed_by_status", "transport", "raw_message_id", "confirmed_by_duplicate",
)  # fmt: skip
if tuple(f.name for f in attrs.fields(SendResult)) != _SEND_RESULT_FIELDS:  # pragma: no cover
    raise ImportError("SendResult's fields changed: update send_result")


def plain_id(job: Job) -> str | None:
    """The id of a job's one part when it is the provider's usual decimal id, its own
    canonical form (no leading zero), and the job is no ReconcilePolicy resend: the common
    case, which needs no :func:`~smscenter.ids.canonical_message_id`. Else None."""
    responses = job.responses
    if job.context is None and len(responses) == 1:
        raw = responses[0]
        if type(raw) is str and raw.isdigit() and raw.isascii() and raw[0] != "0":
            return raw
    return None


def outcome(job: Job) -> SendOutcome:
    """How a finished ``send_many`` job ended: the one place a
    :class:`~smscenter.smpp.client.results.SendOutcome` is made of a job."""
    message = job.message
    assert message is not None and job.recipient is not None
    # Positional (make_outcome): this runs once per message.
    if job.error is not None or job.state is not _DONE:
        return make_outcome(job.index, message, job.recipient, None, job.error)
    raw_id = plain_id(job)
    if raw_id is not None:
        # send_result's common case inline (one call less per message).
        result = _make_smpp_result(
            raw_id, 1, None, None, (), (raw_id,), message.client_id, False, _SMPP, raw_id
        )
    else:
        result = send_result(job)
    return make_outcome(job.index, message, job.recipient, result, None)


# --- waiting for a job (the callers' side: _waiting.py) ------------------------------------


def noop(job: Job) -> None:
    """A callback for a job nobody waits for (any more)."""
