"""One HTTP API call as a value, and the encoding of model values into the provider's form fields.

:class:`Request` is what every builder returns and what :class:`~smscenter.http.HTTPClient` sends;
the ``encode_*`` functions write times, dates and message options the way send.php expects
(https://smscentre.com/api/http/: send.php ``time``, ``valid``, format flags; the provider's
official client libraries for the ``DDMMYYhhmm``, ``h1-h2``, ``0ts`` and ``+m`` forms).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Final

import attrs

from smscenter._provider import COMMENT_SEPARATOR
from smscenter.http._options import option_params, with_viber_button
from smscenter.models import (
    Attachment,
    Message,
    MessageKind,
    SendWindow,
    Translit,
)

#: Sent with every request: JSON answers, UTF-8 in and out (the provider's default is cp1251).
COMMON_PARAMS: Final[tuple[tuple[str, str], ...]] = (("fmt", "3"), ("charset", "utf-8"))

#: Params whose value is a secret besides the credentials: a sub-client's password (users.php).
SECRET_PARAMS: Final = frozenset({"pswc"})


@attrs.frozen(kw_only=True, repr=False)
class Request:
    """One API call, ready to send.

    :ivar command: the script name: ``send`` for ``/sys/send.php``.
    :ivar action: what the call does (``send``, ``cost``, ``status``, ``get_messages``...):
        the ``endpoint`` an :class:`~smscenter.exceptions.APIError` reports.
    :ivar params: form fields, without credentials and without ``fmt``/``charset``.
    :ivar files: attachments; when present the body is multipart.
    :ivar acts: the call acts (creates a mailing, sends a notification, rents a number, creates
        or pays a sub-client): once an attempt may have reached the provider it is not repeated,
        since a repeat could act twice.
    """

    command: str
    action: str
    params: tuple[tuple[str, str], ...] = ()
    files: tuple[Attachment, ...] = ()
    acts: bool = False

    @property
    def path(self) -> str:
        """The URL path on the provider's host."""
        return f"/sys/{self.command}.php"

    def form(self, auth: Mapping[str, str]) -> list[tuple[str, str]]:
        """The whole form body: credentials, ``fmt=3``, ``charset=utf-8`` and the params."""
        return [*auth.items(), *COMMON_PARAMS, *self.params]

    def get(self, name: str) -> str | None:
        """The value of one param, if present."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def secrets(self) -> tuple[str, ...]:
        """The secret values among the params (masked in errors like the credentials)."""
        return tuple(value for key, value in self.params if key in SECRET_PARAMS and value)

    def __repr__(self) -> str:
        params = tuple((k, "***" if k in SECRET_PARAMS else v) for k, v in self.params)
        return (
            f"Request(command={self.command!r}, action={self.action!r}, params={params!r}, "
            f"files={self.files!r})"
        )


# --- value encoding -----------------------------------------------------------------------------

_KIND_FLAGS: Final[dict[MessageKind, tuple[str, str]]] = {
    # The provider's official libraries' format numbers 1..13 map to these flags.
    MessageKind.FLASH: ("flash", "1"),
    MessageKind.WAP_PUSH: ("push", "1"),
    MessageKind.HLR: ("hlr", "1"),
    # Both binary kinds go as hex (``bin=2``): with ``bin=1`` the form would carry the bytes as
    # text, and a form encoded as UTF-8 turns each byte >= 0x80 into two (0xFF as %C3%BF).
    MessageKind.BINARY: ("bin", "2"),
    MessageKind.BINARY_HEX: ("bin", "2"),
    MessageKind.PING: ("ping", "1"),
    MessageKind.MMS: ("mms", "1"),
    MessageKind.EMAIL: ("mail", "1"),
    MessageKind.CALL: ("call", "1"),
    MessageKind.VIBER: ("viber", "1"),
    MessageKind.SOCIAL: ("soc", "1"),
    MessageKind.TELEGRAM: ("tg", "1"),
    # SMS and BOT need no flag: a bot message is a plain send with ``bot=``.
}


def encode_time(when: datetime | timedelta | SendWindow) -> str:
    """The send.php ``time`` value (the official libraries: ``DDMMYYhhmm, h1-h2, 0ts, +m``).

    An aware datetime is an exact instant: ``0<unix timestamp>``. A naive one is wall time in the
    account's own zone: ``DDMMYYhhmm``. A timedelta is ``+<minutes>`` from now; a
    :class:`SendWindow` is ``h1-h2``.
    """
    if isinstance(when, SendWindow):
        return f"{when.start_hour}-{when.end_hour}"
    if isinstance(when, timedelta):
        return f"+{int(when.total_seconds() // 60)}"
    if when.tzinfo is not None and when.utcoffset() is not None:
        return f"0{int(when.timestamp())}"
    return when.strftime("%d%m%y%H%M")


def encode_validity(validity: timedelta) -> str:
    """The send.php ``valid`` value as ``hh:mm`` (``00:01`` .. ``24:00``)."""
    minutes = int(validity.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def encode_date(value: date) -> str:
    """A ``dd.mm.yyyy`` date (get.php ``start``/``end``)."""
    return value.strftime("%d.%m.%Y")


def wire_text(message: Message) -> str:
    """The ``mes`` value: the text (with a Viber button's macro) and its comment suffix; binary
    payloads as hex digits.

    A :attr:`MessageKind.BINARY` text holds one byte per character (U+0000..U+00FF, checked
    when the message is built); it is sent byte for byte as the hex form of ``bin=2``
    (https://smscentre.com/api/http/send/sms/).
    """
    if message.kind is MessageKind.BINARY:
        body = message.text.encode("latin-1").hex().upper()
    else:
        body = with_viber_button(message.text, message.options)
    return f"{body}{COMMENT_SEPARATOR}{message.comment}" if message.comment else body


def message_options(message: Message) -> list[tuple[str, str]]:
    """Everything in a send except recipients and text: kind flag, sender, schedule..."""
    params: list[tuple[str, str]] = []
    flag = _KIND_FLAGS.get(message.kind)
    if flag is not None:
        params.append(flag)
    if message.sender is not None:
        params.append(("sender", message.sender))
    if message.translit is not Translit.NONE:
        params.append(("translit", str(int(message.translit))))
    if message.send_at is not None:
        params.append(("time", encode_time(message.send_at)))
    if message.validity is not None:
        params.append(("valid", encode_validity(message.validity)))
    if message.client_id is not None:
        params.append(("id", str(message.client_id)))
    if message.max_parts is not None:
        params.append(("maxsms", str(message.max_parts)))
    if message.subject is not None:
        params.append(("subj", message.subject))
    if message.voice is not None:
        params.append(("voice", message.voice))
    if message.bot is not None:
        params.append(("bot", message.bot))
    if message.tinyurl:
        params.append(("tinyurl", "1"))
    params.extend(option_params(message.options))
    params.extend(message.extra)
    return params


def _opt(params: list[tuple[str, str]], name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        params.append((name, "1" if value else "0"))
    elif isinstance(value, date):
        params.append((name, encode_date(value)))
    elif isinstance(value, str):
        params.append((name, value))
    elif isinstance(value, Iterable):
        params.append((name, ",".join(str(v) for v in value)))
    else:
        params.append((name, str(value)))
