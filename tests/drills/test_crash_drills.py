"""Crash drills: a 5,000-message campaign over a real SQLite store, a real SMPP link to the
simulator, killed or cut off mid-run, then run again on the same store.

What must hold after the rerun (the guarantees of a store, issue 11):

* every client id has a record and got exactly one outcome in the run;
* the simulator accepted no client id twice, except those the store had as unknown and the
  caller asked to resend;
* every record the store has as accepted is the simulator's message (same id), and its
  receipt landed on it, also a receipt the simulator delivered only after the restart.
"""

from __future__ import annotations

import random
import sys

import pytest

from smscenter.store import TrackedState
from tests.drills._campaign import client_id
from tests.drills.conftest import COUNT, SEED, Drill

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL to a child process")

UNSETTLED = (TrackedState.SENDING, TrackedState.UNKNOWN)


def _check_one_outcome(summary: dict[str, object]) -> None:
    assert summary["missing"] == [] and summary["repeated"] == [], summary


def _check_store_matches_simulator(
    drill: Drill, *, may_repeat: set[str], unknown_allowed: set[str]
) -> dict[str, list[str]]:
    """Every record against the simulator's accepts; returns those accepts."""
    records = drill.records()
    accepts = drill.accepts()
    assert set(records) == {client_id(n) for n in range(COUNT)}
    for cid, record in records.items():
        ids = accepts.get(cid, [])
        assert len(ids) <= (2 if cid in may_repeat else 1), (cid, ids, record.state)
        if record.state.was_accepted:
            assert record.message_id in ids, (cid, record.message_id, ids)
            # Its receipt came back and landed here (the simulator delivers every message).
            assert record.state is TrackedState.DELIVERED, (cid, record.state)
            assert {r.message_id for r in record.reports} == {record.message_id}
        else:
            assert record.state is TrackedState.UNKNOWN and cid in unknown_allowed, (
                cid,
                record.state,
                record.error,
            )
    return accepts


def test_sigkill_mid_campaign_then_resume(drill: Drill) -> None:
    kill_at = random.Random(SEED).randrange(500, COUNT - 500)
    child = drill.start()
    killed_at = drill.kill_when_accepted(child, kill_at)

    after_kill = drill.records()
    # Sent but never settled: the process died with them on the wire (a window's worth).
    unsettled = {cid for cid, r in after_kill.items() if r.state in UNSETTLED}
    assert unsettled, "nothing was in flight at the kill"
    accepts = drill.accepts()
    for cid, record in after_kill.items():
        if record.state.was_accepted:
            assert accepts[cid] == [record.message_id]  # recorded before the kill, correctly

    resumed = drill.run()
    _check_one_outcome(resumed)
    accepts = _check_store_matches_simulator(drill, may_repeat=set(), unknown_allowed=unsettled)
    records = drill.records()
    # Receipts the simulator delivered after the restart (of messages accepted before the
    # kill) found their records.
    late = [
        r
        for r in records.values()
        if r.accepted_at is not None
        and r.accepted_at.timestamp() < killed_at
        and r.reports
        and r.reports[0].received_at.timestamp() > killed_at
    ]
    assert late, "no receipt came after the restart"
    # The resumed run sent only what the killed one had not: no client id twice.
    assert all(len(ids) == 1 for ids in accepts.values())

    # Asked to, a third run sends the messages of unknown outcome again.
    still_unknown = {c for c, r in records.items() if r.state is TrackedState.UNKNOWN}
    resent = drill.run(resend_unknown=True)
    _check_one_outcome(resent)
    accepts = _check_store_matches_simulator(drill, may_repeat=still_unknown, unknown_allowed=set())
    twice = {cid for cid, ids in accepts.items() if len(ids) == 2}
    assert twice <= still_unknown


def test_link_drops_mid_campaign_then_resume(drill: Drill) -> None:
    smpp = drill.sim.behaviour.smpp  # type: ignore[attr-defined]
    # Each connection is cut after this many PDUs, the answers of its last read lost: the
    # SMSC stored those submits, the client cannot know (they are of unknown outcome).
    smpp.drop_after_pdus = random.Random(SEED).randrange(2000, 3000)
    smpp.drop_loses_answers = True
    first = drill.run()
    _check_one_outcome(first)
    records = drill.records()
    unknown = {c for c, r in records.items() if r.state is TrackedState.UNKNOWN}
    assert first["outcomes"].get("UnknownOutcomeError", 0) == len(unknown) > 0, first
    _check_store_matches_simulator(drill, may_repeat=set(), unknown_allowed=unknown)

    # The link holds now; a rerun skips everything, a rerun asked to resends the unknown ones.
    smpp.drop_after_pdus = None
    again = drill.run()
    _check_one_outcome(again)
    assert drill.accepts() == _check_store_matches_simulator(
        drill, may_repeat=set(), unknown_allowed=unknown
    )
    resent = drill.run(resend_unknown=True)
    _check_one_outcome(resent)
    accepts = _check_store_matches_simulator(drill, may_repeat=unknown, unknown_allowed=set())
    assert {cid for cid, ids in accepts.items() if len(ids) == 2} <= unknown
