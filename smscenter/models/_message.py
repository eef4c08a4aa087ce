"""The outgoing message: :class:`Message` and its validation, and the values it carries
(:class:`SendWindow`, :class:`Attachment`).

A :class:`Message` is checked at construction, so invalid input raises
:class:`~smscenter.exceptions.ValidationError` (a :class:`ValueError`) before anything is sent.
The limits come from the provider's send.php document (https://smscentre.com/api/http/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Self

import attrs

from smscenter._fastinit import fast_init
from smscenter._provider import COMMENT_SEPARATOR
from smscenter.exceptions import ValidationError
from smscenter.models._kinds import MessageKind, Translit
from smscenter.models._values import Attachment, SendWindow
from smscenter.options import OPTION_PARAMS, SendOptions

__all__ = (
    "MAX_CLIENT_ID",
    "MAX_TEXT_LENGTH",
    "Message",
    "ScheduledTime",
)

# --- limits from the provider's documents ------------------------------------------------------

#: send.php accepts at most 1000 characters in ``mes``.
MAX_TEXT_LENGTH = 1000
#: A client message id: an int 1..2147483647, or a string of up to 40 ``[A-Za-z0-9.-_]``.
MAX_CLIENT_ID = 2_147_483_647
_CLIENT_ID_RE = re.compile(r"[A-Za-z0-9._\-]{1,40}")
_client_id_ok = _CLIENT_ID_RE.fullmatch
#: Phone numbers: international format, ``+`` optional; E.164 allows up to 15 digits.
_PHONE_RE = re.compile(r"\+?[0-9]{5,15}")
_PHONE_STRIP = str.maketrans("", "", " ()-.\t")
#: ``G<n>`` sends to a contact group (send.php ``phones``).
_GROUP_RE = re.compile(r"G[0-9]+")
_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
#: Telegram recipients may be ``@nickname`` or ``#id`` as well as phones.
_TELEGRAM_RE = re.compile(r"@[A-Za-z0-9_]{3,64}|#[0-9]{1,20}")
#: Alphanumeric sender: up to 11 Latin letters/digits/space/some symbols; numeric: up to 15 digits.
_SENDER_ALNUM_RE = re.compile(r"[A-Za-z0-9 .\-_!&'\"+@#$%*(),:;/?=]{1,11}")
_SENDER_NUMERIC_RE = re.compile(r"\+?[0-9]{1,15}")
_VOICE_RE = re.compile(r"(?:m|m2|m3|m4|w|w2|w3|w4)(?:,[a-z]{2})?")
_BOT_RE = re.compile(r"@[A-Za-z0-9_]{3,64}|wa:\+?[0-9]{5,15}")
_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})*")


# --- the outgoing message ---------------------------------------------------------------------

_KINDS_WITH_TEXT_OPTIONAL = frozenset({MessageKind.HLR, MessageKind.PING})
_KINDS_WITH_SUBJECT = frozenset({MessageKind.MMS, MessageKind.EMAIL})
_KINDS_WITH_ATTACHMENTS = frozenset(
    {MessageKind.MMS, MessageKind.EMAIL, MessageKind.VIBER, MessageKind.CALL}
)
_KINDS_WITH_MAX_PARTS = frozenset({MessageKind.SMS, MessageKind.FLASH})
_KINDS_WITH_TRANSLIT = frozenset({MessageKind.SMS, MessageKind.FLASH, MessageKind.WAP_PUSH})
_KINDS_WITH_TINYURL = frozenset(
    {MessageKind.SMS, MessageKind.FLASH, MessageKind.VIBER, MessageKind.SOCIAL, MessageKind.BOT}
)

ScheduledTime = datetime | timedelta | SendWindow
_SMS = MessageKind.SMS
_NO_TRANSLIT = Translit.NONE


def _to_recipients(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        if "," not in value and ";" not in value:
            # The common case, one recipient: skip the split (bulk senders build millions).
            value = value.strip()
            return (value,) if value else ()
        parts: list[Any] = re.split(r"[,;]", value)
    else:
        parts = list(value)
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"recipients must be strings, got {type(part).__name__}")
        part = part.strip()
        if part:
            out.append(part)
    return tuple(out)


def _to_extra(
    value: Mapping[str, object] | Iterable[tuple[str, object]] | None,
) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    out = []
    for key, val in items:
        if not isinstance(key, str) or not key:
            raise ValidationError(f"extra parameter names must be non-empty strings, got {key!r}")
        out.append((key, str(val)))
    return tuple(sorted(out))


def _to_attachments(value: Iterable[Attachment]) -> tuple[Attachment, ...]:
    out = tuple(value)
    for item in out:
        if not isinstance(item, Attachment):
            raise TypeError(f"attachments must be Attachment values, got {type(item).__name__}")
    return out


def _to_translit(value: Translit | int | bool) -> Translit:
    if value.__class__ is Translit:
        return value
    if isinstance(value, bool):
        return Translit.TRANSLIT if value else Translit.NONE
    return Translit(value)


def _is_phone(value: str) -> bool:
    """``_PHONE_RE.fullmatch(value)`` without the regex engine. ``str.isdecimal`` alone takes
    any Unicode digit (Arabic-Indic, fullwidth, Devanagari...): a phone is ASCII digits only."""
    digits = value[1:] if value[:1] == "+" else value
    return 5 <= len(digits) <= 15 and digits.isdecimal() and digits.isascii()


def _normalize_phone(raw: str) -> str | None:
    candidate = raw.translate(_PHONE_STRIP)
    return candidate if _PHONE_RE.fullmatch(candidate) else None


# Parameters the model owns: passing them through ``extra`` would bypass validation.
_RESERVED_EXTRA = frozenset(
    {
        "login", "psw", "apikey", "phones", "mes", "id", "sender", "translit", "time", "tz",
        "valid", "maxsms", "subj", "voice", "bot", "fmt", "charset", "list", "cost", "flash",
        "push", "hlr", "bin", "ping", "mms", "mail", "call", "viber", "soc", "tg", "tinyurl",
    }
) | frozenset(OPTION_PARAMS)  # fmt: skip


@fast_init
@attrs.frozen(kw_only=True)
class Message:
    """One message to send, to one or many recipients, over any transport.

    :param to: recipients: a phone (``"+79991234567"``, spaces/dashes/brackets allowed), a
        comma/semicolon separated list, or an iterable; ``G<n>`` for a contact group; e-mail
        addresses for :attr:`MessageKind.EMAIL`; ``@nick``/``#id`` also for Telegram.
    :param text: the text (at most 1000 characters). May be empty for HLR and ping.
    :param kind: the :class:`MessageKind`, SMS by default.
    :param sender: registered sender name (<= 11 Latin characters, or <= 15 digits); an e-mail
        address for e-mail. ``None`` uses the account's default sender.
    :param translit: transliterate Cyrillic (``True``/``False`` or a :class:`Translit`).
    :param send_at: schedule: an aware :class:`~datetime.datetime` (exact instant), a naive one
        (the account's own time zone), a :class:`~datetime.timedelta` from now (whole minutes),
        or a :class:`SendWindow` of hours. ``None`` sends now.
    :param validity: how long the operator keeps trying, 1 minute to 24 hours.
    :param client_id: your own id: an int 1..2147483647 or a string of up to 40
        ``[A-Za-z0-9._-]``. Used to find a message again, and by the HTTP client to avoid
        double sends on retry.
    :param comment: a note kept in the provider's history, never sent (the ``\\n~~~\\n`` suffix).
    :param max_parts: the most SMS parts a long text may take (longer text is cut to fit).
    :param subject: subject of an MMS or e-mail (required for e-mail).
    :param voice: voice for a call: ``m``, ``m2``..``m4``, ``w``..``w4``, optionally ``,en`` etc.
    :param bot: the chat bot for :attr:`MessageKind.BOT`: ``@name_bot`` or ``wa:<number>``.
    :param tinyurl: shorten links so clicks are tracked (status "link clicked").
    :param report: ask for a delivery report on the channel that sent the message (SMPP
        ``registered_delivery``); over HTTP reports go to the account's callback.
    :param attachments: files for MMS, e-mail, Viber or call (sent as multipart).
    :param options: HTTP-only send.php options, typed (:class:`~smscenter.options.SendOptions`:
        spreading a mailing, captcha, file URL, call settings, Viber button...). SMPP and SMTP
        refuse a message that has them.
    :param extra: further send.php parameters the model has no field for. Parameters it does
        have a field for are refused here, so they cannot bypass validation.
    :raises ~smscenter.exceptions.ValidationError: (a :class:`ValueError`) for any invalid
        field, with a message saying which and why.
    """

    to: tuple[str, ...] = attrs.field(converter=_to_recipients)
    text: str = ""
    kind: MessageKind = MessageKind.SMS
    sender: str | None = None
    translit: Translit = attrs.field(default=Translit.NONE, converter=_to_translit)
    send_at: ScheduledTime | None = None
    validity: timedelta | None = None
    client_id: int | str | None = None
    comment: str | None = None
    max_parts: int | None = None
    subject: str | None = None
    voice: str | None = None
    bot: str | None = None
    tinyurl: bool = False
    report: bool = True
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_to_attachments)
    options: SendOptions | None = None
    extra: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_extra)

    def __attrs_post_init__(self) -> None:
        to, text = self.to, self.text
        if (
            # The bulk sender's message, checked in one expression (no helper calls): a plain
            # SMS to one normalized phone with a text and nothing kind-specific. The checks
            # below would pass it too; anything else goes through them.
            self.kind is _SMS
            and type(text) is str
            and 0 < len(text) <= MAX_TEXT_LENGTH
            and "~~~" not in text
            and len(to) == 1
            # _is_phone(to[0]), inline (no slice for a number without "+")
            and (digits := to[0]).isascii()
            and (digits.isdecimal() or (digits[:1] == "+" and (digits := digits[1:]).isdecimal()))
            and 5 <= len(digits) <= 15
            and self.comment is None
            and self.send_at is None
            and self.validity is None
            and (
                (cid := self.client_id) is None
                # A store needs a client id on every message: the usual shapes stay on this path.
                or (type(cid) is str and _client_id_ok(cid) is not None)
                or (type(cid) is int and 1 <= cid <= MAX_CLIENT_ID)
            )
            and self.subject is None
            and self.voice is None
            and self.bot is None
            and self.max_parts is None
            and self.translit is _NO_TRANSLIT
            and not self.tinyurl
            and not self.attachments
            and self.options is None
            and not self.extra
        ):
            if self.sender is not None:
                self._check_sender()
            return
        self._check_all()

    def _check_all(self) -> None:
        if not isinstance(self.kind, MessageKind):
            raise TypeError(f"kind must be a MessageKind, got {self.kind!r}")
        if not isinstance(self.text, str):
            raise TypeError(f"text must be a str, got {type(self.text).__name__}")
        self._check_recipients()
        self._check_text()
        if self.sender is not None:
            self._check_sender()
        if self.send_at is not None or self.validity is not None:
            self._check_schedule()
        if self.client_id is not None:
            self._check_client_id()
        # Most messages are plain SMS with no kind-specific fields: skip the per-field checks.
        if (
            self.kind is not MessageKind.SMS
            or self.subject is not None
            or self.voice is not None
            or self.bot is not None
            or self.attachments
            or self.max_parts is not None
            or self.translit is not Translit.NONE
            or self.tinyurl
        ):
            self._check_kind_fields()
        if self.options is not None:
            self._check_options()
        if self.extra:
            self._check_extra()

    def _check_extra(self) -> None:
        bad = sorted(key for key, _ in self.extra if key in _RESERVED_EXTRA)
        typed = [key for key in bad if key in OPTION_PARAMS]
        if typed:
            raise ValidationError(
                "; ".join(f"extra parameter {key!r}: use {OPTION_PARAMS[key]}" for key in typed)
            )
        if bad:
            raise ValidationError(
                f"extra parameters {bad} have their own Message fields; set those instead"
            )

    def _check_options(self) -> None:
        options, kind = self.options, self.kind
        if not isinstance(options, SendOptions):
            raise TypeError(f"options must be a SendOptions, got {type(options).__name__}")

        def refuse(field: str) -> None:
            raise ValidationError(f"options.{field} is not allowed for a {kind.value} message")

        if options.call is not None and kind is not MessageKind.CALL:
            refuse("call")
        if options.viber_button is not None:
            if kind is not MessageKind.VIBER:
                refuse("viber_button")
            if len(self.full_text) + 1 + len(options.viber_button.macro) > MAX_TEXT_LENGTH:
                raise ValidationError(
                    f"text with the Viber button macro exceeds {MAX_TEXT_LENGTH} characters"
                )
        if options.reverify_days is not None and kind is not MessageKind.BOT:
            refuse("reverify_days")
        if options.file_url is not None and kind not in _KINDS_WITH_ATTACHMENTS:
            refuse("file_url")

    # -- validation helpers ------------------------------------------------------------------

    def _check_recipients(self) -> None:
        if not self.to:
            raise ValidationError("a message needs at least one recipient")
        if (
            len(self.to) == 1
            and self.kind is not MessageKind.EMAIL
            and _PHONE_RE.fullmatch(self.to[0])
        ):
            return  # already a normalized phone: the bulk fast path
        normalized: list[str] = []
        for recipient in self.to:
            if self.kind is MessageKind.EMAIL:
                if not _EMAIL_RE.fullmatch(recipient):
                    raise ValidationError(f"not an e-mail address: {recipient!r}")
                normalized.append(recipient)
                continue
            if _GROUP_RE.fullmatch(recipient):
                normalized.append(recipient)
                continue
            if self.kind is MessageKind.TELEGRAM and _TELEGRAM_RE.fullmatch(recipient):
                normalized.append(recipient)
                continue
            phone = _normalize_phone(recipient)
            if phone is None:
                raise ValidationError(
                    f"not a phone number: {recipient!r} (international format, 5 to 15 digits, "
                    "optional leading +)"
                )
            normalized.append(phone)
        # Compared as normalized, without the "+": "+79991234567" and "7 999 123-45-67" are one
        # phone, and listing it twice would send (and bill) two SMS to it.
        if len({r.removeprefix("+") for r in normalized}) != len(normalized):
            raise ValidationError("the same recipient is listed twice")
        object.__setattr__(self, "to", tuple(normalized))

    def _check_text(self) -> None:
        if not self.text and self.kind not in _KINDS_WITH_TEXT_OPTIONAL:
            raise ValidationError(f"a {self.kind.value} message needs a text")
        if "~~~" in self.text and COMMENT_SEPARATOR in self.text:
            raise ValidationError(
                "the text contains the comment separator '\\n~~~\\n'; use comment="
            )
        total = len(self.text) + (len(COMMENT_SEPARATOR) + len(self.comment) if self.comment else 0)
        if total > MAX_TEXT_LENGTH:
            raise ValidationError(
                f"text is {total} characters (with comment); the provider takes at most "
                f"{MAX_TEXT_LENGTH}"
            )
        if self.kind is MessageKind.TELEGRAM and not re.fullmatch(r"[0-9]{4,8}", self.text):
            raise ValidationError("a Telegram code must be 4 to 8 digits")
        if self.kind is MessageKind.BINARY_HEX and not _HEX_RE.fullmatch(self.text):
            raise ValidationError("binary_hex text must be an even number of hex digits")
        if self.kind is MessageKind.BINARY and max(self.text, default="\0") > "\xff":
            raise ValidationError(
                "a binary text holds one byte per character (U+0000..U+00FF); use "
                "Message.binary(to, data) for raw bytes"
            )
        if self.kind is MessageKind.WAP_PUSH and "\n" not in self.text:
            raise ValidationError("a WAP-push text is '<link>\\n<title>'")

    def _check_sender(self) -> None:
        if self.sender is None:
            return
        if self.kind is MessageKind.EMAIL:
            if not _EMAIL_RE.fullmatch(self.sender):
                raise ValidationError(f"an e-mail sender must be an address, got {self.sender!r}")
            return
        if self.sender in ("", "."):
            return  # the provider's way of asking for no default sender
        if _SENDER_NUMERIC_RE.fullmatch(self.sender):
            return
        if len(self.sender) > 11:
            raise ValidationError(
                f"sender {self.sender!r} is {len(self.sender)} characters; an alphanumeric "
                "sender takes at most 11 (a numeric one at most 15 digits)"
            )
        if not _SENDER_ALNUM_RE.fullmatch(self.sender):
            raise ValidationError(
                f"sender {self.sender!r} must use Latin letters, digits and spaces"
            )

    def _check_schedule(self) -> None:
        when = self.send_at
        if when is not None and not isinstance(when, datetime | timedelta | SendWindow):
            raise TypeError("send_at must be a datetime, a timedelta or a SendWindow")
        if isinstance(when, timedelta) and (
            when < timedelta(0) or when.total_seconds() % 60 or when > timedelta(days=366)
        ):
            raise ValidationError("a relative send_at must be whole minutes, 0 to 366 days")
        if self.validity is not None:
            if not isinstance(self.validity, timedelta):
                raise TypeError("validity must be a timedelta")
            if not timedelta(minutes=1) <= self.validity <= timedelta(hours=24) or (
                self.validity.total_seconds() % 60
            ):
                raise ValidationError("validity must be whole minutes from 1 minute to 24 hours")

    def _check_client_id(self) -> None:
        cid = self.client_id
        if cid is None:
            return
        if isinstance(cid, bool) or not isinstance(cid, int | str):
            raise TypeError("client_id must be an int or a str")
        if isinstance(cid, int) and not 1 <= cid <= MAX_CLIENT_ID:
            raise ValidationError(f"client_id must be 1..{MAX_CLIENT_ID}, got {cid}")
        if isinstance(cid, str) and not _CLIENT_ID_RE.fullmatch(cid):
            raise ValidationError(
                "a string client_id is 1 to 40 characters of letters, digits, '.', '-' and '_'"
            )

    def _check_kind_fields(self) -> None:
        kind = self.kind

        def refuse(field: str) -> None:
            raise ValidationError(f"{field} is not allowed for a {kind.value} message")

        if self.subject is not None and kind not in _KINDS_WITH_SUBJECT:
            refuse("subject")
        if kind is MessageKind.EMAIL and not self.subject:
            raise ValidationError("an e-mail message needs a subject")
        if kind is MessageKind.EMAIL and not self.sender:
            raise ValidationError("an e-mail message needs a sender address")
        if self.voice is not None:
            if kind is not MessageKind.CALL:
                refuse("voice")
            if not _VOICE_RE.fullmatch(self.voice):
                raise ValidationError(
                    f"voice must be m, m2-m4, w or w2-w4 (optionally ',en'), got {self.voice!r}"
                )
        if kind is MessageKind.BOT:
            if not self.bot or not _BOT_RE.fullmatch(self.bot):
                raise ValidationError("a bot message needs bot='@name_bot' or bot='wa:<number>'")
        elif self.bot is not None:
            refuse("bot")
        if self.attachments and kind not in _KINDS_WITH_ATTACHMENTS:
            refuse("attachments")
        if self.max_parts is not None:
            if kind not in _KINDS_WITH_MAX_PARTS:
                refuse("max_parts")
            if isinstance(self.max_parts, bool) or not 1 <= self.max_parts <= 255:
                raise ValidationError("max_parts must be 1..255")
        if self.translit is not Translit.NONE and kind not in _KINDS_WITH_TRANSLIT:
            refuse("translit")
        if self.tinyurl and kind not in _KINDS_WITH_TINYURL:
            refuse("tinyurl")

    # -- derived -----------------------------------------------------------------------------

    @property
    def full_text(self) -> str:
        """The text as the provider receives it: with the ``\\n~~~\\n<comment>`` suffix."""
        if self.comment:
            return f"{self.text}{COMMENT_SEPARATOR}{self.comment}"
        return self.text

    def for_recipient(self, recipient: str, text: str | None = None) -> Self:
        """A copy addressed to one recipient (and optionally with its own text)."""
        changes: dict[str, Any] = {"to": recipient}
        if text is not None:
            changes["text"] = text
        return attrs.evolve(self, **changes)

    @classmethod
    def binary(cls, to: str | Iterable[str], data: bytes, **options: Any) -> Message:
        """A binary SMS carrying raw bytes (sent hex-encoded)."""
        return cls(to=to, text=data.hex().upper(), kind=MessageKind.BINARY_HEX, **options)
