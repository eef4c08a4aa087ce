"""The client-side send rate: a token bucket shared by every bind of a pool, steered by what the
SMSC accepts when it throttles (pure: the caller passes ``now``).

The provider allows 30 SMS/s per account by default and answers faster senders with a
throttling status (SMPP 3.4 §5.1.3 ``ESME_RTHROTTLED``); the client must then resend and slow
down (https://smscentre.com/api/smpp/). So the bucket is the first line (never send faster than
the configured rate) and the adaptation the second:

- **Cut to what was accepted.** While the SMSC throttles, the messages it accepted over the last
  second (sent minus refused) are its real limit, whatever was offered. The rate is cut to just
  under that (at most by half per second, so a few early refusals cannot collapse it), once per
  second of refusals, however many answers arrive.
- **Probe upward gently.** After a quiet spell the rate climbs a few per cent a second, up to the
  configured rate (without one, with no bound), so a raised limit is found again; an overshoot
  costs a handful of refusals and a cut back to the accepted rate.
- **Refusals that do not depend on speed.** If a cut did not raise the share accepted (the
  accepted count fell in step with the rate), slowing down does not help: the rate goes back up
  and the refused messages are simply resent.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

__all__ = ("RateLimiter", "SendRate", "ThrottlePause")

# The lowest rate a throttled bucket falls to (messages per second).
_MIN_RATE = 1.0
# The window over which sends and refusals are counted: the provider's limit is per second.
_WINDOW = 1.0
# Counting granularity inside the window.
_SLOT = 0.05
# A cut goes to this share of the accepted rate, leaving room for timing jitter.
_BACKOFF = 0.9
# No probing upward for this long after a cut; then this much faster per second.
_HOLD = 2.0
_PROBE = 0.03
# Fewer sends than this in the window say too little about the SMSC's limit.
_EVIDENCE = 20
# How long refusals found not to depend on speed are only resent, not acted on.
_IGNORE = 10.0
# How long a run of refusals lasts before a cut to fewer than _EVIDENCE may go below half: the
# answers to one burst come within milliseconds, and a strict SMSC refuses all or nearly all of
# it, which says nothing yet of what it takes per second.
_SETTLE = 0.2


class SendRate(Protocol):
    """What the binds of a pool ask before they write: a :class:`RateLimiter`, or in fleet mode
    ``smscenter.fleet.FleetRate`` (the fleet's rate on Redis in front of a RateLimiter)."""

    @property
    def rate(self) -> float | None:
        """The rate in force (None: no limit; then only :meth:`note` is called)."""
        ...

    def take(self, n: int, now: float) -> float:
        """0.0 when ``n`` parts may go now (taken), else seconds to wait."""
        ...

    def note(self, n: int, now: float) -> None:
        """Count ``n`` parts sent without asking (no limit in force)."""
        ...

    def throttled(self, now: float) -> float:
        """A throttle answer (0x58) came; returns how long the bind should pause."""
        ...


class RateLimiter:
    """Parts (SMS) per second over everything that shares this object.

    :param rate: the ceiling in messages per second; ``None`` sends as fast as the window
        allows until the SMSC throttles (then near the rate it accepted, probing upward).
    :param burst: how many tokens may accumulate while idle (default: a tenth of a second's
        worth, at least 1), so a pause is not followed by a burst the SMSC would refuse.
    """

    __slots__ = (
        "_burst",
        "_cut_at",
        "_episode_rate",
        "_explicit_burst",
        "_ignore_until",
        "_last_accepted",
        "_last_ratio",
        "_last_cut_rate",
        "_slots",
        "_sent_sum",
        "_stamp",
        "_throttled_sum",
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
        self._explicit_burst = burst
        self._burst = burst if burst is not None else max(1.0, (rate or 0.0) / 10.0)
        self._tokens = self._burst
        self._stamp: float | None = None
        # Sends and refusals per _SLOT over the last _WINDOW: [slot start, sent, refused].
        self._slots: deque[list[float]] = deque()
        self._sent_sum = 0.0
        self._throttled_sum = 0.0
        # The current run of refusals: when its cut started, and the rate in force then.
        self._cut_at: float | None = None
        self._episode_rate = 0.0
        # The previous cut: the rate it cut from, and what was accepted and the share refused
        # when it last heard a refusal.
        self._last_cut_rate: float | None = None
        self._last_accepted = 0.0
        self._last_ratio = 0.0
        # Refusals found not to depend on speed are not acted on until then.
        self._ignore_until = 0.0
        #: How many throttle answers adjusted this limiter.
        self.throttles = 0

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.1f}/s"
        return f"<RateLimiter {rate} nominal={self.nominal}>"

    @property
    def limited(self) -> bool:
        """Whether a rate is in force at all."""
        return self.rate is not None

    # --- counting ----------------------------------------------------------------------------

    def _count(self, now: float, sent: float, refused: float) -> None:
        slots = self._slots
        start = now - now % _SLOT
        if slots and slots[-1][0] == start:
            slots[-1][1] += sent
            slots[-1][2] += refused
        else:
            slots.append([start, sent, refused])
        self._sent_sum += sent
        self._throttled_sum += refused
        horizon = now - _WINDOW
        while slots and slots[0][0] + _SLOT <= horizon:
            _, old_sent, old_refused = slots.popleft()
            self._sent_sum -= old_sent
            self._throttled_sum -= old_refused

    def note(self, n: int, now: float) -> None:
        """Count ``n`` parts sent now without asking (only while no limit is in force: what was
        sent is where :meth:`throttled` starts from)."""
        self._count(now, n, 0)

    # --- the bucket ----------------------------------------------------------------------------

    def _set_rate(self, rate: float | None) -> None:
        self.rate = rate
        if self._explicit_burst is None:
            self._burst = max(1.0, (rate or 0.0) / 10.0)
        self._tokens = min(self._tokens, self._burst)

    def _probe(self, now: float) -> float | None:
        """Climb back after a quiet spell (no refusal for ``_HOLD`` seconds)."""
        rate, at, stamp = self.rate, self._cut_at, self._stamp
        if rate is None or at is None or stamp is None or now - at < _HOLD:
            return rate
        elapsed = now - max(stamp, at + _HOLD)
        if elapsed > 0:
            rate = rate * (1.0 + _PROBE * elapsed)
            if self.nominal is not None and rate >= self.nominal:
                rate = self.nominal
                self._cut_at = None  # back at the configured rate: done probing
            self._set_rate(rate)
        return self.rate

    def take(self, n: int, now: float) -> float:
        """Ask to send ``n`` parts now. Returns 0.0 when they may go (the tokens are taken; the
        bucket may go into debt for a multi-part message, which keeps its parts together), else
        how many seconds to wait before asking again (nothing taken)."""
        if self.rate is None:
            self._count(now, n, 0)
            return 0.0
        rate = self._probe(now)
        if rate is None:  # pragma: no cover - a probe never lifts the limit
            self._count(now, n, 0)
            return 0.0
        stamp = self._stamp
        if stamp is not None and now > stamp:
            self._tokens = min(self._burst, self._tokens + (now - stamp) * rate)
        self._stamp = now if stamp is None or now > stamp else stamp
        if self._tokens >= 1.0 or (self._tokens > 0 and n <= self._tokens):
            self._tokens -= n
            self._count(now, n, 0)
            return 0.0
        return (1.0 - self._tokens) / rate

    # --- the adaptation ------------------------------------------------------------------------

    def throttled(self, now: float) -> float:
        """The SMSC refused a part for speed: slow down to what it accepted over the last
        second. Returns how long the bind that heard it should pause: the time the new rate
        takes to earn one token (the bucket starts empty)."""
        self.throttles += 1
        self._count(now, 0, 1)
        if now < self._ignore_until:
            return 0.0
        if self.rate is None and self._sent_sum < _EVIDENCE:
            # Unlimited, and too few sent to say what the SMSC takes: resend, do not guess.
            return 0.0
        sent, refused = max(self._sent_sum, 1.0), self._throttled_sum
        accepted = max(sent - refused, _MIN_RATE)
        ratio = min(refused / sent, 1.0)
        current = self.rate if self.rate is not None else sent
        if self._cut_at is None or now - self._cut_at >= _WINDOW:
            # A new run of refusals.
            previous_rate, previous_ratio = self._last_cut_rate, self._last_ratio
            if (
                previous_rate is not None
                and self._cut_at is not None
                and now - self._cut_at < 2 * _HOLD
                and current <= 1.05 * self._last_accepted
                and ratio >= 0.8 * previous_ratio
            ):
                # Sending no faster than the SMSC accepted before, and still refused as often:
                # these refusals do not depend on speed, so going slower only loses time. Go
                # back up, and for a while just resend what is refused.
                self._cut_at = None
                self._last_cut_rate = None
                self._ignore_until = now + _IGNORE
                if self.nominal is None:
                    self._set_rate(None)
                else:
                    self._set_rate(min(previous_rate, self.nominal))
                return 0.0
            self._cut_at = now
            self._episode_rate = current
            self._last_cut_rate = current
        self._last_ratio = ratio
        self._last_accepted = accepted
        # Within a run: follow the accepted count down as the refusals come in. A few refusals
        # among few sends say little, nor does a burst refused (nearly) whole: then never below
        # half the rate the run started from.
        heavy = (
            sent >= _EVIDENCE
            and refused >= sent / 2
            and (sent - refused >= _EVIDENCE or now - self._cut_at >= _SETTLE)
        )
        floor = _MIN_RATE if heavy else max(_MIN_RATE, 0.5 * self._episode_rate)
        target = max(_BACKOFF * accepted, floor)
        if self.nominal is not None:
            target = min(target, self.nominal)
        if self.rate is None or target < self.rate:
            self._set_rate(target)
        self._tokens = 0.0
        self._stamp = now
        assert self.rate is not None
        return 1.0 / self.rate


class ThrottlePause:
    """One bind's pause after throttle answers (pure: the caller passes ``now``).

    A throttle answer means "try later" (SMPP 3.4 §5.1.3): the bind stops sending for a while
    instead of resending at once, which would spend ``throttle_retries`` in a few round trips.
    The pause is at most ``limit`` (``SMPPOptions.throttle_pause``), shorter when the shared
    :class:`RateLimiter`'s new rate allows the next part sooner, and doubles (up to 8 times
    that base) while throttle answers keep coming right after a pause.

    :param limit: the longest first pause, in seconds.
    """

    __slots__ = ("limit", "pause", "until")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        #: The current pause length.
        self.pause = limit
        #: When the current pause ends (in the past: none).
        self.until = 0.0

    def left(self, now: float) -> float:
        """Seconds of pause left at ``now`` (0: the bind may send)."""
        return self.until - now if self.until > now else 0.0

    def throttled(self, now: float, wait: float) -> float | None:
        """A throttle answer at ``now``; ``wait`` is how long the limiter's new rate takes to
        allow the next part (0: it set none). Returns the pause that starts now, or None when
        one is running already (answers to parts written before it began)."""
        if self.until > now:
            return None
        base = min(self.limit, wait) if wait > 0 else self.limit
        again = now - self.until < self.pause * 2
        self.pause = min(self.pause * 2, base * 8) if again else base
        self.until = now + self.pause
        return self.pause
