"""With a store: ``send_many``'s messages are claimed in the store shortly before the binds
write them, by the pool's claim task, not by ``send_many`` as it reads ahead.

``send_many`` hands its jobs over (:meth:`Claims.hand`, synchronous) and goes on yielding
outcomes; the claim task claims them (``prepare``: ``SENDING``, durably) in chunks of about a
window and queues them, keeping at most :attr:`Claims.ahead` claimed jobs not yet ended (queued
or in flight: about three windows per bind). So:

- the binds never wait for ``send_many`` to claim: the next chunk is claimed while the one
  before is written, and the claim joins the store's transaction of the settlements and
  receipts of that moment (one commit for all of them); a claim does not wait for the one
  before it to come back, only for room;
- a crash leaves at most :attr:`Claims.ahead` records claimed and not yet answered (read as
  ``unknown`` later), however far ``send_many`` reads ahead: messages read but not yet claimed
  have no record, and a resumed run sends them.

A claim that fails ends its order: ``send_many`` raises the store's error, and the jobs not
claimed yet are dropped unsent (they have no record). Jobs whose ``send_many`` left while
their claim ran are settled as never written (``FAILED``, safe to send again).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from smscenter.exceptions import ConnectionLost
from smscenter.models import SendResult
from smscenter.smpp.client._jobs import Job, JobState, _not_sent
from smscenter.store._model import TrackedMessage

if TYPE_CHECKING:
    from smscenter.smpp.client._tracking import SendTracker

__all__ = ("ClaimOrder", "Claims")

_LEFT = ConnectionLost("send_many was left before the message was written")


class ClaimOrder:
    """One ``send_many`` call's side of the claims.

    :param push: queues claimed jobs (in order) for the binds.
    :param outcome: ends a job that was never queued: ``(job, None, error)``.
    :param declined: a job the store said not to send, with the record that says why.
    :param wake: wakes ``send_many`` (to raise :attr:`error`).
    :param resend_unknown: ``send_many``'s flag, for ``prepare``.
    """

    __slots__ = (
        "declined",
        "error",
        "left",
        "outcome",
        "push",
        "resend_unknown",
        "waiting",
        "wake",
    )

    def __init__(
        self,
        push: Callable[[list[Job]], None],
        outcome: Callable[[Job, SendResult | None, BaseException | None], None],
        declined: Callable[[Job, TrackedMessage], None],
        wake: Callable[[], None],
        resend_unknown: bool,
    ) -> None:
        self.push = push
        self.outcome = outcome
        self.declined = declined
        self.wake = wake
        self.resend_unknown = resend_unknown
        self.waiting: deque[Job] = deque()  # handed over, not claimed yet
        #: Why a claim failed (send_many raises it; nothing more of the order is claimed).
        self.error: BaseException | None = None
        self.left = False  # send_many is gone

    def drop(self, error: BaseException | None = None) -> list[Job]:
        """Take back the jobs not claimed yet (no record has them); with ``error``, end each
        with it (as never sent). Returns them."""
        jobs = list(self.waiting)
        self.waiting.clear()
        for job in jobs:
            job.state = JobState.CANCELLED
            if error is not None:
                job.fail(_not_sent(job, error))
                self.outcome(job, None, job.error)
        return jobs


class Claims:
    """The pool's claim task and its bookkeeping (see the module docstring).

    :param tracker: claims (``prepare``) and settles.
    :param ahead: the most claimed jobs not yet ended.
    """

    __slots__ = (
        "_claimed",
        "_closed",
        "_event",
        "_idle",
        "_orders",
        "_running",
        "_tracker",
        "ahead",
        "chunk",
    )

    def __init__(self, tracker: SendTracker, ahead: int) -> None:
        self._tracker = tracker
        self.ahead = max(1, ahead)
        #: The smallest claim while more waits (fewer, larger prepare calls).
        self.chunk = max(1, self.ahead // 3)
        self._orders: deque[ClaimOrder] = deque()
        self._claimed = 0  # claimed (or being claimed) and not ended yet
        self._event: anyio.Event | None = None
        self._closed: BaseException | None = None
        self._running = 0  # claims in flight
        self._idle: anyio.Event | None = None

    def hand(self, order: ClaimOrder, jobs: list[Job]) -> None:
        """Jobs of ``order`` to claim and queue (synchronous)."""
        if self._closed is not None:
            order.waiting.extend(jobs)
            order.drop(self._closed)
            return
        if not order.waiting:
            self._orders.append(order)
        order.waiting.extend(jobs)
        if self._event is not None and self._ready():
            self._wake()

    def ended(self, job: Job) -> None:
        """A claimed job ended (its settlement is on its way)."""
        claimed = self._claimed = self._claimed - 1
        event = self._event
        if event is None:
            return
        # _ready() inline: this runs once per message.
        room = self.ahead - claimed
        orders = self._orders
        if room > 0 and orders and (room >= self.chunk or room >= len(orders[0].waiting)):
            self._event = None
            event.set()

    def _ready(self) -> bool:
        """Whether the claim task has something to claim now (see :meth:`_next`): checked
        before waking it, as jobs are handed over and end one by one."""
        room = self.ahead - self._claimed
        if room <= 0 or not self._orders:
            return False
        return room >= self.chunk or room >= len(self._orders[0].waiting)

    def _wake(self) -> None:
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    def _next(self) -> tuple[ClaimOrder, int] | None:
        """The order to claim from now and how many (None: nothing to claim now)."""
        orders = self._orders
        while orders and (orders[0].left or not orders[0].waiting or orders[0].error):
            orders.popleft()
        if not orders:
            return None
        order = orders[0]
        room = self.ahead - self._claimed
        count = min(room, len(order.waiting))
        # A chunk at a time, or all that waits when that is less.
        if count <= 0 or (count < self.chunk and count < len(order.waiting)):
            return None
        return order, count

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Claim and queue jobs as room frees up (the pool's task).

        A claim does not wait for the one before to come back: while the store writes one
        transaction, the claims that room allows meanwhile are handed to it too, so they join
        the next transaction with the settlements and receipts of that moment instead of
        waiting for it to end and then for one more of their own (the binds ran dry
        meanwhile). :attr:`ahead` bounds them all the same."""
        task_status.started()
        async with anyio.create_task_group() as tg:
            while True:
                found = self._next()
                if found is None:
                    event = self._event = anyio.Event()
                    await event.wait()
                    continue
                order, count = found
                waiting = order.waiting
                if count == len(waiting):
                    jobs = list(waiting)
                    waiting.clear()
                else:
                    jobs = [waiting.popleft() for _ in range(count)]
                self._claimed += count
                self._running += 1
                tg.start_soon(self._claim_then, order, jobs)

    async def _claim_then(self, order: ClaimOrder, jobs: list[Job]) -> None:
        try:
            await self._claim(order, jobs)
        finally:
            self._running -= 1
            if not self._running and self._idle is not None:
                self._idle.set()
            # Room may have freed (declined or failed claims): the claim task looks again.
            if self._event is not None and self._ready():
                self._wake()

    async def _claim(self, order: ClaimOrder, jobs: list[Job]) -> None:
        # Cancelled here (the pool is closing): whether the store claimed them is not known,
        # so nothing is settled; a claimed one stays 'sending', read as unknown later.
        try:
            records = await self._tracker.claim(jobs, order.resend_unknown)
        except Exception as exc:  # nothing of this claim was recorded: nothing is sent
            self._claimed -= len(jobs)
            for job in jobs:
                job.state = JobState.CANCELLED
            if order.error is None and not order.left:
                order.error = exc  # send_many raises it; the rest of the order is dropped
                order.drop()
                order.wake()
            return
        if records.count(None) == len(records):  # all to send (the usual case)
            go = jobs
        else:
            go = self._declined(order, jobs, records)
        if not go:
            return
        error = _LEFT if order.left else self._closed
        if error is not None:  # claimed and never written: settled as such
            self.withdrawn(go, error)
        else:
            order.push(go)

    def _declined(
        self, order: ClaimOrder, jobs: list[Job], records: list[TrackedMessage | None]
    ) -> list[Job]:
        """Hand ``order`` the jobs the store said not to send; return the others."""
        go = []
        for job, record in zip(jobs, records, strict=True):
            if record is None:
                go.append(job)
            else:
                self._claimed -= 1
                if not order.left:
                    order.declined(job, record)
        return go

    def withdrawn(self, jobs: list[Job], error: BaseException) -> None:
        """Claimed jobs taken back unwritten: settled as such (they end here)."""
        self._claimed -= len(jobs)
        self._tracker.withdrawn(jobs, error)

    def leave(self, order: ClaimOrder) -> None:
        """``order``'s send_many is gone: its unclaimed jobs are dropped (they have no record)."""
        order.left = True
        order.drop()

    def withdraw(self, error: BaseException) -> list[Job]:
        """Take back every job not claimed yet, ending each with ``error`` (the pool's
        ``withdraw_queued``)."""
        jobs: list[Job] = []
        for order in self._orders:
            if not order.left:
                jobs += order.drop(error)
        return jobs

    async def close(self, error: BaseException) -> None:
        """The pool is closing: end what is not claimed with ``error``, and wait for the claims
        in flight (their jobs are then settled as never written)."""
        self._closed = error
        for order in self._orders:
            if not order.left:
                order.drop(error)
        self._orders.clear()
        while self._running:
            idle = self._idle = anyio.Event()
            await idle.wait()
