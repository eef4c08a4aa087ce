"""Typed send.php options that only the HTTP API carries: :class:`SendOptions` and its parts.

A :class:`~smscenter.Message` takes them as ``options=SendOptions(...)``. Each value is checked
when it is built (ranges from https://smscentre.com/api/http/send/sms/ and the provider's
"Various" page for the captcha), the checks that depend on the message kind run when the
:class:`~smscenter.Message` is built, and :mod:`smscenter.http._options` maps them onto form
fields in one place. SMPP and SMTP have no way to carry any of them and refuse such a message
with :class:`~smscenter.exceptions.ValidationError` (a :class:`ValueError`) before anything is
sent.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Final

import attrs

from smscenter.exceptions import ValidationError

__all__ = ("CallSettings", "SendOptions", "Spread", "ViberButton")

_URL_RE: Final = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_CAPTCHA_RE: Final = re.compile(r"[0-9A-Za-z]{1,16}")

#: Parameters a typed field owns, with the field to use instead; ``extra`` refuses them.
OPTION_PARAMS: Final[dict[str, str]] = {
    "period": "options=SendOptions(spread=Spread(...))",
    "freq": "options=SendOptions(spread=Spread(...))",
    "smsreq": "options=SendOptions(reverify_days=...)",
    "fileurl": "options=SendOptions(file_url=...)",
    "imgcode": "options=SendOptions(captcha_code=..., user_ip=...)",
    "userip": "options=SendOptions(user_ip=...)",
    "err": "options=SendOptions(report_failed=True)",
    "pp": "options=SendOptions(partner_id=...)",
    "param": "options=SendOptions(call=CallSettings(...))",
    # ``tz`` only qualifies a wall-clock ``time``: an aware datetime goes out as an exact
    # instant (``time=0<unix time>``) and needs no zone.
    "tz": "send_at=<an aware datetime> (it is sent as an exact instant, so no tz is needed)",
}


def _check_url(name: str, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _URL_RE.fullmatch(value)):
        raise ValidationError(f"{name} must be an http:// or https:// URL, got {value!r}")


@attrs.frozen
class Spread:
    """Spread a mass send over time (send.php ``period`` and ``freq``).

    The recipients are sent in batches every ``every`` until ``period`` has passed; the batch
    size follows from the two.

    :param period: 6 minutes (0.1 hour) to 720 hours.
    :param every: whole minutes, 1 to 1440 (24 hours), and not longer than ``period``.
    """

    period: timedelta
    every: timedelta

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.period, timedelta) or not isinstance(self.every, timedelta):
            raise TypeError("Spread period and every must be timedelta values")
        if not timedelta(minutes=6) <= self.period <= timedelta(hours=720):
            raise ValidationError("Spread period must be 0.1 to 720 hours")
        if self.period.total_seconds() % 360:
            raise ValidationError("Spread period must be a multiple of 0.1 hour (6 minutes)")
        if not timedelta(minutes=1) <= self.every <= timedelta(minutes=1440):
            raise ValidationError("Spread every must be 1 to 1440 minutes")
        if self.every.total_seconds() % 60:
            raise ValidationError("Spread every must be whole minutes")
        if self.every > self.period:
            raise ValidationError("Spread every must not be longer than period")

    @property
    def period_hours(self) -> str:
        """``period`` as the provider writes it: hours with at most one decimal."""
        tenths = int(self.period.total_seconds() // 360)
        return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"

    @property
    def every_minutes(self) -> int:
        """``freq``: minutes between batches."""
        return int(self.every.total_seconds() // 60)


@attrs.frozen(kw_only=True)
class CallSettings:
    """How a voice call is placed (send.php ``param=<wait>,<interval>,<attempts>``).

    :param wait_seconds: how long to let it ring, 10 to 35 seconds.
    :param retry_seconds: the pause before calling again, 10 to 3600 seconds.
    :param attempts: how many times to call, 1 to 9.
    """

    wait_seconds: int = 25
    retry_seconds: int = 10
    attempts: int = 8

    def __attrs_post_init__(self) -> None:
        for name, low, high in (
            ("wait_seconds", 10, 35),
            ("retry_seconds", 10, 3600),
            ("attempts", 1, 9),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"CallSettings {name} must be {low}..{high}, got {value!r}")

    @property
    def wire(self) -> str:
        """The ``param`` value."""
        return f"{self.wait_seconds},{self.retry_seconds},{self.attempts}"


@attrs.frozen
class ViberButton:
    """A button under a Viber message: the ``{button,<url>,<text>}`` macro in its text.

    :param url: where the button leads (http(s)); no comma or ``}`` (they end the macro).
    :param text: the caption, at most 20 characters; no ``}``.
    """

    url: str
    text: str

    def __attrs_post_init__(self) -> None:
        _check_url("ViberButton url", self.url)
        if "," in self.url or "}" in self.url:
            raise ValidationError(
                "a ViberButton url cannot contain ',' or '}' (they end the macro)"
            )
        if not isinstance(self.text, str) or not 1 <= len(self.text) <= 20:
            raise ValidationError("a ViberButton text must be 1 to 20 characters")
        if "}" in self.text or "\n" in self.text:
            raise ValidationError("a ViberButton text cannot contain '}' or a line break")

    @property
    def macro(self) -> str:
        """The text macro the provider turns into the button."""
        return f"{{button,{self.url},{self.text}}}"


@attrs.frozen(kw_only=True)
class SendOptions:
    """send.php options that only the HTTP API can carry.

    :param spread: send a mass mailing in batches over a period (``period``, ``freq``).
    :param file_url: a file the provider fetches and attaches (``fileurl``): the picture of a
        Viber message, an MMS or e-mail attachment, the audio of a call.
    :param captcha_code: the code the end user typed from the captcha image (``imgcode``,
        see :meth:`HTTPClient.captcha_url`); needs ``user_ip``.
    :param user_ip: the end user's IP address (``userip``), for the account's per-IP limit.
    :param report_failed: ask the answer to list the numbers that were refused (``err=1``);
        they come back in :attr:`SendResult.recipients`.
    :param partner_id: the referral partner to register a new client with (``pp``).
    :param call: how a voice call is placed (``param``); :attr:`MessageKind.CALL` only.
    :param viber_button: a button under a :attr:`MessageKind.VIBER` message.
    :param reverify_days: for a chat-bot message, 10 to 999 days (``smsreq``).
    """

    spread: Spread | None = None
    file_url: str | None = None
    captcha_code: str | None = None
    user_ip: str | None = None
    report_failed: bool = False
    partner_id: int | None = None
    call: CallSettings | None = None
    viber_button: ViberButton | None = None
    reverify_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.spread is not None and not isinstance(self.spread, Spread):
            raise TypeError("spread must be a Spread")
        if self.call is not None and not isinstance(self.call, CallSettings):
            raise TypeError("call must be a CallSettings")
        if self.viber_button is not None and not isinstance(self.viber_button, ViberButton):
            raise TypeError("viber_button must be a ViberButton")
        _check_url("file_url", self.file_url)
        if self.captcha_code is not None:
            if not isinstance(self.captcha_code, str) or not _CAPTCHA_RE.fullmatch(
                self.captcha_code
            ):
                raise ValidationError("captcha_code must be the 1 to 16 letters or digits typed")
            if self.user_ip is None:
                raise ValidationError(
                    "captcha_code needs user_ip (the address the code was typed at)"
                )
        if self.user_ip is not None:
            try:
                ipaddress.ip_address(self.user_ip)
            except ValueError:
                raise ValidationError(
                    f"user_ip must be an IP address, got {self.user_ip!r}"
                ) from None
        if not isinstance(self.report_failed, bool):
            raise TypeError("report_failed must be a bool")
        if self.partner_id is not None and (
            isinstance(self.partner_id, bool)
            or not isinstance(self.partner_id, int)
            or self.partner_id < 1
        ):
            raise ValidationError(f"partner_id must be a positive int, got {self.partner_id!r}")
        days = self.reverify_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
            raise TypeError("reverify_days must be an int")
        if days is not None and not 10 <= days <= 999:
            raise ValidationError(f"reverify_days must be 10..999, got {days}")

    @property
    def names(self) -> tuple[str, ...]:
        """The options that are set (for error messages)."""
        return tuple(
            field.name
            for field in attrs.fields(SendOptions)
            if getattr(self, field.name) not in (None, False)
        )
