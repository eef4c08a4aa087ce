"""A bind's pause after throttle answers (smscenter/smpp/client/_ratelimit.py ThrottlePause):
pure, so its rules are checked without sockets or a clock."""

from __future__ import annotations

from smscenter.smpp.client._ratelimit import ThrottlePause


def test_the_first_answer_pauses_for_the_limit_and_later_ones_of_the_same_burst_do_not() -> None:
    pause = ThrottlePause(1.0)
    assert pause.left(0.0) == 0.0
    assert pause.throttled(10.0, wait=0.0) == 1.0
    assert pause.left(10.25) == 0.75
    # Answers to parts written before the pause began: the pause runs on unchanged.
    assert pause.throttled(10.5, wait=0.0) is None
    assert pause.until == 11.0 and pause.left(11.0) == 0.0


def test_a_rate_the_limiter_set_shortens_the_pause() -> None:
    pause = ThrottlePause(1.0)
    assert pause.throttled(100.0, wait=0.1) == 0.1  # the new rate allows the next part sooner
    assert ThrottlePause(1.0).throttled(100.0, wait=5.0) == 1.0  # never longer than the limit


def test_answers_right_after_a_pause_double_it_up_to_eight_times_and_quiet_resets_it() -> None:
    pause = ThrottlePause(1.0)
    now, lengths = 100.0, []  # (a monotonic clock: well past the initial "no pause")
    for _ in range(6):
        length = pause.throttled(now, wait=0.0)
        assert length is not None
        lengths.append(length)
        now = pause.until  # throttled again the moment the pause ends
    assert lengths == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert pause.throttled(now + 100.0, wait=0.0) == 1.0  # a quiet spell starts over
