"""The client-side send rate: a token bucket shared by every bind of a pool, that backs off when
the SMSC throttles and recovers gradually (pure: the caller passes ``now``).

The provider's SMPP page (smscentre.com/api/smpp): the provider allows 30 SMS/s per account by
default and answers faster senders with a throttling error, after which "the client must repeat the
sending, reducing the overall speed on its side". So the bucket is the first line (never exceed the
account's rate), and the AIMD adjustment the second: halve the rate on every throttle answer, then
add back a tenth of the ceiling per second without one (a throttle answer, SMPP 3.4 §5.1.3, says the
bind is too fast, not that one message failed).
"""

from __future__ import annotations

__all__ = ("RateLimiter",)

# The lowest rate a throttled bucket falls to (messages per second).
_MIN_RATE = 1.0
# After a throttle answer the rate climbs back to its ceiling in about this many seconds.
_RECOVERY_SECONDS = 10.0


class RateLimiter:
    """Parts (SMS) per second over everything that shares this object.

    :param rate: the ceiling in messages per second; ``None`` sends as fast as the window
        allows until the SMSC throttles (then the measured rate becomes the ceiling for a while).
    :param burst: how many tokens may accumulate while idle (default: a tenth of a second's
        worth, at least 1), so a pause is not followed by a burst the SMSC would refuse.
    """

    __slots__ = (
        "_burst",
        "_ceiling",
        "_count",
        "_count_start",
        "_last_rate",
        "_stamp",
        "_throttled_at",
        "_tokens",
        "nominal",
        "rate",
        "throttles",
    )

    def __init__(self, rate: float | None, *, burst: float | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive or None")
        self.nominal = rate
        #: The rate in force now (None: no limit).
        self.rate: float | None = rate
        self._ceiling = rate
        self._burst = burst if burst is not None else max(1.0, (rate or 0.0) / 10.0)
        self._tokens = self._burst
        self._stamp: float | None = None
        self._throttled_at: float | None = None
        self._count = 0
        self._count_start: float | None = None
        self._last_rate = 0.0
        #: How many throttle answers adjusted this limiter.
        self.throttles = 0

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.1f}/s"
        return f"<RateLimiter {rate} nominal={self.nominal}>"

    @property
    def limited(self) -> bool:
        """Whether a rate is in force at all."""
        return self.rate is not None

    def _measure(self, n: int, now: float) -> None:
        start = self._count_start
        if start is None:
            self._count_start = now
            self._count = n
            return
        if now - start >= 1.0:
            self._last_rate = self._count / (now - start)
            self._count_start = now
            self._count = n
        else:
            self._count += n

    def note(self, n: int, now: float) -> None:
        """Count ``n`` parts sent now without asking (only while no limit is in force: the
        measured rate is where :meth:`throttled` starts from)."""
        self._measure(n, now)

    def _recover(self, now: float) -> float | None:
        rate, ceiling, at = self.rate, self._ceiling, self._throttled_at
        if rate is None or at is None or ceiling is None:
            return rate
        if rate >= ceiling:
            if self.nominal is None:
                # Unlimited by configuration: the temporary ceiling is lifted once reached.
                self.rate = None
                self._throttled_at = None
            return self.rate
        elapsed = now - (self._stamp if self._stamp is not None else now)
        if elapsed > 0:
            self.rate = min(ceiling, rate + ceiling * elapsed / _RECOVERY_SECONDS)
        return self.rate

    def take(self, n: int, now: float) -> float:
        """Ask to send ``n`` parts now. Returns 0.0 when they may go (the tokens are taken; the
        bucket may go into debt for a multi-part message, which keeps its parts together), else
        how many seconds to wait before asking again (nothing taken)."""
        if self.rate is None:
            self._measure(n, now)
            return 0.0
        rate = self._recover(now)
        if rate is None:
            self._measure(n, now)
            return 0.0
        stamp = self._stamp
        if stamp is not None and now > stamp:
            self._tokens = min(self._burst, self._tokens + (now - stamp) * rate)
        self._stamp = now if stamp is None or now > stamp else stamp
        if self._tokens >= 1.0 or (self._tokens > 0 and n <= self._tokens):
            self._tokens -= n
            self._measure(n, now)
            return 0.0
        return (1.0 - self._tokens) / rate

    def throttled(self, now: float) -> None:
        """The SMSC refused a message for speed: halve the rate (from the measured one when no
        limit was in force)."""
        self.throttles += 1
        if self.rate is None:
            # The rate that provoked the refusal: the last full second's, or the current
            # second's so far (counted over at least 10 ms so a first burst is not misread).
            start = self._count_start if self._count_start is not None else now
            current = self._count / max(now - start, 0.01)
            measured = max(self._last_rate, current)
            base = max(_MIN_RATE * 2, measured)
            # Sticky: a rate measured while already slowed down must not lower the ceiling
            # (else an SMSC refusing a share of everything would spiral the rate to nothing).
            self._ceiling = max(base, self._ceiling or 0.0)
            self.rate = base
            self._tokens = 0.0
            self._stamp = now
        assert self.rate is not None
        # Several answers to one burst arrive together: halve at most once per 100 ms.
        if self._throttled_at is None or now - self._throttled_at >= 0.1:
            # Never below a tenth of the ceiling: an SMSC that refuses a share of everything
            # whatever the speed must not starve the sender.
            floor = max(_MIN_RATE, (self._ceiling or _MIN_RATE) / 10.0)
            self.rate = max(floor, self.rate / 2.0)
            self._burst = max(1.0, self.rate / 10.0)
            self._tokens = min(self._tokens, self._burst)
        self._throttled_at = now
