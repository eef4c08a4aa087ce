"""The pure parts under the pool: the shared rate limiter (AIMD on throttling), the reconnect
backoff and the job queue, with an injected clock."""

from __future__ import annotations

import pytest

from smscenter import PoolTimeout, ReconnectPolicy
from smscenter.smpp._dispatch import Job, JobQueue, JobState
from smscenter.smpp._ratelimit import RateLimiter
from smscenter.smpp.pdu import SubmitSm


def drain(limiter: RateLimiter, start: float, seconds: float, step: float = 0.001) -> int:
    """How many single parts the limiter lets through in ``seconds`` of fake time."""
    sent = 0
    now = start
    while now < start + seconds:
        if limiter.take(1, now) == 0.0:
            sent += 1
        else:
            now += step
    return sent


def test_bucket_holds_the_rate() -> None:
    limiter = RateLimiter(30)
    sent = drain(limiter, 0.0, 10.0)
    assert 300 <= sent <= 304  # 30/s plus the small initial burst


def test_wait_time_is_reported_not_taken() -> None:
    limiter = RateLimiter(10, burst=1)
    assert limiter.take(1, 0.0) == 0.0
    wait = limiter.take(1, 0.0)
    assert wait == pytest.approx(0.1)
    assert limiter.take(1, 0.1) == 0.0


def test_multi_part_message_goes_in_one_piece_and_pays_later() -> None:
    limiter = RateLimiter(10, burst=1)
    assert limiter.take(3, 0.0) == 0.0  # the bucket goes into debt
    assert limiter.take(1, 0.0) > 0.25


def test_throttle_halves_then_recovers() -> None:
    limiter = RateLimiter(100)
    limiter.take(1, 0.0)
    limiter.throttled(0.0)
    assert limiter.rate == 50
    limiter.throttled(0.05)  # same burst: not halved again
    assert limiter.rate == 50
    limiter.throttled(0.2)
    assert limiter.rate == 25
    for _ in range(5):
        limiter.throttled(limiter._throttled_at + 0.2)  # type: ignore[operator]
    assert limiter.rate == 10  # never below a tenth of the ceiling
    now = 2.0
    limiter.take(1, now)
    for _ in range(200):
        now += 0.1
        limiter.take(1, now)
    assert limiter.rate == 100  # back at the ceiling after ~10 s without refusals


def test_unlimited_learns_a_ceiling_and_lifts_it_again() -> None:
    limiter = RateLimiter(None)
    now = 0.0
    for _ in range(1000):  # 1000 parts in 0.5 s: about 2000/s
        limiter.take(1, now)
        now += 0.0005
    limiter.throttled(now)
    assert limiter.rate is not None and 500 <= limiter.rate <= 1500
    # a later refusal while slowed down does not lower the ceiling
    limiter.throttled(now + 0.5)
    assert limiter._ceiling is not None and limiter._ceiling >= 1000
    for _ in range(300):
        now += 0.1
        limiter.take(1, now)
    assert limiter.rate is None


def test_reconnect_policy() -> None:
    policy = ReconnectPolicy(initial=0.5, maximum=4.0, jitter=0.5, refused=10.0)
    assert policy.delay(1, refused=False, random_fraction=0.0) == 0.5
    assert policy.delay(3, refused=False, random_fraction=0.0) == 2.0
    assert policy.delay(10, refused=False, random_fraction=0.0) == 4.0
    assert policy.delay(10, refused=False, random_fraction=1.0) == 2.0
    assert policy.delay(1, refused=True, random_fraction=0.5) == 10.0
    with pytest.raises(ValueError):
        ReconnectPolicy(jitter=2)


def _job(urgent: bool = False) -> tuple[Job, list[Job]]:
    finished: list[Job] = []
    return Job((SubmitSm(),), callback=finished.append, urgent=urgent), finished


def test_queue_urgent_first_and_pool_timeout() -> None:
    queue = JobQueue(pool_timeout=1.0)
    bulk, _ = _job()
    late, late_done = _job()
    urgent, _ = _job(urgent=True)
    queue.push(late, 0.0)
    queue.push(bulk, 0.5)
    queue.push(urgent, 0.6)
    assert queue.pop(0.7) is urgent
    assert queue.pop(1.2) is bulk  # ``late`` expired on the way
    assert late_done == [late] and isinstance(late.error, PoolTimeout)
    assert queue.pop(1.2) is None and len(queue) == 0


def test_queue_remove_and_expire() -> None:
    queue = JobQueue(pool_timeout=1.0)
    a, a_done = _job()
    b, b_done = _job()
    queue.push(a, 0.0)
    queue.push(b, 0.5)
    assert queue.remove(a) and a.state is JobState.CANCELLED and a_done == []
    assert not queue.remove(a)
    assert queue.expire(1.0) == 1.5
    assert queue.expire(1.5) is None
    assert isinstance(b.error, PoolTimeout) and b_done == [b]


def test_a_partly_written_job_given_up_in_the_queue_is_an_unknown_outcome() -> None:
    from smscenter import ConnectionLost, UnknownOutcomeError

    queue = JobQueue(pool_timeout=1.0)
    partly, partly_done = _job()
    partly.written = True  # a bind wrote some parts, then dropped and handed it back
    fresh, fresh_done = _job()
    queue.push_back(partly)
    queue.push(fresh, 0.0)
    queue.fail_all(ConnectionLost("closing"))
    assert isinstance(partly.error, UnknownOutcomeError)
    assert isinstance(partly.error.cause, ConnectionLost)
    assert type(fresh.error) is ConnectionLost
    assert partly_done == [partly] and fresh_done == [fresh]


def test_one_part_job_is_the_same_as_the_constructors() -> None:
    from smscenter import Message

    message = Message(to="+79991234567", text="x")
    finished: list[Job] = []
    fast = Job.one_part(b"body", finished.append, True, 5.0, message, "+79991234567", 7)
    slow = Job(
        (b"body",),
        callback=finished.append,
        urgent=True,
        deadline=5.0,
        message=message,
        recipient="+79991234567",
        index=7,
    )
    for name in Job.__slots__:
        a, b = getattr(fast, name), getattr(slow, name)
        assert a == b, name
    assert fast.todo is not slow.todo and fast.responses is not slow.responses


def test_push_many_and_withdraw_by() -> None:
    queue = JobQueue(pool_timeout=1.0)
    woken: list[int] = []
    queue.set_watchdog(lambda: woken.append(1))
    mine: list[Job] = []
    other: list[Job] = []
    jobs = [Job((SubmitSm(),), callback=mine.append, deadline=1.0) for _ in range(3)]
    theirs = Job((SubmitSm(),), callback=other.append)
    queue.push_many(jobs[:2], urgent=False)
    queue.push(theirs, 0.0, wake=False)
    queue.push_many(jobs[2:], urgent=True)
    queue.push_many([], urgent=True)
    assert woken == [1] and len(queue) == 4  # the watchdog hears of a queue no longer empty
    assert queue.pop(0.5) is jobs[2]  # urgent first
    assert queue.withdraw_by(mine.append) == 2  # the started one stays its bind's
    assert [job.state for job in jobs] == [JobState.CANCELLED] * 2 + [JobState.STARTED]
    assert queue.pop(0.5) is theirs and len(queue) == 0
    assert mine == [] and other == []  # withdrawn jobs are not finished: their caller left
