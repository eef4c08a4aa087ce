"""``run_worker``: one worker of a fleet, taking a campaign's messages from a
:class:`~smscenter.fleet.WorkQueue` and sending them through an :class:`~smscenter.SMPPPool`
that tracks them in the same :class:`~smscenter.store.RedisStore`.

The pool does the tracking (``SMPPPool(..., store=store)``): each batch is claimed in the store
before any of it goes out, a message the store holds as sent before (by this worker or a dead
one) is reported from its record and not sent, and an outcome is yielded only once the store
has it. The worker acknowledges an entry only after that outcome, so a worker killed at any
point leaves entries that others take over (``XAUTOCLAIM``) and records that say what went out.

Several *lanes* run at once, each taking a batch (``XREADGROUP COUNT``: only what fits), sending
it with ``send_many`` and acknowledging its outcomes, so one lane's last answers do not hold the
pool idle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import aclosing
from datetime import timedelta
from typing import Any

import anyio
import attrs

from smscenter.exceptions import UnknownOutcomeError
from smscenter.fleet.queue import WorkItem, WorkQueue
from smscenter.store._model import StoreError, TrackedState

__all__ = ("WorkerStats", "run_worker")

_log = logging.getLogger("smscenter.fleet")


@attrs.define
class WorkerStats:
    """What one worker did (counts of messages).

    :ivar taken: entries taken from the queue (``claimed`` of them from stopped workers).
    :ivar accepted: sent now and accepted by the SMSC.
    :ivar already_done: not sent: the store had them accepted (or later) or refused before.
    :ivar unknown: of unknown outcome (written and never answered, now or by a worker that
        stopped): not sent again.
    :ivar failed: refused, or failed before the SMSC had them.
    :ivar elsewhere: not sent: another live worker is sending them (it took them over from
        this one, or they were queued twice); that worker settles them.
    :ivar acknowledged: entries acknowledged (their outcome was in the store).
    :ivar store_errors: batches the store could not claim (retried later; nothing was sent).
    :ivar pool_store_errors: the pool's failed store writes (``SMPPPool.statistics()``): how
        sends ended, kept and tried again until the store took them, and receipts, answered
        "try later" so that the SMSC delivers them again.
    """

    taken: int = 0
    claimed: int = 0
    accepted: int = 0
    already_done: int = 0
    unknown: int = 0
    failed: int = 0
    elsewhere: int = 0
    acknowledged: int = 0
    store_errors: int = 0
    pool_store_errors: int = 0


async def run_worker(
    pool: Any,
    queue: WorkQueue,
    *,
    batch: int = 100,
    lanes: int = 2,
    until_empty: bool = False,
    poll: timedelta = timedelta(seconds=1),
    resend_unknown: bool = False,
    stop: anyio.Event | None = None,
    on_outcome: Callable[[Any], None] | None = None,
) -> WorkerStats:
    """Take, send and acknowledge the queue's messages until ``stop`` is set (or, with
    ``until_empty``, until the queue has no entry left, its own or another worker's).

    :param pool: an open :class:`~smscenter.SMPPPool` given ``store=`` the queue's store.
    :param queue: the work queue.
    :param batch: messages per lane per ``send_many`` call (what a lane takes at once).
    :param lanes: batches in progress at once.
    :param poll: how long one read waits for new entries.
    :param resend_unknown: send again messages the store holds as ``unknown`` (they may then
        arrive twice). Off: they are reported and acknowledged, never resent blindly.
    :param stop: set it to stop taking messages; the batches in progress finish.
    :param on_outcome: called with each :class:`~smscenter.SendOutcome`.
    """
    if batch < 1 or lanes < 1:
        raise ValueError("batch and lanes must be at least 1")
    stats = WorkerStats()
    stop = stop or anyio.Event()

    async def lane() -> None:
        failures = 0
        while not stop.is_set():
            try:
                if not pool.statistics().binds_up:
                    # No bind (every fleet slot is held elsewhere, or the link is down): take
                    # nothing that would only wait here while other workers could send it.
                    if until_empty and (await queue.progress()).remaining == 0:
                        return
                    with anyio.move_on_after(0.1):
                        await stop.wait()
                    continue
                items = await queue.take(batch, block=poll)
                if not items:
                    if until_empty and (await queue.progress()).remaining == 0:
                        return
                    continue
                await _send_batch(pool, queue, items, stats, resend_unknown, on_outcome)
                failures = 0
            except StoreError as exc:
                # Redis is away (or refused): nothing of this batch was sent or acknowledged;
                # its entries stay ours until we, or another worker, take them again.
                stats.store_errors += 1
                failures += 1
                _log.warning("worker: %s; trying again", exc)
                with anyio.move_on_after(min(5.0, 0.1 * 2**failures)):
                    await stop.wait()

    async with anyio.create_task_group() as group:
        for _ in range(lanes):
            group.start_soon(lane)
    stats.pool_store_errors = pool.statistics().store_errors
    try:
        await queue.leave()
    except StoreError:  # pragma: no cover - best effort on the way out
        pass
    return stats


async def _send_batch(
    pool: Any,
    queue: WorkQueue,
    items: list[WorkItem],
    stats: WorkerStats,
    resend_unknown: bool,
    on_outcome: Callable[[Any], None] | None,
) -> None:
    stats.taken += len(items)
    stats.claimed += sum(1 for i in items if i.claimed)
    # Entries whose record was purged carry no message: nothing to send, done.
    by_cid: dict[str, list[str]] = {}
    gone = []
    for item in items:
        if item.message is None:
            gone.append(item.entry_id)
        else:
            by_cid.setdefault(item.client_id, []).append(item.entry_id)
    messages = [i.message for i in items if i.message is not None]
    # One entry per client id goes to the pool; a second entry of the same id (queued again
    # while the first was still pending) is acknowledged with the first's outcome.
    unique = list({str(m.client_id): m for m in messages}.values())
    acks: list[str] = gone

    async def keep_mine(scope: anyio.CancelScope) -> None:
        # Entries wait here for the rate and the answers: keep them ours meanwhile.
        period = queue.claim_idle.total_seconds() / 3
        with scope:
            while True:
                await anyio.sleep(period)
                held = [i for ids in by_cid.values() for i in ids]
                try:
                    await queue.touch(held)
                except StoreError as exc:  # Redis away: others may claim them; the store decides
                    _log.warning("worker: could not keep its entries: %s", exc)

    try:
        async with anyio.create_task_group() as group:
            toucher = anyio.CancelScope()
            group.start_soon(keep_mine, toucher)
            outcomes = pool.send_many(unique, resend_unknown=resend_unknown)
            async with aclosing(outcomes):
                async for outcome in outcomes:
                    _count(stats, outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
                    entries = by_cid.pop(str(outcome.message.client_id), [])
                    if not isinstance(outcome.error, StoreError):
                        acks += entries
                    # else its outcome is not in the store (it could not be recorded even
                    # after retries): the entry stays pending, and whoever claims it next
                    # finds the record still 'sending', never sends it again blindly.
                    if len(acks) >= 50:
                        await queue.done(acks)
                        stats.acknowledged += len(acks)
                        acks = []
            toucher.cancel()
    except BaseExceptionGroup as group_error:
        # The task group wraps what the batch raised: hand a lone error on as itself (the lane
        # retries after a StoreError), anything more as the group.
        if len(group_error.exceptions) == 1:
            raise group_error.exceptions[0] from None
        raise
    await queue.done(acks)
    stats.acknowledged += len(acks)


def _count(stats: WorkerStats, outcome: Any) -> None:
    record = getattr(outcome, "tracked", None)
    if record is not None and record.state is TrackedState.SENDING:
        stats.elsewhere += 1
    elif outcome.error is None:
        if record is None:
            stats.accepted += 1
        else:
            stats.already_done += 1
    elif isinstance(outcome.error, UnknownOutcomeError):
        stats.unknown += 1
    elif record is not None:
        stats.already_done += 1
    else:
        stats.failed += 1
