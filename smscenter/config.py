"""Configuration values: credentials, timeouts, limits, the backoff of HTTP retries and SMPP
reconnects (one formula, :class:`Backoff`), and the SMPP client's rarely changed options.

All are frozen attrs classes; derive variants with :func:`attrs.evolve`.
"""

from __future__ import annotations

import enum
import hashlib
import re
from typing import Literal

import attrs

# (Imported for real, not for the type checker only: SMPPOptions' annotations name it, and
# typing.get_type_hints must resolve them.)
from smscenter._late import LateAnswerHandler
from smscenter.exceptions import ValidationError
from smscenter.ids import ReceiptIdStyle

__all__ = (
    "Backoff",
    "Credentials",
    "Limits",
    "ReconcilePolicy",
    "ReconnectPolicy",
    "RetryPolicy",
    "SMPPOptions",
    "Timeouts",
)

_MD5_RE = re.compile(r"[0-9a-f]{32}")


@attrs.frozen
class Credentials:
    """How to log in to the provider: login + password, login + MD5 of the password, or API key.

    Secrets never appear in :func:`repr`, logs or error messages.

    >>> Credentials("acme", "s3cret")
    Credentials(login='acme', auth='password')

    :param login: the account login (or a sub-account / SMPP login).
    :param password: the plain password (needed for SMPP; over HTTP it may be sent as MD5).
    """

    login: str | None
    password: str | None = attrs.field(default=None, repr=False)
    password_md5: str | None = attrs.field(default=None, repr=False, kw_only=True)
    api_key: str | None = attrs.field(default=None, repr=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        given = [x is not None for x in (self.password, self.password_md5, self.api_key)]
        if sum(given) != 1:
            raise ValidationError("give exactly one of password, password_md5 or api_key")
        if self.api_key is not None:
            if self.login is not None:
                raise ValidationError("an API key logs in by itself; leave login empty")
            if not self.api_key:
                raise ValidationError("the API key is empty")
            return
        if not self.login:
            raise ValidationError("a login is required with a password")
        if self.password is not None and not self.password:
            raise ValidationError("the password is empty")
        if self.password_md5 is not None and not _MD5_RE.fullmatch(self.password_md5):
            raise ValidationError("password_md5 must be 32 lowercase hex digits")
        if any(ord(c) > 127 for c in self.login):
            raise ValidationError("the login must be Latin (the provider refuses Cyrillic logins)")

    @classmethod
    def from_api_key(cls, api_key: str) -> Credentials:
        """Log in with an API key instead of login and password (HTTP only)."""
        return cls(None, api_key=api_key)

    @classmethod
    def from_md5(cls, login: str, password_md5: str) -> Credentials:
        """Log in with the lowercase hex MD5 of the password (HTTP only)."""
        return cls(login, password_md5=password_md5.lower())

    @classmethod
    def hashed(cls, login: str, password: str) -> Credentials:
        """Keep only the MD5 of ``password``: the plain password is never stored or sent."""
        return cls.from_md5(login, hashlib.md5(password.encode()).hexdigest())

    @property
    def auth(self) -> Literal["password", "md5", "api_key"]:
        """Which form these credentials take."""
        if self.api_key is not None:
            return "api_key"
        return "md5" if self.password_md5 is not None else "password"

    def __repr__(self) -> str:
        return f"Credentials(login={self.login!r}, auth={self.auth!r})"

    def http_params(self) -> dict[str, str]:
        """The form fields that authenticate an HTTP request."""
        if self.api_key is not None:
            return {"apikey": self.api_key}
        assert self.login is not None
        secret = self.password_md5 if self.password_md5 is not None else self.password
        assert secret is not None
        return {"login": self.login, "psw": secret}

    def secrets(self) -> tuple[str, ...]:
        """Every secret string these credentials hold (for scrubbing text before it is shown)."""
        return tuple(s for s in (self.password, self.password_md5, self.api_key) if s)


def _opt_positive(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise ValidationError(f"a timeout must be positive or None, got {value}")
    return value


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET = _Unset.UNSET


@attrs.frozen(init=False)
class Timeouts:
    """Deadlines, in seconds; ``None`` means no limit.

    ``Timeouts(10)`` sets every deadline to 10 s; keywords override single ones.
    ``enquire_link`` is an interval, not a deadline, so the shorthand leaves it alone.

    :ivar connect: opening a TCP/TLS connection.
    :ivar http: one whole HTTP request (per attempt).
    :ivar bind: the SMPP bind handshake.
    :ivar response: an SMPP response to a request.
    :ivar pool: waiting for a free slot (SMPP window or HTTP request cap).
    :ivar enquire_link: SMPP keepalive interval (the provider cuts links idle for 2 minutes).
    :ivar unbind: how long a graceful SMPP unbind waits for in-flight responses.
    """

    connect: float | None = 10.0
    http: float | None = 30.0
    bind: float | None = 10.0
    response: float | None = 30.0
    pool: float | None = 60.0
    enquire_link: float = 30.0
    unbind: float | None = 5.0

    def __init__(
        self,
        default: float | None | _Unset = _UNSET,
        *,
        connect: float | None | _Unset = _UNSET,
        http: float | None | _Unset = _UNSET,
        bind: float | None | _Unset = _UNSET,
        response: float | None | _Unset = _UNSET,
        pool: float | None | _Unset = _UNSET,
        enquire_link: float = 30.0,
        unbind: float | None | _Unset = _UNSET,
    ) -> None:
        def pick(value: float | None | _Unset, fallback: float) -> float | None:
            if not isinstance(value, _Unset):
                return _opt_positive(value)
            if not isinstance(default, _Unset):
                return _opt_positive(default)
            return fallback

        if enquire_link <= 0:
            raise ValidationError("enquire_link must be a positive interval")
        if enquire_link >= 120:
            raise ValidationError("enquire_link must stay under the provider's 2-minute idle cut")
        self.__attrs_init__(
            connect=pick(connect, 10.0),
            http=pick(http, 30.0),
            bind=pick(bind, 10.0),
            response=pick(response, 30.0),
            pool=pick(pool, 60.0),
            enquire_link=float(enquire_link),
            unbind=pick(unbind, 5.0),
        )


def _in_range(low: int, high: int) -> attrs._ValidatorType[int]:
    return attrs.validators.and_(attrs.validators.ge(low), attrs.validators.le(high))


@attrs.frozen(kw_only=True)
class Limits:
    """Caps on concurrency and rate.

    :ivar max_concurrent_requests: HTTP requests in flight per client. The provider refuses 15
        or more at once per login (error 9), so the default stays well below.
    :ivar max_keepalive_connections: idle HTTP connections kept for reuse.
    :ivar connections: SMPP binds in a pool (1..9; more than 1 needs the ``MCONn`` flag, which
        the pool sets itself).
    :ivar window: SMPP requests in flight per bind (the provider suggests 1000-2000 for bulk).
    :ivar max_rate: SMPP messages per second over the whole pool (the provider's default limit
        is 30 per account); ``None`` for no client-side limit.
    """

    max_concurrent_requests: int = attrs.field(default=10, validator=_in_range(1, 14))
    max_keepalive_connections: int = attrs.field(default=10, validator=_in_range(0, 100))
    connections: int = attrs.field(default=1, validator=_in_range(1, 9))
    window: int = attrs.field(default=300, validator=_in_range(1, 100_000))
    max_rate: float | None = 30.0

    def __attrs_post_init__(self) -> None:
        if self.max_rate is not None and self.max_rate <= 0:
            raise ValidationError("max_rate must be positive or None")


@attrs.frozen(kw_only=True)
class Backoff:
    """Exponential backoff with jitter: the one formula behind :class:`RetryPolicy` (HTTP) and
    :class:`ReconnectPolicy` (SMPP binds).

    After ``n`` failures in a row the pause is ``initial * 2 ** (n - 1)``, capped at
    ``maximum``, less a random share of up to ``jitter`` of it (so clients do not retry in step).

    :ivar initial: the first pause, in seconds.
    :ivar maximum: the longest pause, in seconds.
    :ivar jitter: the random share (0..1) taken off each pause.
    """

    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.5

    def __attrs_post_init__(self) -> None:
        if self.initial < 0 or self.maximum < 0:
            raise ValidationError("backoff values must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValidationError("jitter must be between 0 and 1")

    def delay(self, failures: int, random_fraction: float) -> float:
        """The pause after ``failures`` (>= 1) failures in a row, given a random value in
        [0, 1)."""
        base = min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))
        return float(base * (1 - self.jitter * random_fraction))


@attrs.frozen(kw_only=True)
class RetryPolicy(Backoff):
    """How failed attempts are retried.

    Over HTTP only transport failures and empty answers are retried (as the provider's own
    libraries do), each on the next mirror host, with exponential backoff and jitter
    (:class:`Backoff`).

    :ivar attempts: total attempts, first one included (the official libraries make 5).
    :ivar initial: (argument ``backoff``) the first pause, in seconds; doubled each time up to
        ``maximum``.
    :ivar maximum: (argument ``max_backoff``) the longest pause.
    :ivar jitter: a random share (0..1) taken off each pause so clients do not retry in step.
    """

    attempts: int = attrs.field(default=5, validator=_in_range(1, 20))
    initial: float = attrs.field(default=0.5, alias="backoff")
    maximum: float = attrs.field(default=10.0, alias="max_backoff")

    @property
    def backoff(self) -> float:
        """The first pause (:attr:`initial`)."""
        return self.initial

    @property
    def max_backoff(self) -> float:
        """The longest pause (:attr:`maximum`)."""
        return self.maximum


@attrs.frozen(kw_only=True)
class ReconnectPolicy(Backoff):
    """How a dropped SMPP bind is re-established: exponential backoff with jitter
    (:class:`Backoff`: ``initial`` 0.5 s doubling up to ``maximum`` 30 s, ``jitter`` 0.5).

    :ivar refused: the shortest pause after the SMSC *refused* a bind (already bound, bind
        failed, bad credentials): retrying at once would only hammer it.
    """

    refused: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def delay(self, failures: int, random_fraction: float, *, refused: bool = False) -> float:
        """The pause before the next attempt after ``failures`` (>= 1) failures in a row."""
        pause = super().delay(failures, random_fraction)
        return max(pause, self.refused) if refused else pause


def check_read_ahead(value: int | None) -> int | None:
    """Check a ``read_ahead`` (options or one ``send_many`` call): ``send_many`` waits for room
    below it, so one under 1 would wait forever."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"read_ahead must be a positive int or None, got {value!r}")
    return value


def _read_ahead(instance: object, attribute: object, value: int | None) -> None:
    check_read_ahead(value)


def _positive_or_none(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValidationError(f"{attribute.name} must be at least 1 or None, got {value!r}")


@attrs.frozen(kw_only=True)
class ReconcilePolicy:
    """Resend messages left unanswered by a dropped bind, inside the provider's duplicate
    window, and read a duplicate refusal as "it went out the first time".

    **The assumption this rests on**: the SMSC refuses a ``submit_sm`` identical to one it
    accepted less than :attr:`window` seconds before, with ``command_status``
    :attr:`duplicate_status`, and uses that status for nothing else a resend could meet. The
    provider documents the refusal (one minute) but not its status: find it once on a test
    account (send one message twice within a minute and read the refusal's code) or ask
    support. The simulator answers ``ESME_RSUBMITFAIL`` (0x45) by default
    (``sim.behaviour.smpp.error_statuses[9]``), which it also gives for "no funds": a resend
    refused for that would be read as a duplicate.

    **The time limit**: a resend is written only while less than ``window - margin`` seconds
    have passed since the message was first taken for sending (which is before it was first
    written); one still waiting for a bind then ends with
    :class:`~smscenter.exceptions.UnknownOutcomeError`, as without the policy.

    A message refused as a duplicate ends *accepted*: a
    :class:`~smscenter.models.SendResult` with ``confirmed_by_duplicate=True`` whose
    ``message_id`` is None unless the refusal carried the id (or the first part was answered).
    A resend refused with any other status (throttling included, once ``throttle_retries`` is
    spent) ends :class:`~smscenter.exceptions.UnknownOutcomeError`: that refusal says nothing
    about the first write.

    :ivar duplicate_status: the ``command_status`` of the SMSC's duplicate refusal.
    :ivar window: the SMSC's duplicate window in seconds (the provider: one minute).
    :ivar margin: seconds kept in hand before the window closes (a slow reconnect, a rate-limit
        wait, clock differences).
    :ivar resends: how often one part may be resent after a bind dropped.
    """

    duplicate_status: int = attrs.field(validator=attrs.validators.gt(0))
    window: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    margin: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    resends: int = attrs.field(default=2, validator=attrs.validators.ge(1))

    def __attrs_post_init__(self) -> None:
        if self.margin >= self.window:
            raise ValueError("the margin must be shorter than the duplicate window")


@attrs.frozen(kw_only=True)
class SMPPOptions:
    """The SMPP client's rarely changed knobs, in one value (``SMPPPool(options=...)``,
    ``SMPPSession(options=...)``); derive variants with :func:`attrs.evolve`.

    :ivar throttle_pause: the most seconds a bind stops sending after a throttle answer: it
        pauses until the slowed-down rate allows its next part, if that is sooner (the pause
        doubles on repeated answers, up to 8 times this).
    :ivar throttle_retries: how often one part is resent after throttle answers before its
        message fails with :class:`~smscenter.exceptions.ThrottledError`.
    :ivar resend_unknown: what to do with messages written but unanswered when a bind dropped:
        ``False`` (default) ends them with :class:`~smscenter.exceptions.UnknownOutcomeError`;
        a :class:`~smscenter.ReconcilePolicy` resends them on another bind
        within the provider's one-minute duplicate window and reads a duplicate refusal as "it
        went out the first time" (:attr:`~smscenter.models.SendResult.confirmed_by_duplicate`);
        ``True`` resends them without that protection (they may be delivered twice).
    :ivar report_buffer: how many reports and incoming messages may wait for the consumer
        before the binds answer ``deliver_sm`` with "try later" (default: for a pool twice its
        total window, at least 1000: room for a window's worth of receipts arriving at once;
        for a lone session 1000).
    :ivar read_ahead: (pool) how many messages ``send_many`` keeps taken from its input but not
        yet finished (default: twice the pool's total window, at least 100).
    :ivar receipt_ids: (pool) how the SMSC writes the id in a receipt's *text* compared with
        ``submit_sm_resp`` (:class:`~smscenter.ids.ReceiptIdStyle` or its value): ``"same"``,
        ``"decimal-text"`` (hex ids written in decimal), ``"hex-text"`` (decimal ids written
        in hex), or ``"auto"`` (default: detected from receipts that also carry the
        ``receipted_message_id`` TLV and from the ids the pool was given; an id that cannot be
        matched is logged as a warning, never silently mismatched). Receipts with the TLV are
        read from the TLV whatever the option.
    :ivar on_late_answer: called with a :class:`~smscenter.smpp.LateAnswer` for
        each ``submit_sm_resp`` that arrives after its request timed out (the caller got
        ``UnknownOutcomeError``; this tells whether the SMSC accepted it after all, and with
        which id). Runs on a bind's reader: it must not block.
    """

    throttle_pause: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    throttle_retries: int = attrs.field(default=20, validator=attrs.validators.ge(0))
    resend_unknown: bool | ReconcilePolicy = False
    report_buffer: int | None = attrs.field(default=None, validator=_positive_or_none)
    read_ahead: int | None = attrs.field(default=None, validator=_read_ahead)
    receipt_ids: ReceiptIdStyle = attrs.field(default=ReceiptIdStyle.AUTO, converter=ReceiptIdStyle)
    on_late_answer: LateAnswerHandler | None = None
