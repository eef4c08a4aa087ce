"""Fleet mode: many worker processes, on many machines, sharing one provider login's limits
through Redis (``pip install smscenter[redis]``; asyncio only).

- :class:`Fleet`: the login's shared limits: the send rate in message parts per second on the
  Redis server's clock, the pause after a throttling answer (0x58), the bind slots (the
  account's ``MCONn``) and the HTTP request slots (fewer than 15 at once). Give it to
  ``SMPPPool(..., fleet=fleet)`` and ``HTTPClient(..., fleet=fleet)``.
- :class:`Lease` / :class:`SlotLeases`: one slot held with expiry and renewal.
- :class:`FleetKeys`: where it all lives in Redis.
- :class:`WorkQueue`: a campaign's messages on a Redis Stream, handed out to the workers
  (:class:`WorkItem`, :class:`QueueProgress`, :class:`EnqueueResult`); :func:`run_worker`
  runs one worker on it (:class:`WorkerStats`).
- :func:`tuned_gc`: the garbage collector settings of a worker process (``smscenter worker``
  runs its send inside it).

See the "Scaling out" page of the documentation.
"""

from __future__ import annotations

import typing

from smscenter import _exports
from smscenter._gc import GC_THRESHOLD, tuned_gc

# The Redis-backed names load on first use: `from smscenter.fleet import tuned_gc` (a bulk
# send of one process, `smscenter bulk`) needs neither redis-py (an extra) nor its imports,
# which would add some 20,000 objects for the collector to walk in every full collection.
_LAZY: dict[str, str] = {
    "EnqueueResult": "smscenter.fleet.queue",
    "Fleet": "smscenter.fleet._fleet",
    "FleetKeys": "smscenter.fleet._fleet",
    "FleetRate": "smscenter.fleet._rate",
    "Lease": "smscenter.fleet._leases",
    "QueueProgress": "smscenter.fleet.queue",
    "SlotLeases": "smscenter.fleet._leases",
    "WorkItem": "smscenter.fleet.queue",
    "WorkQueue": "smscenter.fleet.queue",
    "WorkerStats": "smscenter.fleet.worker",
    "run_worker": "smscenter.fleet.worker",
}

if typing.TYPE_CHECKING:
    from smscenter.fleet._fleet import Fleet as Fleet
    from smscenter.fleet._fleet import FleetKeys as FleetKeys
    from smscenter.fleet._leases import Lease as Lease
    from smscenter.fleet._leases import SlotLeases as SlotLeases
    from smscenter.fleet._rate import FleetRate as FleetRate
    from smscenter.fleet.queue import EnqueueResult as EnqueueResult
    from smscenter.fleet.queue import QueueProgress as QueueProgress
    from smscenter.fleet.queue import WorkItem as WorkItem
    from smscenter.fleet.queue import WorkQueue as WorkQueue
    from smscenter.fleet.worker import WorkerStats as WorkerStats
    from smscenter.fleet.worker import run_worker as run_worker


def __getattr__(name: str) -> object:
    try:
        return _exports.load(__name__, globals(), name, _LAZY)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] != "redis":
            raise
        raise ImportError(
            f"smscenter.fleet.{name} needs redis-py: pip install 'smscenter[redis]'"
        ) from exc


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = (
    "GC_THRESHOLD",
    "EnqueueResult",
    "Fleet",
    "FleetKeys",
    "FleetRate",
    "Lease",
    "QueueProgress",
    "SlotLeases",
    "WorkItem",
    "WorkQueue",
    "WorkerStats",
    "run_worker",
    "tuned_gc",
)

_exports.publish(__name__, globals(), (n for n in __all__ if n not in _LAZY))
