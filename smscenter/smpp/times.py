"""SMPP absolute and relative times (SMPP 3.4 §7.1.1), as ``submit_sm`` carries them (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from smscenter._provider import MOSCOW
from smscenter.exceptions import ValidationError

__all__ = ("absolute_time", "relative_time")


def absolute_time(when: datetime, *, local_tz: tzinfo = MOSCOW) -> str:
    """``YYMMDDhhmmsstnnp`` for an instant: written in UTC (``nn`` = 00, ``p`` = ``+``).

    A naive ``when`` is read in ``local_tz``.
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=local_tz)
    return f"{when.astimezone(UTC):%y%m%d%H%M%S}000+"


def relative_time(delta: timedelta) -> str:
    """``YYMMDDhhmmss000R`` for a duration from now (SMPP 3.4 §7.1.1.2).

    Days beyond 99 do not fit the ``DD`` field and are carried as years of 365 days and months
    of 30 days (the spec defines no exact length for them; SMSCs add them to the calendar).

    :raises ValueError: for a negative duration.
    """
    if delta < timedelta(0):
        raise ValidationError("a relative time cannot be negative")
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    years = months = 0
    if days > 99:
        years, days = divmod(days, 365)
        months, days = divmod(days, 30)
    if years > 99:
        raise ValidationError("a relative time must be under 100 years")
    return f"{years:02d}{months:02d}{days:02d}{hours:02d}{minutes:02d}{seconds:02d}000R"
