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
