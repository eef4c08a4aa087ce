"""Keepalive bookkeeping of one SMPP session, sans-IO: when an ``enquire_link`` is due, and
whether the one sent was answered in time (SMPP 3.4 §4.11). Time comes in as ``now``."""

from __future__ import annotations

import attrs

__all__ = ("Keepalive", "Timers")


@attrs.frozen(kw_only=True)
class Timers:
    """What :meth:`SMPPConnection.timers <smscenter.smpp.connection.SMPPConnection.timers>`
    found at ``now``.

    :ivar enquire_link_due: nothing was sent for an interval and no enquire_link is out: send
        one (``SMPPConnection.send_enquire_link``).
    :ivar link_dead: an enquire_link went unanswered past its deadline: close the link.
    :ivar next_check: when to call ``timers`` / ``expire`` again at the latest (None: nothing
        scheduled).
    """

    enquire_link_due: bool
    link_dead: bool
    next_check: float | None


class Keepalive:
    """The enquire_link out (if any) and when the link last carried something of ours.

    :param interval: seconds without anything sent after which an enquire_link is due.
    """

    __slots__ = ("_interval", "_last_activity", "deadline", "probe_seq", "sent")

    def __init__(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError("enquire_link_interval must be positive")
        self._interval = float(interval)
        self._last_activity: float | None = None
        #: Something was sent since the last :meth:`timers` (the sender sets it).
        self.sent = False
        #: The enquire_link awaiting its answer, and until when.
        self.probe_seq: int | None = None
        self.deadline: float | None = None

    def probe_sent(self, seq: int, deadline: float | None) -> None:
        """An enquire_link went out as ``seq``."""
        self.probe_seq = seq
        self.deadline = deadline

    def answered(self, seq: int) -> None:
        """Request ``seq`` was answered (the enquire_link, if it is that one)."""
        if seq == self.probe_seq:
            self.probe_seq = None
            self.deadline = None

    def timers(self, now: float, *, bound: bool, next_deadline: float | None) -> Timers:
        """At ``now``: whether a probe is due, whether the link is dead, when to look again.

        The interval counts from the last time anything was *sent* (seen at the previous call):
        the provider drops a link on which the client stays silent for 2 minutes
        (smscentre.com/api/smpp).

        :param next_deadline: the earliest deadline of another request in flight.
        """
        if self.sent or self._last_activity is None:
            self._last_activity = now
            self.sent = False
        due_at = self._last_activity + self._interval
        out = self.probe_seq is not None
        link_dead = out and self.deadline is not None and now >= self.deadline
        candidates = [t for t in (next_deadline, self.deadline) if t is not None]
        if bound and not out:
            candidates.append(due_at)
        return Timers(
            enquire_link_due=bound and not out and now >= due_at,
            link_dead=link_dead,
            next_check=min(candidates) if candidates else None,
        )
