"""The fleet-wide send rate: GCRA on the Redis server's clock, and the shared throttle pause.

Every worker asks Redis before it sends: one Lua script (atomic on the server) reads the pause
key, reads the server's ``TIME`` and moves the login's theoretical arrival time (GCRA) by the
message's parts. No client ever sends a timestamp: waits come back *relative* ("in 12 ms"), so
clocks that disagree between machines cannot make the fleet send faster (GCRA: the ATM
Forum's Generic Cell Rate Algorithm, ITU-T I.371).

The binds' writers are synchronous (they run between reads of the socket), so :class:`FleetRate`
keeps a small local *credit*: parts Redis granted a moment ago. ``take`` spends it or asks the
background loop for more and returns a wait; the grant wakes the binds. Credit is spent within
milliseconds or dropped after :data:`CREDIT_LIFE`, so a grant can never be saved up for a burst.
A busy worker whose last grant was whole asks for the next one when half of it is spent, so its
binds do not stop for a Redis round trip (on a loaded machine one can take milliseconds).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
from redis.exceptions import RedisError

from smscenter.smpp.client._ratelimit import RateLimiter

if TYPE_CHECKING:
    from smscenter.fleet._fleet import Fleet

__all__ = (
    "CREDIT_LIFE",
    "GCRA_SCRIPT",
    "PREFETCH_FROM",
    "RAMP",
    "START_MAX",
    "TIGHT_HOLD",
    "FleetRate",
)

logger = logging.getLogger("smscenter.fleet")

#: How long (s) parts granted by Redis may wait locally before they are dropped unspent.
CREDIT_LIFE = 0.1
#: The least grant after which the next one is asked for early (at half spent): a worker that
#: is granted this many at once sends faster than a round trip to Redis takes to answer.
PREFETCH_FROM = 16
#: The most a worker with messages waiting asks for first, when the burst holds two busy
#: grants (then half the burst, at most this).
START_MAX = 1024
#: At most how many times what it spent so far in this window a worker that is speeding up
#: asks for (with what it spent, its grants grow about fourfold each round trip at start).
RAMP = 3
#: How long (s) after a refusal or a part grant (the fleet at its rate) asks stay small.
TIGHT_HOLD = 1.0
# Backoff while Redis cannot be reached: no grant, so nothing is sent.
_DOWN_FIRST, _DOWN_MAX = 0.05, 1.0

# KEYS[1] the login's arrival time (microseconds, server clock), KEYS[2] the pause key.
# ARGV[1] emission interval (us per part), ARGV[2] tolerance (us), ARGV[3] parts wanted,
# ARGV[4] parts needed (the least worth granting: the rest of the message at hand).
# Grants as many parts as fit in the burst now, up to the parts wanted, so one round trip
# can serve many messages without ever letting the fleet past rate + burst. A message of more
# parts than the burst goes whole once the allowance is full (its parts belong together; the
# debt delays the next ones). Returns {parts granted, wait in us}.
GCRA_SCRIPT = """
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {0, pause * 1000} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local need = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local fit = math.floor((now + tolerance + interval - tat) / interval)
local grant = math.min(want, fit)
local burst = math.floor(tolerance / interval) + 1
if need > burst then
  if tat > now then return {0, math.ceil(tat - now)} end
  grant = need
elseif grant < need then
  return {0, math.ceil(tat + need * interval - now - tolerance - interval)}
