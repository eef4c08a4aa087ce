"""How a caller waits for its job, and the queue's watchdog: :func:`run_job` (``send`` and
``query`` of the pool and the session), :func:`watch_queue`, :func:`query_through` (split from
:mod:`~smscenter.smpp.client._jobs`, which has the jobs and their queue)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.abc

from smscenter.exceptions import ValidationError
from smscenter.models import Message, MessageStatus
from smscenter.smpp.client._jobs import Job, JobQueue, new_job, noop
from smscenter.smpp.client.results import QueryResult
from smscenter.smpp.constants import HEADER_LENGTH, CommandId
from smscenter.smpp.pdu import QuerySm, QuerySmResp

__all__ = ("check_single", "query_result", "query_through", "run_job", "watch_queue")


def query_result(job: Job) -> QueryResult:
    """The answer of a finished ``query_sm`` job."""
    pdu = job.responses[0]
    assert isinstance(pdu, QuerySmResp)
    return QueryResult(
        message_id=pdu.message_id,
        status=MessageStatus.from_message_state(pdu.message_state),
        message_state=pdu.message_state,
        final_date=pdu.final_date,
        error_code=pdu.error_code,
    )


async def run_job(queue: JobQueue, job: Job, observe: Callable[[Job], None] | None = None) -> Job:
    """Queue ``job`` and wait for it. A caller cancelled while the job is still queued takes
    it back out: nothing of it stays behind. ``observe`` sees the job the moment it finishes
    (before any later PDU of the same read is handled)."""
    done = anyio.Event()
    if observe is None:
        job.callback = lambda _job: done.set()
    else:

        def finished(job: Job) -> None:
            observe(job)
            done.set()

        job.callback = finished
    queue.push(job, anyio.current_time())
    try:
        await done.wait()
    except BaseException:
        if not queue.remove(job):
            job.callback = noop
        raise
    return job


async def watch_queue(
    queue: JobQueue, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    """(A task) fail queued jobs that wait past ``Timeouts.pool``, also while no bind is up."""
    task_status.started()
    while True:
        event = anyio.Event()
        queue.set_watchdog(event.set)
        now = anyio.current_time()
        nxt = queue.expire(now)
        with anyio.move_on_after(None if nxt is None else max(0.0, nxt - now)):
            await event.wait()


def check_single(message: Message) -> str:
    """The one recipient of ``message``; ``send`` takes single-recipient messages only."""
    if len(message.to) != 1:
        raise ValidationError(
            f"send() takes a message to one recipient; this one has {len(message.to)}. Use "
            "send_many(), which yields one outcome per recipient"
        )
    return message.to[0]


async def query_through(queue: JobQueue, message_id: str, source_addr: str) -> QueryResult:
    """Send ``query_sm`` through whichever bind of ``queue`` takes it first (urgent, outside
    the rate limit) and return its answer."""
    query = QuerySm(message_id=message_id, source_addr=source_addr)
    # Encoded now: a bad field fails here, before anything is queued.
    body = query.encode()[HEADER_LENGTH:]
    job = await run_job(
        queue, new_job((body,), noop, True, counts_rate=False, command_id=CommandId.QUERY_SM)
    )
    if job.error is not None:
        raise job.error
    return query_result(job)
