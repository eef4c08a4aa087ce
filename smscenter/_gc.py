"""The garbage collector of a long-running sender process (``smscenter worker``,
``smscenter bulk``); public as :func:`smscenter.fleet.tuned_gc`.

CPython's cyclic collector runs a young collection every 700 net allocations of container
objects and, every so often (ten middle ones), a full one that traverses *every* tracked
object. A worker imports the whole library, its Redis and SMPP clients and their parsers
before it sends anything: a few hundred thousand objects that live as long as the process. Each full
collection walks them all again (about 20 ms of CPU, the time of a thousand messages), and a
worker's own traffic (a window of requests in flight, each a handful of objects that live a few
milliseconds) reaches the 700 at every burst, so those short-lived objects are promoted and
traversed again in the older generations before they die.

:func:`tuned_gc` is what ``smscenter worker`` and ``smscenter bulk`` do once set up (see the
Python documentation of :func:`gc.freeze`, which recommends it for long-lived objects of a
server):

- :func:`gc.collect` then :func:`gc.freeze`: what set-up left alive moves to the permanent
  generation, which no collection traverses again;
- :func:`gc.set_threshold` ``(10_000, 50, 10)``: a young collection after 10,000 net
  allocations instead of 700, so requests in flight are usually gone before one runs (a few
  megabytes at most wait for it); and the middle generation only every 50 young collections
  instead of 10: what survives a young one is mostly work still in progress (a send's
  read-ahead, settlements and receipts waiting for a store's commit), alive a few hundred
  milliseconds, which a middle collection every 10 would walk again while it waits (5 to 7 ms
  each with a store, measured). Only cycles wait for the collector; everything else is freed
  by reference counting as before.

It is a setting of the *process* (an application's entry point), not of the library: the pool
never changes the collector by itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ("GC_THRESHOLD", "tuned_gc")

#: The collector's thresholds in a worker: young collections after 10,000 net allocations,
#: middle ones after 50 young ones.
GC_THRESHOLD = (10_000, 50, 10)


@contextmanager
def tuned_gc(threshold: tuple[int, int, int] = GC_THRESHOLD) -> Iterator[None]:
    """Settle the garbage collector of a sender process once its set-up is done: collect,
    freeze what is alive (it is not traversed again), and raise the young generation's
    threshold (``threshold``, for :func:`gc.set_threshold`). On exit the previous thresholds
    come back and the frozen objects are collectable again (so a process that runs a worker
    in passing, a test for one, is left as it was).

    ``smscenter worker`` runs its whole send inside it. Use it the same way in a worker of
    your own, after the imports and the pool's start-up::

        async with SMPPPool(...) as pool:
            with tuned_gc():
                await run_worker(pool, queue)
    """
    if len(threshold) != 3 or any(t < 0 for t in threshold):
        raise ValueError(f"threshold is three numbers >= 0, got {threshold!r}")
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
