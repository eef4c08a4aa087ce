"""The writer takes the queue's first bulk job inline (smpp/client/_pump.py), not through
``JobQueue.pop``: it must still take what ``pop`` would, in the same order. Urgent jobs first,
a bulk job past its pool deadline fails with PoolTimeout unwritten, one that ended while
queued is skipped."""

from __future__ import annotations

from test_pump_dispatch import BODY, Bind, accepted, queued

from smscenter.exceptions import PoolTimeout
from smscenter.models import Message
from smscenter.smpp.client._jobs import Job, JobState, bulk_job, noop


def test_urgent_jobs_go_before_the_bulk_ones_queued_earlier() -> None:
    bind = Bind(window=10)
    bulk, _ = queued(bind)
    done: list[Job] = []
    urgent = Job((BODY,), done.append, urgent=True)
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


def test_bulk_job_stores_what_jobs_init_stores() -> None:
    # send_many builds its jobs with bulk_job (no class call): every slot as __init__ sets it.
    message = Message(to="79991234567", text="hi")
    for parts in ((BODY,), (BODY, BODY, BODY)):
        made = bulk_job(parts, noop, True, 12.5, message, "79991234567", 3)
        built = Job(parts, noop, True, 12.5, True, message, "79991234567", 3)
        assert {name: getattr(made, name) for name in Job.__slots__} == {
            name: getattr(built, name) for name in Job.__slots__
        }
