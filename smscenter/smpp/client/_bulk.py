"""``SMPPPool.send_many``: many messages through the pool's queue, with a bounded read-ahead,
one :class:`~smscenter.smpp.client.results.SendOutcome` per message and recipient in completion
order (pure scheduling around the queue; the binds do the I/O)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

import anyio

from smscenter.config import check_read_ahead
from smscenter.exceptions import LocalProtocolError
from smscenter.models import Message
from smscenter.smpp.client._jobs import Job, JobQueue, outcome
from smscenter.smpp.client.results import SendOutcome
from smscenter.smpp.receipt_ids import ReceiptIdMatcher
from smscenter.smpp.submit import SubmitBuilder

__all__ = ("send_many",)


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
) -> AsyncIterator[SendOutcome]:
    """The generator behind ``SMPPPool.send_many`` (its docstring says what it does).

    :param read_ahead_now: the read-ahead allowed now, given the cap (less under a rate limit).
    :param check_open: raises when the pool cannot send (run at the first step, as a method
        that is itself a generator would).
    """
    check_open()
    cap = check_read_ahead(read_ahead) or default_read_ahead
    build = builder.build
    done: deque[Job] = deque()
    early: deque[SendOutcome] = deque()
    waiter: list[anyio.Event | None] = [None]

    def finished(job: Job) -> None:
        if matcher.learning:  # before a receipt in the same read is handled (pool._saw)
            matcher.saw(job.responses)
        done.append(job)
        event = waiter[0]
        if event is not None:
            waiter[0] = None
            event.set()

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
            if not exhausted and taken - given < limit:
                timeout = queue.pool_timeout
                deadline = None if timeout is None else anyio.current_time() + timeout
                batch: list[Job] = []
                room = limit - (taken - given)
                while len(batch) < room:
                    try:
                        if sync_it is not None:
                            message = next(sync_it)
                        else:
                            assert async_it is not None
                            if batch:
                                # What the source gave so far goes out before waiting for
                                # more (a slow source must not hold messages back).
                                taken += len(batch)
                                room -= len(batch)
                                queue.push_many(batch, urgent)
                                queue.wake_all()
                                batch = []
                            message = await anext(async_it)
                            if timeout is not None:  # its wait starts now
                                deadline = anyio.current_time() + timeout
                    except (StopIteration, StopAsyncIteration):
                        exhausted = True
                        break
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
                        job = Job(
                            parts, finished, urgent, deadline, True, message, recipient, index
                        )
                        batch.append(job)
                    index += 1
                taken += len(batch)
                queue.push_many(batch, urgent)
                queue.wake_all()
            while early:
                yield early.popleft()
            while done:
                given += 1
                yield outcome(done.popleft())
            if exhausted and taken == given and not early:
                return
            if done or early or (not exhausted and taken - given < limit):
                continue
            event = waiter[0] = anyio.Event()
            await event.wait()
    finally:
        # What is still queued is withdrawn; what was written ends on its bind, unheard.
        queue.withdraw(lambda job: job.callback == finished)
