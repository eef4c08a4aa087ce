"""The pure parts under the pool: the shared rate limiter (cut to what the SMSC accepted, probe
upward), the reconnect backoff and the job queue, with an injected clock."""

from __future__ import annotations

import pytest

from smscenter import PoolTimeout, ReconnectPolicy
from smscenter.smpp.client._jobs import Job, JobQueue, JobState, new_job
from smscenter.smpp.client._ratelimit import RateLimiter


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


class _CappedSMSC:
    """A fake SMSC account limit for the pure tests: a token bucket of ``cap`` per second
    holding at most ``cap`` (as the provider's and our simulator's), answering at once."""

    def __init__(self, cap: float, share: bool = False) -> None:
        self.cap, self.tokens, self.last, self.share, self.seen = cap, cap, 0.0, share, 0

    def accepts(self, now: float) -> bool:
        self.seen += 1
        if self.share:  # refuses every second message whatever the speed
            return self.seen % 2 == 1
        self.tokens = min(self.cap, self.tokens + (now - self.last) * self.cap)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def run_against(
    limiter: RateLimiter, smsc: _CappedSMSC, seconds: float, step: float = 0.001
) -> list[int]:
    """A sender with an endless backlog: messages accepted in each second of fake time."""
    per_second = [0] * int(seconds + 1)
    now = 0.0
    paused_until = 0.0
    while now < seconds:
        offered = 0
        # Unlimited, a bind writes what its window holds: up to 50 a millisecond here.
        while now >= paused_until and offered < 50 and limiter.take(1, now) == 0.0:
            offered += 1
            if smsc.accepts(now):
                per_second[int(now)] += 1
            else:
                paused_until = now + min(1.0, limiter.throttled(now))
                break
        now += step
    return per_second


def test_a_rate_above_the_accounts_limit_converges_near_it() -> None:
    limiter = RateLimiter(100)
    accepted = run_against(limiter, _CappedSMSC(30), 20.0)
    steady = sum(accepted[3:20]) / 17
    assert 27 <= steady <= 31, accepted
    assert limiter.rate is not None and 25 <= limiter.rate <= 40
    throttles = limiter.throttles
    run_against(limiter, _CappedSMSC(30), 5.0)
    assert limiter.throttles - throttles < 30  # settled: refusals are rare


def test_unlimited_converges_near_the_accounts_limit() -> None:
    limiter = RateLimiter(None)
    accepted = run_against(limiter, _CappedSMSC(30), 20.0)
    steady = sum(accepted[3:20]) / 17
    assert 27 <= steady <= 31, accepted
    assert limiter.rate is not None and 25 <= limiter.rate <= 40


def test_probing_finds_a_raised_limit() -> None:
    limiter = RateLimiter(None)
    run_against(limiter, _CappedSMSC(30), 5.0)
    accepted = run_against(limiter, _CappedSMSC(60), 40.0)
    assert sum(accepted[30:40]) / 10 >= 50, accepted


def test_a_rate_under_the_limit_is_never_cut() -> None:
    limiter = RateLimiter(25)
    accepted = run_against(limiter, _CappedSMSC(30), 10.0)
    assert limiter.throttles == 0 and limiter.rate == 25
    assert sum(accepted[1:10]) / 9 >= 24


def test_a_few_refusals_among_few_sends_cut_at_most_by_half() -> None:
    limiter = RateLimiter(100)
    for i in range(5):
        assert limiter.take(1, i * 0.01) == 0.0
    for i in range(3):
        limiter.throttled(0.05 + i * 0.001)
    assert limiter.rate == 50


def after_a_burst(sent: int, refused: int) -> RateLimiter:
    """An unlimited limiter once ``sent`` parts went out at once and ``refused`` of them were
    refused, the answers coming within a few milliseconds."""
    limiter = RateLimiter(None)
    for _ in range(sent):
        assert limiter.take(1, 0.0) == 0.0
    for i in range(refused):
        limiter.throttled(0.001 + i * 0.004 / refused)
    return limiter


def test_a_whole_burst_refused_halves_the_rate_rather_than_collapse_it() -> None:
    # Two binds write their windows at once (40 parts) and a strict SMSC refuses every one.
    # "Sent minus refused" then reads as nothing accepted, but a burst that short says nothing
    # about what the SMSC takes per second.
    limiter = after_a_burst(40, 40)
    assert limiter.rate is not None and 18 <= limiter.rate <= 20  # about half, not 1/s
    # Refused on: once the refusals span a fifth of a second, the cut follows what was taken.
    now, sent = 0.05, 0
    while now < 0.5:
        if limiter.take(1, now) == 0.0:
            sent += 1
            limiter.throttled(now + 0.001)
        now += 0.01
    assert sent >= 4 and limiter.rate is not None and limiter.rate < 10


def test_a_burst_that_leaves_enough_accepted_is_followed_at_once() -> None:
    # 900 written at once, 870 refused: the 30 accepted are the account's limit.
    assert after_a_burst(900, 870).rate == pytest.approx(27)


def test_refusals_that_do_not_depend_on_speed_do_not_starve_the_sender() -> None:
    limiter = RateLimiter(None)
    accepted = run_against(limiter, _CappedSMSC(30, share=True), 6.0)
    # Slowing down did not help, so the limiter went back to full speed: the sender keeps
    # getting half through at the rate its window allows, not a trickle.
    assert sum(accepted[2:6]) / 4 >= 900, accepted  # the fake answers one a millisecond


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
    return new_job((b"body",), callback=finished.append, urgent=urgent), finished


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


def test_push_many_and_withdraw() -> None:
    queue = JobQueue(pool_timeout=1.0)
    woken: list[int] = []
    queue.set_watchdog(lambda: woken.append(1))
    mine: list[Job] = []
    other: list[Job] = []
    jobs = [new_job((b"body",), callback=mine.append, deadline=1.0) for _ in range(3)]
    theirs = new_job((b"body",), callback=other.append)
    queue.push_many(jobs[:2], urgent=False)
    queue.push(theirs, 0.0, wake=False)
    queue.push_many(jobs[2:], urgent=True)
    queue.push_many([], urgent=True)
    assert woken == [1] and len(queue) == 4  # the watchdog hears of a queue no longer empty
    assert queue.pop(0.5) is jobs[2]  # urgent first
    taken = queue.withdraw(lambda job: job.callback == mine.append)
    assert taken == jobs[:2]  # the started one stays its bind's
    assert [job.state for job in jobs] == [JobState.CANCELLED] * 2 + [JobState.STARTED]
    assert queue.pop(0.5) is theirs and len(queue) == 0
    assert mine == [] and other == []  # withdrawn jobs are not finished: their caller left
