"""The writer takes the queue's first bulk job inline (smpp/client/_pump.py), not through
``JobQueue.pop``: it must still take what ``pop`` would, in the same order. Urgent jobs first,
a bulk job past its pool deadline fails with PoolTimeout unwritten, one that ended while
queued is skipped."""

from __future__ import annotations

import pytest
from test_pump_dispatch import BODY, Bind, accepted, queued

from smscenter.exceptions import PoolTimeout
from smscenter.models import Message
from smscenter.smpp.client._jobs import Job, JobState, new_job, noop
from smscenter.smpp.constants import CommandId


def test_urgent_jobs_go_before_the_bulk_ones_queued_earlier() -> None:
    bind = Bind(window=10)
    bulk, _ = queued(bind)
    done: list[Job] = []
    urgent = new_job((BODY,), done.append, urgent=True)
    bind.queue.push(urgent, bind.now, wake=False)
    first, second = bind.write()
    assert bind.pump.inflight.pending[first.sequence_number][0] is urgent
    assert bind.pump.inflight.pending[second.sequence_number][0] is bulk
    assert urgent.state is JobState.STARTED and urgent.taken_at == bind.now
    assert urgent.attempts == bulk.attempts == 1


def test_a_bulk_job_past_its_deadline_fails_unwritten_one_ended_is_skipped() -> None:
    bind = Bind(window=10)
    late, late_done = queued(bind)
    late.deadline = bind.now  # its pool timeout is up
    gone, gone_done = queued(bind)
    gone.finish(PoolTimeout("ended while queued"))  # done, and still in the deque
    fresh, fresh_done = queued(bind)
    fresh.deadline = bind.now + 1.0
    (pdu,) = bind.write()
    assert late_done == [late] and isinstance(late.error, PoolTimeout) and not late.written
    assert gone_done == [gone] and not gone.written and gone.attempts == 0
    bind.answer(accepted(pdu, "42"))
    assert fresh_done == [fresh] and fresh.responses == ["42"]
    assert not bind.queue.bulk and not bind.queue.urgent


def test_new_job_fills_every_slot() -> None:
    # Jobs have no __init__: new_job is the one place that fills them, positional (send_many)
    # or by keyword (the pool's other requests); every slot is set, the defaults as documented.
    message = Message(to="79991234567", text="hi")
    for parts in ((BODY,), (BODY, BODY, BODY)):
        made = new_job(parts, noop, True, 12.5, True, message, "79991234567", 3)
        assert {name: getattr(made, name) for name in Job.__slots__} == {
            "attempts": 0, "callback": noop, "command_id": CommandId.SUBMIT_SM, "context": None,
            "counts_rate": True, "deadline": 12.5, "error": None, "in_flight": 0, "index": 3,
            "message": message, "parts": parts, "recipient": "79991234567",
            "responses": [None] * len(parts), "state": JobState.QUEUED, "taken_at": None,
            "throttles": 0, "todo": list(range(len(parts))), "urgent": True, "written": False,
        }  # fmt: skip
    query = new_job((BODY,), noop, counts_rate=False, context="ctx", command_id=CommandId.QUERY_SM)
    assert (query.command_id, query.counts_rate, query.context, query.urgent, query.deadline) == (
        CommandId.QUERY_SM, False, "ctx", False, None,
    )  # fmt: skip
    with pytest.raises(TypeError):
        Job(parts, noop)  # type: ignore[call-arg]
