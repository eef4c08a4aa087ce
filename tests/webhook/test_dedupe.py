"""RecentEvents: bounded, TTL-limited memory of event keys (clock injected)."""

from __future__ import annotations

import pytest

from smscenter.webhook import DEFAULT_TTL, RecentEvents


def test_first_sighting_then_duplicate() -> None:
    recent = RecentEvents(max_size=10, ttl=60)
    assert recent.seen("a", now=0.0) is False
    assert recent.seen("a", now=59.0) is True
    assert "a" in recent and len(recent) == 1


def test_expiry_after_ttl_and_duplicates_do_not_extend() -> None:
    recent = RecentEvents(max_size=10, ttl=60)
    assert not recent.seen("a", now=0.0)
    assert recent.seen("a", now=50.0)  # does not refresh the first sighting's time
    assert not recent.seen("a", now=60.0)  # 60 s after the first sighting: forgotten
    assert recent.seen("a", now=61.0)


def test_expiry_drops_old_keys_from_memory() -> None:
    recent = RecentEvents(max_size=100, ttl=10)
    for i in range(5):
        recent.seen(f"k{i}", now=float(i))
    assert len(recent) == 5
    recent.seen("new", now=13.5)  # k0..k3 are at least 10 s old
    assert len(recent) == 2
    assert "k4" in recent and "k3" not in recent


def test_bounded_size_forgets_oldest_first() -> None:
    recent = RecentEvents(max_size=3, ttl=1000)
    for key in "abcd":
        assert not recent.seen(key, now=1.0)
    assert len(recent) == 3
    assert "a" not in recent
    assert not recent.seen("a", now=2.0)  # evicted, so new again
    assert "b" not in recent and {"c", "d", "a"} <= {k for k in "abcd" if k in recent}


def test_forget_lets_the_retry_through() -> None:
    recent = RecentEvents()
    assert not recent.seen("x", now=0.0)
    recent.forget("x")
    recent.forget("never-seen")  # no error
    assert not recent.seen("x", now=1.0)


def test_default_ttl_covers_the_provider_retry_span() -> None:
    # 50 attempts, one every 4 minutes (seed 002).
    assert DEFAULT_TTL >= 50 * 4 * 60
    assert RecentEvents().ttl == DEFAULT_TTL


def test_bounded_under_many_keys() -> None:
    recent = RecentEvents(max_size=50, ttl=1e9)
    for i in range(5000):
        recent.seen(str(i), now=float(i))
    assert len(recent) == 50
    assert recent.seen("4999", now=5000.0)


@pytest.mark.parametrize(("max_size", "ttl"), [(0, 1.0), (-1, 1.0), (10, 0), (10, -5.0)])
def test_invalid_parameters(max_size: int, ttl: float) -> None:
    with pytest.raises(ValueError):
        RecentEvents(max_size=max_size, ttl=ttl)
