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

from smscenter import _exports
from smscenter._gc import GC_THRESHOLD, tuned_gc
from smscenter.fleet._fleet import Fleet, FleetKeys
from smscenter.fleet._leases import Lease, SlotLeases
from smscenter.fleet._rate import FleetRate
from smscenter.fleet.queue import EnqueueResult, QueueProgress, WorkItem, WorkQueue
from smscenter.fleet.worker import WorkerStats, run_worker

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

_exports.publish(__name__, globals(), __all__)
