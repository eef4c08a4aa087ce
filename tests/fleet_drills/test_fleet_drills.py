"""Fleet drills: worker processes (``smscenter worker``) on one campaign queued in a real
redis-server, against the simulator on real sockets. What the SMSC side saw is counted from the
simulator (each text names its client id)."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from smscenter.fleet._rate import burst_for
from smscenter.store import TrackedState
from tests.fleet_drills.conftest import Fleet
from tests.redis_server import RedisServer

# Worker processes start in about a second each; the campaign of 10,000 at 1,000 parts/s takes
# some 18 s on a quiet 2-core machine, 30-40 s on a loaded one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

COUNT = 10_000
#: The account's rate at the simulator (parts per second, 0x58 beyond it). The fleet runs at 90%
#: of it, as docs/scaling-out.md advises: a grant's parts go out up to a grant's span after
#: Redis gave them, so a second at the SMSC can hold a little more than the fleet's rate plus its
#: burst; the margin keeps the assertions below true on a loaded machine too.
CAP = 1000
RATE = 900
BURST = burst_for(CAP)


def test_four_workers_share_one_campaign_at_the_account_rate(fleet: Fleet) -> None:
    fleet.set_account_rate(CAP)
    fleet.enqueue(COUNT)
    before = fleet.redis_calls()
    # 4 workers x 2 binds of a login with MCON4: the fleet's bind slots let 4 up at once.
    args = ("--binds", "2", "--mcon", "4", "--rate", str(RATE), "--until-empty", "--json")
    children = [fleet.start_worker(*args) for _ in range(4)]
    counts = [fleet.finish(child) for child in children]
    accepts = fleet.accepts()
    records = fleet.records()
    # Every client id: exactly one outcome, accepted, and the SMSC accepted it exactly once.
    assert len(records) == COUNT
    assert all(r.state.was_accepted for r in records.values())
    assert set(accepts) == set(records) and set(accepts.values()) == {1}
    assert sum(c["accepted"] for c in counts) == COUNT
    assert sum(c["acknowledged"] for c in counts) == COUNT
    assert fleet.remaining() == 0
    # The SMSC's side: never more binds than MCONn, never throttled, no second over the
    # account's rate beyond the fleet's burst.
    watch = fleet.watch()
    assert 0 < watch["max_binds"] <= 4
    assert watch["submits"] == COUNT
    assert watch["throttled"] == 0
    assert watch["seconds_over_burst"] == 0, watch
    assert watch["peak"] <= CAP + BURST, watch
    # The coordination cost per message: Lua scripts run (the fleet's rate grant, the store's
    # claims, settlements and receipts, one script per batch each) and stream commands (the
    # queue's reads, acknowledgements and keep-alives; a pipeline counts each of its commands).
    calls = fleet.redis_calls() - before
    scripts = (calls["evalsha"] + calls["eval"]) / COUNT
    stream = sum(n for name, n in calls.items() if name.startswith("x")) / COUNT
    # (Measured here: about 0.2-0.8 scripts and 0.1 stream commands per message.)
    assert scripts < 4 and stream < 1, (scripts, stream)


def test_a_worker_killed_mid_window_is_taken_over(fleet: Fleet) -> None:
    total = 600
    fleet.enqueue(total)
    # A slow worker (so the kill lands mid-campaign), taking 50 at a time on two lanes. The
    # login has two bind slots (MCON2): the dead worker's slot stays leased until its lease
    # runs out (30 s), the other is free for the second worker at once.
    first = fleet.start_worker(
        "--mcon", "2", "--rate", "400", "--batch", "50", "--claim-idle", "1", "--json"
    )
    deadline = time.monotonic() + 60
    while fleet.accepted() < 100:
        assert first.poll() is None, first.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the first worker did not get going"
        time.sleep(0.005)
    first.kill()  # SIGKILL: no goodbye, its entries and SENDING records are left behind
    first.communicate(timeout=30)
    assert 100 <= fleet.accepted() < total

    second = fleet.start_worker(
        "--mcon", "2", "--rate", "5000", "--claim-idle", "1", "--until-empty", "--json"
    )
    counts = fleet.finish(second)
    assert counts["claimed"] > 0  # it took the dead worker's entries over

    accepts = fleet.accepts()
    records = fleet.records()
    assert len(records) == total
    assert max(accepts.values()) == 1  # no message accepted twice
    unknown = 0
    for cid, record in records.items():
        if record.state.was_accepted:
            assert accepts[cid] == 1, cid
        else:
            # What the dead worker held (written or only queued to write): may have gone out,
            # so it is unknown, never resent.
            assert record.state is TrackedState.UNKNOWN, (cid, record.state)
            assert accepts[cid] <= 1
            unknown += 1
    assert 0 < unknown <= 100  # at most what it held: 2 lanes x 50
    assert counts["unknown"] == unknown and counts["elsewhere"] == 0
    assert fleet.remaining() == 0
    assert fleet.max_binds() <= 2


def test_redis_crashes_mid_run_and_the_worker_resumes(
    fleet_own_redis: tuple[Fleet, RedisServer],
) -> None:
    fleet, server = fleet_own_redis
    total = 600
    fleet.enqueue(total)
    worker = fleet.start_worker("--rate", "300", "--claim-idle", "2", "--until-empty", "--json")
    deadline = time.monotonic() + 60
    while fleet.accepted() < 100:
        assert worker.poll() is None, worker.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker did not get going"
        time.sleep(0.005)
    # The SMSC answers half a second late from now on: the sends written just before the crash
    # are answered while Redis is down, so their outcomes cannot be recorded at once.
    fleet.set_response_delay(0.5)
    submits = fleet.submits()
    while fleet.submits() < submits + 20:
        assert worker.poll() is None, worker.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker stopped sending"
        time.sleep(0.005)
    server.stop(crash=True)  # SIGKILL: what it acknowledged is in its AOF (fsync always)
    during = fleet.accepted()
    time.sleep(1.0)  # the answers of the sends in flight come now
    # Nothing can be granted or claimed while Redis is down: at most what was in flight.
    assert fleet.accepted() - during <= 100
    fleet.set_response_delay(0)
    server.start()
    counts = fleet.finish(worker)
    # It saw the outage: answers it could not record (kept, tried again), receipts it could
    # not record (answered "try later"), batches it could not claim; it waited, went on.
    assert counts["pool_store_errors"] > 0, counts

    accepts = fleet.accepts()
    records = fleet.records()
    assert len(records) == total and fleet.remaining() == 0
    assert max(accepts.values()) == 1  # nothing accepted twice
    # Nothing lost: the answers that came while Redis was down were kept by the worker and
    # recorded once it was back (not left 'sending' to read 'unknown'), and their entries
    # acknowledged only then.
    states = Counter(r.state for r in records.values())
    assert all(r.state.was_accepted for r in records.values()), states
    assert set(accepts) == set(records)
    assert counts["unknown"] == 0 and counts["failed"] == 0, counts
    # (An entry that sat idle past --claim-idle during the outage may be taken again by the
    # worker's other lane: the store says it is 'sending' here, so it is not sent again.)
    assert counts["accepted"] + counts["already_done"] + counts["elsewhere"] >= total, counts
