"""The writer's decisions for one bind: which queued parts go into the connection now, and
what happens to the work a bind leaves behind when its link ends.

Pure and synchronous, like :mod:`~smscenter.smpp.client._inflight` (httpcore's pool decides in
sync code the same way): no socket, no clock, no task. The session's writer task calls
:meth:`Pump.pump` on each wake-up with ``now``, then sends whatever the connection queued in
one write; it waits as long as :meth:`Pump.pump` says (a throttle pause, the rate limit) or for
the next wake-up.

What a run writes, in order:

- jobs with throttled parts to write again (:attr:`InFlight.retry
  <smscenter.smpp.client._inflight.InFlight.retry>`), then new jobs from the queue;
- each part takes one window slot; the parts of one long message are written back to back
  (smscentre.com/api/smpp: every part must reach the provider within a minute), and a window
  that fills in the middle of one finishes it first next time;
- a run of jobs of one kind goes through one ``send_encoded`` call (one write on the socket).

Nothing new is written while a throttle answer's pause lasts, while an answer is overdue (the
bind waits for its ``enquire_link`` probe, overdue.py), or outside a bound state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smscenter.exceptions import LocalProtocolError
from smscenter.smpp.client._jobs import Job, JobState
from smscenter.smpp.client.reconcile import too_late
from smscenter.smpp.connection import State
from smscenter.smpp.constants import CommandId

if TYPE_CHECKING:
    from smscenter.smpp.client._inflight import InFlight
    from smscenter.smpp.client._jobs import JobQueue
    from smscenter.smpp.client._ratelimit import SendRate, ThrottlePause
    from smscenter.smpp.client.overdue import Overdue
    from smscenter.smpp.client.results import Counters
    from smscenter.smpp.connection import SMPPConnection

__all__ = ("Pump",)

_SUBMIT_SM = CommandId.SUBMIT_SM
_QUEUED = JobState.QUEUED
_STARTED = JobState.STARTED
_SENDING = (State.BOUND_TX, State.BOUND_TRX)


class Pump:
    """What one bind's writer takes from the queue and hands to the connection.

    :param conn: the bind's connection (its window says how much may go out).
    :param queue: the jobs the bind pulls from (shared by a pool's binds).
    :param limiter: the send rate (shared by a pool's binds).
    :param inflight: where written parts wait for their answers.
    :param counters: the statistics this bind adds to.
    :param throttle: the bind's pause after a throttle answer.
    :param overdue: whether an answer is overdue (then nothing new goes out).
    :param response: ``Timeouts.response``: how long a written part may wait for its answer.
    :param wrote: called once per run that wrote something, with the deadline of what it
        wrote (None: none), so the session's timer can look at it.
    """

    __slots__ = (
        "_response",
        "_wrote",
        "conn",
        "counters",
        "current",
        "halt_at",
        "halted",
        "inflight",
        "limiter",
        "overdue",
        "paid",
        "queue",
        "taking",
        "throttle",
    )

    def __init__(
        self,
        conn: SMPPConnection,
        queue: JobQueue,
        limiter: SendRate,
        inflight: InFlight,
        counters: Counters,
        throttle: ThrottlePause,
        overdue: Overdue,
        response: float | None,
        wrote: Callable[[float | None], None],
    ) -> None:
        # Public: the reader's dispatch works with the same collaborators.
        self.conn = conn
        self.queue = queue
        self.limiter = limiter
        self.inflight = inflight
        self.counters = counters
        self.throttle = throttle
        self.overdue = overdue
        self._response = response
        self._wrote = wrote
        #: The job the writer is in the middle of (a long message the window cut, or one that
        #: waits for the rate limit).
        self.current: Job | None = None
        #: Whether :attr:`current` has had its rate-limit tokens already.
        self.paid = False
        #: Whether the bind takes new work from the queue (not while closing).
        self.taking = False
        #: Nothing more is written (:meth:`halt`).
        self.halted = False
        #: A fleet lease's stop time (``now`` on the same clock), asked before every run:
        #: from then on nothing is written, even before :meth:`halt` is called.
        self.halt_at: Callable[[], float] | None = None

    @property
    def busy(self) -> bool:
        """Parts in flight, or work taken and not all written yet."""
        inflight = self.inflight
        return bool(inflight.pending or self.current is not None or inflight.retry)

    def pump(self, now: float) -> float | None:
        """Move work into the connection: the parts of every job the window has room for,
        written through one ``send_encoded`` call per run of jobs of one kind (one write).
        Returns how long to wait before trying again when a throttle pause or the rate limit
        holds it back (None: wait for a wake-up)."""
        if self.halted or (self.halt_at is not None and now >= self.halt_at()):
            return None
        paused = self.throttle.left(now)
        if paused:
            return paused
        if self.overdue.stalled:
            return None  # an answer is overdue: nothing new until the probe answers
        if self.conn.state not in _SENDING:
            return None  # (nor while unbinding)
        limiter = self.limiter
        queue = self.queue
        retry = self.inflight.retry
        counters = self.counters
        response = self._response
        deadline = now + response if response is not None else None
        job = self.current
        paid = self.paid
        sent = False
        # No limit in force: only count what goes out (for the rate a throttle answer halves),
        # once for the whole batch.
        unlimited = limiter.rate is None
        counted = 0
        # Every part (submit_sm, query_sm) takes one window slot: count locally.
        room = self.conn.window_available
        command_id = _SUBMIT_SM
        bodies: list[bytes] = []
        parts: list[tuple[Job, int]] = []
        while room > 0:
            if job is None:
                if retry:
                    job = retry.popleft()
                elif self.taking:
                    # JobQueue.pop's common case inline (one call less per message): the
                    # first bulk job, queued and not past its deadline, with no urgent one.
                    bulk = queue.bulk
                    if (
                        bulk
                        and not queue.urgent
                        and (job := bulk[0]).state is _QUEUED
                        and (job.deadline is None or job.deadline > now)
                    ):
                        bulk.popleft()
                        job.state = _STARTED
                        if job.taken_at is None:
                            job.taken_at = now
                    else:
                        job = queue.pop(now)
                        if job is None:
                            break
                    job.attempts += 1
                else:
                    break
                paid = False
            if job.context is not None and too_late(job, now):
                # A resend that a pause held past its duplicate window (ReconcilePolicy):
                # too_late failed it, unwritten.
                counters.unknown += 1
            todo = job.todo
            if not todo:  # failed while waiting: nothing left to write
                if not job.in_flight:  # (else its last answer finishes it)
                    job.finish_if_done()
                job = None
                continue
            if not paid and job.counts_rate:
                if unlimited:
                    counted += len(todo)
                else:
                    wait = limiter.take(len(todo), now)
                    if wait > 0:
                        if bodies:
                            self._write(command_id, bodies, parts, deadline)
                            sent = True
                        if sent:
                            self._wrote(deadline)
                        self.current, self.paid = job, False
                        return wait
            paid = True
            if job.command_id is not command_id:
                if bodies:  # keep the order: what was collected goes first
                    self._write(command_id, bodies, parts, deadline)
                    sent = True
                command_id = job.command_id
            job_parts = job.parts
            if len(todo) == 1:  # nearly every job: one part
                index = todo.pop()
                bodies.append(job_parts[index])
                parts.append((job, index))
                job.in_flight += 1
                room -= 1
            else:
                take = todo[:room]
                del todo[:room]
                for index in take:
                    bodies.append(job_parts[index])
                    parts.append((job, index))
                job.in_flight += len(take)
                room -= len(take)
            job.written = True
            if todo:
                break  # window full in the middle of a long message: finish it first next time
            job = None
        if bodies:
            self._write(command_id, bodies, parts, deadline)
            sent = True
        self.current, self.paid = job, paid
        if counted:
            limiter.note(counted, now)
        if self.taking and room <= 0 and len(queue):
            queue.wake_one()  # this bind is full: pass the rest on to one with room
        if sent:
            self._wrote(deadline)
        return None

    def _write(
        self,
        command_id: CommandId,
        bodies: list[bytes],
        parts: list[tuple[Job, int]],
        deadline: float | None,
    ) -> None:
        """Queue the collected parts (``bodies[i]`` is part ``parts[i]``, its job's bookkeeping
        done but for the sequence number) in the connection; empties both lists."""
        try:
            seqs = self.conn.send_encoded(command_id, bodies, deadline=deadline)
        except LocalProtocolError as exc:  # pragma: no cover - pump() checked state and room
            for job, _index in parts:
                job.in_flight -= 1
                job.fail(exc)
                job.todo.clear()
            for job, _index in parts:
                job.finish_if_done()
        else:
            self.inflight.written(seqs, parts)
            if command_id is _SUBMIT_SM:
                self.counters.submitted += len(seqs)
        bodies.clear()
        parts.clear()

    def take_back_unwritten(self) -> Job | None:
        """Hand back the job taken from the queue of which no part is written yet (it waits
        for the rate limit); None if there is none."""
        job = self.current
        if job is None or job.written or job.in_flight or job.state is not JobState.STARTED:
            return None
        self.current, self.paid = None, False
        return job

    def halt(self) -> None:
        """Write nothing more (the bind's fleet lease ends): the job taken and not written yet,
        and the jobs waiting to write throttled parts again with nothing in flight, go back to
        the queue for the other binds."""
        self.halted = True
        queue = self.queue
        held = self.take_back_unwritten()
        if held is not None:
            queue.push_back(held)
        retry = self.inflight.retry
        for job in [job for job in retry if not job.in_flight]:
            retry.remove(job)
            queue.push_back(job)
        queue.wake_one()

    def settle_all(
        self, unknown: Callable[[], BaseException], take_back: Callable[[Job, int], bool]
    ) -> None:
        """The link is over: every part in flight is taken back (``take_back(job, index)``
        allows it: it goes to another bind) or fails with ``unknown()``; the job the writer was
        in the middle of, and those waiting to write throttled parts again, go back to the
        queue unless they have failed. Every job ends up queued again or finished."""
        resend, answered_never = self.inflight.fail_all(unknown, take_back)
        queue = self.queue
        leftovers: list[Job] = []
        if self.current is not None:
            leftovers.append(self.current)
            self.current = None
        retry = self.inflight.retry
        leftovers.extend(retry)
        retry.clear()
        # A long message cut mid-window is both a leftover and a resend: back once, not twice.
        leftovers.extend(job for job in resend if job not in leftovers)
        for job in leftovers:
            if job.state is JobState.DONE:
                continue
            if job.error is None and job.todo:
                if job.in_flight:
                    continue  # its last answers will never come: settled above
                job.attempts += 1
                queue.push_back(job)
            else:
                job.finish_if_done()
        for job in answered_never:
            if job.state is not JobState.QUEUED:
                job.finish_if_done()
        if resend or leftovers:
            queue.wake_one()
