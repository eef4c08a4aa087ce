"""Configuration values: credentials, timeouts, limits and the retry policy.

All are frozen attrs classes; derive variants with :func:`attrs.evolve`.
"""

from __future__ import annotations

import enum
import hashlib
import re
from typing import Literal

import attrs

from smscenter.exceptions import ValidationError

__all__ = ("Credentials", "Limits", "ReconnectPolicy", "RetryPolicy", "Timeouts")

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
class RetryPolicy:
    """How failed attempts are retried.

    Over HTTP only transport failures and empty answers are retried (as the provider's own
    libraries do), each on the next mirror host, with exponential backoff and jitter.

    :ivar attempts: total attempts, first one included (the official libraries make 5).
    :ivar backoff: the first pause, in seconds; doubled each time up to :attr:`max_backoff`.
    :ivar jitter: a random share (0..1) taken off each pause so clients do not retry in step.
    """

    attempts: int = attrs.field(default=5, validator=_in_range(1, 20))
    backoff: float = 0.5
    max_backoff: float = 10.0
    jitter: float = attrs.field(default=0.5)

    def __attrs_post_init__(self) -> None:
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValidationError("backoff values must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValidationError("jitter must be between 0 and 1")

    def delay(self, retry: int, random_fraction: float) -> float:
        """The pause before retry number ``retry`` (1-based), given a random value in [0, 1)."""
        base = min(self.max_backoff, self.backoff * 2.0 ** (retry - 1))
        return float(base * (1 - self.jitter * random_fraction))


@attrs.frozen(kw_only=True)
class ReconnectPolicy:
    """How a dropped bind is re-established: exponential backoff with jitter.

    :ivar initial: the first pause in seconds; doubled per failed attempt up to ``maximum``.
    :ivar maximum: the longest pause.
    :ivar jitter: the random share (0..1) taken off each pause, so binds do not retry in step.
    :ivar refused: the shortest pause after the SMSC *refused* a bind (already bound, bind
        failed, bad credentials): retrying at once would only hammer it.
    """

    initial: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    maximum: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.5, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    refused: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))

    def delay(self, failures: int, *, refused: bool, random_fraction: float) -> float:
        """The pause before the next attempt after ``failures`` (>= 1) failures in a row."""
        base = min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))
        pause = base * (1 - self.jitter * random_fraction)
        return max(pause, self.refused) if refused else pause