end
local new = tat + grant * interval
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000) + 1000)
return {grant, 0}
"""


class FleetRate:
    """A pool's send rate in fleet mode: the fleet's GCRA on Redis first, then the pool's own
    :class:`~smscenter.smpp.client._ratelimit.RateLimiter` (``Limits.max_rate``).

    It has the interface the binds use (``take``, ``note``, ``throttled``, ``rate``). Made by
    :meth:`Fleet.send_rate`; the pool runs its loop (:meth:`run`) in its task group.

    :param fleet: the fleet (Redis client, keys, rate, burst).
    :param local: the pool's own limiter, a second gate (and the one that adapts to 0x58).
    :param wake: wakes the binds (a grant arrived or a pause ended).
    :param throttle_pause: how long a 0x58 pauses the whole fleet.
    :param backlog: how many messages wait in the pool's queue (for the first asks of a
        worker that has many to send).
    """

    def __init__(
        self,
        fleet: Fleet,
        local: RateLimiter,
        wake: Callable[[], None],
        *,
        throttle_pause: float,
        backlog: Callable[[], int] | None = None,
    ) -> None:
        self._fleet = fleet
        self._backlog = backlog
        self._local = local
        self._wake = wake
        self._pause_ms = max(1, int(throttle_pause * 1000))
        self._credit = 0
        self._credit_until = 0.0
        self._demand = 0
        self._need = 0
        # Parts spent in the current and the previous CREDIT_LIFE window: what to ask for next,
        # so a busy worker gets many messages' worth per round trip and an idle one little.
        self._spent = 0
        self._spent_before = 0
        self._window_end = 0.0
        # Whether the last grant was whole and busy (PREFETCH_FROM or more, the fleet roomy):
        # then a worker speeding up asks for more than it spent (RAMP).
        self._busy = False
        # The first ask of a worker with messages waiting (0: as the others, when the burst
        # cannot hold two busy grants: a cap is near).
        self._start = min(fleet.burst // 2, START_MAX) if fleet.burst >= 2 * PREFETCH_FROM else 0
        # Credit at or below which the next grant is asked for early (-1: not after this grant).
        self._refill_at = -1
        # Whether the last answer was a whole grant the burst holds twice, and no refusal or
        # part grant came for TIGHT_HOLD (the fleet has room).
        self._roomy = True
        self._tight_until = 0.0
        # Parts sent at ``_noted_at`` not yet counted by the pool's limiter (when it has no rate).
        self._unnoted = 0
        self._noted_at = 0.0
        self._paused_until = 0.0
        self._asked = anyio.Event()
        self._closed = False
        #: How many 0x58 answers this process reported to the fleet.
        self.throttles = 0
        #: Grants and refusals from Redis (for statistics and tests).
        self.grants = 0
        self.denials = 0

    def __repr__(self) -> str:
        return f"<FleetRate {self._fleet.rate:g}/s burst={self._fleet.burst} credit={self._credit}>"

    @property
    def rate(self) -> float:
        """The rate in force: the lower of the fleet's and the pool's own."""
        local = self._local.rate
        return self._fleet.rate if local is None else min(local, self._fleet.rate)

    @property
    def limited(self) -> bool:
        return True

    # --- what the binds call (synchronous) ----------------------------------------------------

    def take(self, n: int, now: float) -> float:
        """Ask to send ``n`` parts now: 0.0 when they may go, else seconds to wait (the binds
        are woken sooner when Redis grants them)."""
        if now < self._paused_until:
            return self._paused_until - now
        credit = self._credit
        if credit and now >= self._credit_until:
            credit = self._credit = 0  # granted too long ago: not saved up for a burst
        if credit < n:
            short = n - credit
            want = max(short, min(self._fleet.burst, self._recent(now)))
            backlog = self._backlog
            if backlog is not None and self._roomy and not self._busy and self._local.rate is None:
                # Messages waiting, no rate of the pool's own to slow it, and a burst that
                # holds two busy grants: start at a busy grant (half the burst, at most
                # START_MAX) rather than one part (near the fleet's rate Redis grants what
                # fits or refuses, and the asks shrink).
                want = max(want, min(self._start, short + backlog()))
            self._need = max(self._need, short)
            self._demand = max(self._demand, want)
            self._asked.set()
            return CREDIT_LIFE
        local = self._local
        if local.rate is None:
            # No rate of the pool's own: it only counts what goes out (where a 0x58 cuts from),
            # once per pass of the pump (one ``now``), as it does in a pool without a fleet.
            if now != self._noted_at:
                self._note_sent()
                self._noted_at = now
            self._unnoted += n
        else:
            wait = local.take(n, now)
            if wait > 0:
                return wait
        self._credit = credit = credit - n
        self._spent += n
        if credit <= self._refill_at and not self._demand:
            # Half of the credit spent: ask for the next grant while the rest goes out, enough
            # to top the credit up to what it spends in CREDIT_LIFE. More would be dropped
            # unspent when the life ends, and the binds would stop for a round trip.
            self._refill_at = -1
            self._need = 1
            recent = min(self._fleet.burst, self._recent(now))
            self._demand = max(PREFETCH_FROM, recent - credit)
            self._asked.set()
        return 0.0

    def _recent(self, now: float) -> int:
        """Parts spent lately: in the last whole CREDIT_LIFE window, or, while the fleet has
        room, in this one if more (a worker that just started doubles its asks each round trip
        instead of asking for one part at a time for a whole window). Near the fleet's rate
        the asks stay small: parts granted and not yet sent, held by every worker at once,
        are what a late send could add to one second at the SMSC."""
        if now >= self._window_end:
            self._spent_before, self._spent = self._spent, 0
            self._window_end = now + CREDIT_LIFE
        if not self._roomy:
            return self._spent_before
        spent = self._spent
        if self._busy and spent > self._spent_before:
            # Speeding up (a start) with busy grants: this window's pace over a whole window,
            # at most RAMP times what it spent (a grant outlives CREDIT_LIFE unspent only
            # when the worker slowed down).
            elapsed = now - (self._window_end - CREDIT_LIFE)
            pace = int(spent * CREDIT_LIFE / elapsed) if elapsed > 0 else RAMP * spent
            spent = max(spent, min(RAMP * spent, pace))
        return max(self._spent_before, spent)

    def note(self, n: int, now: float) -> None:  # pragma: no cover - rate is never None
        self._local.note(n, now)

    def _note_sent(self) -> None:
        if self._unnoted:
            self._local.note(self._unnoted, self._noted_at)
            self._unnoted = 0

    def throttled(self, now: float) -> float:
        """A 0x58 on one of this pool's binds: drop the local credit, pause the whole fleet
        (the shared key, set once per pause) and let the pool's limiter slow down."""
        self.throttles += 1
        self._note_sent()  # the limiter cuts from what was sent: count all of it first
        self._credit = 0
        pause = self._pause_ms / 1000
        if now >= self._paused_until:
            self._paused_until = now + pause
            self._fleet.spawn(self._fleet.pause, pause)
        return max(self._local.throttled(now), self._paused_until - now)

    # --- the loop that talks to Redis -----------------------------------------------------------

    def close(self) -> None:
        """Stop the loop (the pool closed)."""
        self._closed = True
        self._asked.set()

    async def run(self) -> None:
        """Grant what the binds ask for, one GCRA call at a time (in the pool's task group)."""
        fleet = self._fleet
        keys = [fleet.keys.rate, fleet.keys.pause]
        interval = 1_000_000 / fleet.rate
        tolerance = max(0.0, (fleet.burst - 1) * interval)
        down = 0.0
        while not self._closed:
            if not self._demand:
                await self._asked.wait()
                self._asked = anyio.Event()
                continue
            want, need = self._demand, min(self._need, self._demand) or 1
            try:
                granted, wait_us = await fleet.script(
                    "gcra",
                    GCRA_SCRIPT,
                    keys,
                    [f"{interval:.3f}", f"{tolerance:.0f}", want, need],
                )
            except (RedisError, OSError) as exc:
                # Redis is away: nothing is granted, so nothing is sent, until it answers.
                down = min(_DOWN_MAX, down * 2 if down else _DOWN_FIRST)
                logger.warning("fleet: no send rate from Redis (%s); retrying in %.2f s", exc, down)
                await anyio.sleep(down)
                continue
            if down:
                logger.info("fleet: Redis answers again; sending resumes")
                down = 0.0
            now = anyio.current_time()
            if granted:
                granted = int(granted)
                self.grants += 1
                # A whole grant, the burst holds twice as many, and nothing refused lately: the
                # fleet has room. Then a busy worker (many parts a grant) asks for the next at
                # half spent. Near the fleet's rate (refusals, part grants, asks as big as half
                # the burst) it waits for the credit to run out: an early ask would be refused,
                # a round trip for nothing.
                if granted < want:
                    self._tight_until = now + TIGHT_HOLD
                self._roomy = (
                    granted >= want and 2 * granted <= fleet.burst and now >= self._tight_until
                )
                busy = self._busy = self._roomy and granted >= PREFETCH_FROM
                self._demand = max(0, self._demand - granted)
                self._need = 0
                fresh = self._credit if now < self._credit_until else 0
                self._credit = credit = fresh + granted
                self._credit_until = now + CREDIT_LIFE
                self._refill_at = credit // 2 if busy else -1
                self._wake()
            else:
                self.denials += 1
                self._roomy = self._busy = False
                self._tight_until = now + TIGHT_HOLD
                await anyio.sleep(int(wait_us) / 1_000_000)


def burst_for(rate: float) -> int:
    """The default burst: a tenth of a second's worth of parts, at least 1."""
    return max(1, math.floor(rate / 10))
