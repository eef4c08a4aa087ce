"""``SMPPPool.send_many``: many messages through the pool's queue, with a bounded read-ahead,
one :class:`~smscenter.smpp.client.results.SendOutcome` per message and recipient in completion
order (pure scheduling around the queue; the binds do the I/O).

With a store (``tracker``), the jobs read ahead are handed to the pool's claim task, which claims
them in the store shortly before the binds write them and queues them (_claims.py); messages the
store says were sent before are reported from their records, not sent; an outcome is yielded
once the tracker has settled it in the store (_tracking.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

import anyio
import anyio.lowlevel

from smscenter.config import check_read_ahead
from smscenter.exceptions import ConnectionLost, LocalProtocolError
from smscenter.models import Message, SendResult
from smscenter.smpp.client._claims import ClaimOrder
from smscenter.smpp.client._jobs import Job, JobQueue, new_job, outcome
from smscenter.smpp.client._tracking import (
    SendTracker,
    check_tracked,
    outcome_from_record,
)
from smscenter.smpp.client.results import SendOutcome, make_outcome
from smscenter.smpp.receipt_ids import ReceiptIdMatcher
from smscenter.smpp.submit import SubmitBuilder
from smscenter.store._model import TrackedMessage

__all__ = ("HAND_OVER", "send_many")

#: The most jobs one read pass builds before it hands them over and lets the binds run. A full
#: read-ahead (12,000 or more with a store) takes over 100 ms to build: built in one go, nothing
#: is claimed or sent until it is all built.
HAND_OVER = 1024


async def send_many(
    messages: Iterable[Message] | AsyncIterable[Message],
    *,
    urgent: bool,
    read_ahead: int | None,
    default_read_ahead: int,
    read_ahead_now: Callable[[int], int],
    queue: JobQueue,
    builder: SubmitBuilder,
    matcher: ReceiptIdMatcher,
    check_open: Callable[[], None],
    tracker: SendTracker | None = None,
    resend_unknown: bool = False,
) -> AsyncIterator[SendOutcome]:
    """The generator behind ``SMPPPool.send_many`` (its docstring says what it does).

    :param read_ahead_now: the read-ahead allowed now, given the cap (less under a rate limit).
    :param check_open: raises when the pool cannot send (run at the first step, as a method
        that is itself a generator would).
    :param tracker: the pool's store side, if it has a store.
    :param resend_unknown: (with a store) send records of unknown outcome again.
    """
    check_open()
    cap = check_read_ahead(read_ahead) or default_read_ahead
    build = builder.build
    done: deque[Job] = deque()
    early: deque[SendOutcome] = deque()
    waiter: list[anyio.Event | None] = [None]

    def finished(job: Job) -> None:
        # Before a receipt of the same read is handled (pool._saw); _asks_receipt inline.
        if matcher.learning and (job.message is None or job.message.report):
            matcher.saw(job.responses)
        done.append(job)
        event = waiter[0]
        if event is not None:
            waiter[0] = None
            event.set()

    # With a store: a job that ends is settled first; its outcome waits in `settled`.
    settled: deque[SendOutcome] = deque()

    def settled_one(job: Job, result: SendResult | None, error: BaseException | None) -> None:
        assert job.message is not None and job.recipient is not None
        if result is None and error is None:
            # Accepted: its outcome is made as it is yielded, as without a store (one at a
            # time, rather than a batch of them after the store's commit).
            done.append(job)
        else:
            settled.append(make_outcome(job.index, job.message, job.recipient, result, error))
        event = waiter[0]
        if event is not None:
            waiter[0] = None
            event.set()

    def ended(job: Job) -> None:
        if matcher.learning and _asks_receipt(job):
            matcher.saw(job.responses)
        assert tracker is not None
        tracker.claims.ended(job)
        tracker.ended(job, settled_one)

    callback = finished if tracker is None else ended

    def wake() -> None:
        event = waiter[0]
        if event is not None:
            waiter[0] = None
            event.set()

    # With a store, the pool's claim task claims the jobs handed over and queues them
    # (_claims.py): this generator never waits for the store.
    order = None
    if tracker is not None:

        def push(jobs: list[Job]) -> None:
            queue.push_many(jobs, urgent)
            queue.wake_all()

        def declined(job: Job, record: TrackedMessage) -> None:
            settled.append(outcome_from_record(job, record))
            wake()

        order = ClaimOrder(push, settled_one, declined, wake, resend_unknown)

    def give(jobs: list[Job]) -> None:
        if order is None:
            queue.push_many(jobs, urgent)
            queue.wake_all()
        else:
            assert tracker is not None
            tracker.claims.hand(order, jobs)

    if isinstance(messages, AsyncIterable):
        async_it: AsyncIterator[Message] | None = aiter(messages)
        sync_it = None
    else:
        async_it = None
        sync_it = iter(messages)
    exhausted = False
    index = 0
    # Jobs queued so far, and outcomes yielded: the difference is what this call holds
    # (queued, in flight, or finished and not yet yielded), bounded by the read-ahead.
    taken = given = 0
    try:
        while True:
            limit = read_ahead_now(cap)
            if not exhausted and limit - (taken - given) >= 1:
                timeout = queue.pool_timeout
                deadline = None if timeout is None else anyio.current_time() + timeout
                batch: list[Job] = []
                room = limit - (taken - given)
                # A pass builds at most HAND_OVER jobs before handing them over: the first
                # sends (and, with a store, their claim) start while the rest is built.
                more_after = room > HAND_OVER
                room = min(room, HAND_OVER)
                while len(batch) < room:
                    try:
                        if sync_it is not None:
                            message = next(sync_it)
                        else:
                            assert async_it is not None
                            if batch:
                                # What the source gave so far goes out before waiting for
                                # more (a slow source must not hold messages back).
                                give(batch)
                                taken += len(batch)
                                room -= len(batch)
                                batch = []
                            message = await anext(async_it)
                            if timeout is not None:  # its wait starts now
                                deadline = anyio.current_time() + timeout
                    except (StopIteration, StopAsyncIteration):
                        exhausted = True
                        break
                    if tracker is not None:
                        try:
                            check_tracked(message)
                        except ValueError as exc:  # nothing was sent or recorded
                            early.extend(
                                SendOutcome(
                                    index=index, message=message, recipient=recipient, error=exc
                                )
                                for recipient in message.to
                            )
                            index += 1
                            continue
                    for recipient in message.to:
                        try:
                            parts = build(message, recipient)
                        except (ValueError, LocalProtocolError) as exc:  # nothing was sent
                            early.append(
                                SendOutcome(
                                    index=index,
                                    message=message,
                                    recipient=recipient,
                                    error=exc,
                                )
                            )
                            continue
                        job = new_job(
                            parts, callback, urgent, deadline, True, message, recipient, index
                        )
                        batch.append(job)
                    index += 1
                if batch:
                    give(batch)
                    taken += len(batch)
                if more_after and not exhausted:
                    # More room than one pass builds: let the binds (and the claim task) take
                    # what was handed over before building the next pass.
                    await anyio.lowlevel.checkpoint()
            if order is not None and order.error is not None:
                raise order.error  # a claim failed: nothing of it was recorded or sent
            while early:
                yield early.popleft()
            while done:
                given += 1
                yield outcome(done.popleft())
            while settled:
                given += 1
                yield settled.popleft()
            if exhausted and taken == given and not early:
                return
            if done or early or settled or (not exhausted and limit - (taken - given) >= 1):
                continue
            event = waiter[0] = anyio.Event()
            await event.wait()
    finally:
        # What is still queued is withdrawn; what was written ends on its bind, unheard (with
        # a store, settled all the same).
        withdrawn = queue.withdraw(lambda job: job.callback == callback)
        if tracker is not None and order is not None:
            tracker.claims.leave(order)
            tracker.claims.withdrawn(
                withdrawn, ConnectionLost("send_many was left before the message was written")
            )


def _asks_receipt(job: Job) -> bool:
    """Whether a receipt can come for the job's message: only a send that asked for one
    (``registered_delivery``, SMPP 3.4 §5.2.17) is worth remembering for the receipt id
    matcher; remembering the others would only push out ids that receipts will name."""
    message = job.message
    return message is None or message.report
