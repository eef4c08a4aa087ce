"""What the SMPP half saw per login, across all its connections (``sim.smpp.logins``): how many
binds were up at once, every submit's arrival time (for the account's rate, parts per
second), and a record per connection, so tests of many worker processes assert on the SMSC's
side.

The provider's rules behind them (https://smscentre.com/api/smpp/): the limits are per login,
not per connection: ``MCONn`` allows n binds at once, and the account's rate (30 SMS/s by
default) is answered with throttling beyond it.
"""

from __future__ import annotations

import itertools
from collections import Counter, deque

import attrs

__all__ = ("ConnectionRecord", "LoginWatch")

# Submit arrival times kept per login (a test's worth; the oldest are dropped first).
_KEEP = 200_000


@attrs.define
class ConnectionRecord:
    """One bound connection, as the SMSC saw it (times are :func:`time.monotonic`).

    :ivar login: / :ivar system_type: what it bound with.
    :ivar bound_at: the bind was accepted; :ivar unbind_at: the client's unbind arrived
        (None: it never sent one); :ivar closed_at: the connection ended (None: still open).
    :ivar submits: submit_sm received on it; :ivar last_submit_at: the last one's arrival.
    """

    id: int
    login: str
    system_type: str
    bound_at: float
    unbind_at: float | None = None
    closed_at: float | None = None
    submits: int = 0
    last_submit_at: float | None = None


class LoginWatch:
    """Per-login counters of the SMPP half (``sim.smpp.logins``).

    :ivar binds_now: binds of each login up now.
    :ivar max_binds: the most binds of each login up at the same moment.
    :ivar throttled: submit_sm answered ESME_RTHROTTLED, per login (and
        :attr:`throttled_at` when).
    :ivar connections: a :class:`ConnectionRecord` per bound connection, in bind order.
    """

    def __init__(self) -> None:
        self.binds_now: Counter[str] = Counter()
        self.max_binds: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        #: When each ESME_RTHROTTLED answer was given, per login (monotonic).
        self.throttled_at: dict[str, list[float]] = {}
        self.connections: list[ConnectionRecord] = []
        self._arrivals: dict[str, deque[float]] = {}
        self._ids = itertools.count(1)

    def reset(self) -> None:
        """Forget everything but the binds up now (they are live)."""
        self.max_binds = Counter(self.binds_now)
        self.throttled.clear()
        self.throttled_at.clear()
        self._arrivals.clear()
        self.connections = [c for c in self.connections if c.closed_at is None]

    # --- fed by the SMPP half -----------------------------------------------------------------

    def bound(self, login: str, system_type: str, now: float) -> ConnectionRecord:
        self.binds_now[login] += 1
        if self.binds_now[login] > self.max_binds[login]:
            self.max_binds[login] = self.binds_now[login]
        record = ConnectionRecord(next(self._ids), login, system_type, now)
        self.connections.append(record)
        return record

    def submitted(self, record: ConnectionRecord, now: float) -> None:
        record.submits += 1
        record.last_submit_at = now
        arrivals = self._arrivals.get(record.login)
        if arrivals is None:
            arrivals = self._arrivals[record.login] = deque(maxlen=_KEEP)
        arrivals.append(now)

    def throttle(self, login: str, now: float) -> None:
        self.throttled[login] += 1
        self.throttled_at.setdefault(login, []).append(now)

    def unbind(self, record: ConnectionRecord, now: float) -> None:
        # An unbound connection is no bind any more, even before it closes.
        if record.unbind_at is None:
            record.unbind_at = now
            if record.closed_at is None:
                self.binds_now[record.login] -= 1

    def closed(self, record: ConnectionRecord, now: float) -> None:
        if record.closed_at is None:
            record.closed_at = now
            if record.unbind_at is None:
                self.binds_now[record.login] -= 1

    # --- for tests ------------------------------------------------------------------------------

    def arrivals(self, login: str) -> list[float]:
        """When each submit_sm of ``login`` arrived (:func:`time.monotonic`), oldest first."""
        return list(self._arrivals.get(login, ()))

    def submits(self, login: str) -> int:
        """submit_sm (message parts) received for ``login``."""
        return len(self._arrivals.get(login, ()))

    def peak(self, login: str, window: float = 1.0) -> int:
        """The most submit_sm of ``login`` that arrived within any ``window`` seconds."""
        times = self._arrivals.get(login, ())
        best = 0
        start = 0
        ordered = list(times)
        for end, at in enumerate(ordered):
            while ordered[start] <= at - window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def seconds_over(self, login: str, limit: float, window: float = 1.0) -> int:
        """How many whole seconds (counted from the first submit) held an instant at which more
        than ``limit`` submit_sm of ``login`` had arrived within the last ``window``."""
        ordered = list(self._arrivals.get(login, ()))
        if not ordered:
            return 0
        first = ordered[0]
        over: set[int] = set()
        start = 0
        for end, at in enumerate(ordered):
            while ordered[start] <= at - window:
                start += 1
            if end - start + 1 > limit:
                over.add(int(at - first))
        return len(over)
