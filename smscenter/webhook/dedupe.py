"""A small bounded memory of recent callback events, to drop the provider's re-deliveries.

The provider re-sends a callback every 4 minutes, up to 50 times (about 3 h 20 min), until the
handler answers 200 or 404 (smscentre.com/api/http); a slow answer or a lost response therefore
produces duplicates. Pure: the caller passes ``now`` (any monotonic clock in seconds).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import attrs

from smscenter.exceptions import ValidationError
from smscenter.models import CallConfirmation, DeliveryReport, IncomingMessage

__all__ = ("DEFAULT_TTL", "RecentEvents", "callback_key")

#: Slightly more than the provider's whole retry span (50 attempts x 4 minutes).
DEFAULT_TTL = 4 * 3600.0


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{attribute.name} must be a positive int, got {value!r}")


def _positive_float(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"{attribute.name} must be a positive number, got {value!r}")


@attrs.define(eq=False)
class RecentEvents:
    """Remember event keys for ``ttl`` seconds, at most ``max_size`` of them (least recently
    added forgotten first).

    In memory and per process: with several workers, use a shared store (a database unique key,
    Redis ``SET NX EX``) keyed by the same ``event.event_key`` instead.

    >>> recent = RecentEvents(max_size=2, ttl=60)
    >>> recent.seen("report:1", now=0.0), recent.seen("report:1", now=10.0)
    (False, True)
    >>> recent.seen("report:1", now=100.0)  # expired: counts as new again
    False

    :param max_size: how many keys to keep.
    :param ttl: how long a key is remembered, in seconds of the caller's clock.
    """

    max_size: int = attrs.field(default=10_000, validator=_positive_int)
    ttl: float = attrs.field(default=DEFAULT_TTL, validator=_positive_float)
    _entries: OrderedDict[str, float] = attrs.field(init=False, factory=OrderedDict, repr=False)

    def seen(self, key: str, *, now: float) -> bool:
        """Record ``key`` and say whether it was already recorded (and not expired).

        A duplicate does not extend the key's lifetime: retries stop within the provider's
        bounded span, so the first sighting is what counts.

        :param key: the event's ``event_key``.
        :param now: the current time on the caller's (monotonic) clock, in seconds.
        :returns: True for a duplicate (drop it), False for a first sighting (process it).
        """
        self._expire(now)
        if key in self._entries:
            return True
        self._entries[key] = now
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)
        return False

    def forget(self, key: str) -> None:
        """Drop ``key``, so its next delivery is processed (call when processing failed)."""
        self._entries.pop(key, None)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is remembered (expiry is applied on the next :meth:`seen`)."""
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        # Entries are in insertion order, and insertion times only grow on a monotonic clock,
        # so expired keys are always at the front.
        cutoff = now - self.ttl
        while self._entries:
            key, added = next(iter(self._entries.items()))
            if added > cutoff:
                break
            del self._entries[key]


def callback_key(event: DeliveryReport | IncomingMessage | CallConfirmation) -> str:
    """The key to drop re-delivered callbacks on, built only from the fields the provider's
    control value covers (``id:phone:status``, ``phone:mes:to``, ``phone:ts``).

    A key that also used an unsigned field (a status's ``ts``, an incoming SMS's ``id``) would
    let anyone replaying a genuine callback change that field and pass as a new event. The
    cost: the same text from the same phone to the same number twice within the memory's
    ``ttl`` counts as one incoming SMS.

    >>> from smscenter import IncomingMessage
    >>> a = IncomingMessage(phone="79991234567", text="STOP", to="79030000000", message_id="1")
    >>> callback_key(a) == callback_key(IncomingMessage(
    ...     phone="79991234567", text="STOP", to="79030000000", message_id="2"))
    True
    """
    if isinstance(event, DeliveryReport):
        return f"report:{event.message_id}:{event.phone or ''}:{event.raw_status}"
    if isinstance(event, IncomingMessage):
        text = hashlib.sha256(event.text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"incoming:{event.phone}:{event.to or ''}:{text}"
    return f"call:{event.phone}:{int(event.called_at.timestamp())}"
