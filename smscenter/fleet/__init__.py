"""Fleet mode: many workers on many machines, one provider login, coordinated on Redis.

- :class:`WorkQueue`: a campaign's messages on a Redis Stream, handed out to the workers.
"""

from __future__ import annotations

from smscenter.fleet.queue import EnqueueResult, QueueProgress, WorkItem, WorkQueue

__all__ = ("EnqueueResult", "QueueProgress", "WorkItem", "WorkQueue")
