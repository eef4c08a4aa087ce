"""From a :class:`~smscenter.models.Message` to ``submit_sm`` PDUs (pure: no I/O, no clock).

:func:`build_submit_sm` is the one place a ``Message`` becomes ``submit_sm``: the provider's
special texts (smscentre.com/api/smpp: ``__MAIL__``, ``__CALL__``, ``__VIBER__``, ``__SOC__``,
``__TGM__``, ``__BOT__``, ``__HLR__``, ``__PING__``), the comment suffix, the choice of encoding,
segmentation with a concatenation UDH, addressing, receipts, validity and scheduling. Kinds SMPP
cannot carry raise :class:`ValueError` before anything is sent.

:class:`SystemType` parses and renders the bind's ``system_type`` flags (smscentre.com/api/smpp:
``MCON1`` .. ``MCON9``, ``ISO``, ``SINGLE``, comma-separated).
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta, tzinfo

import attrs

from smscenter._provider import COMMENT_SEPARATOR
from smscenter._provider import MOSCOW as PROVIDER_TZ
from smscenter.exceptions import ValidationError
from smscenter.models import Message, MessageKind, SendWindow, Translit
from smscenter.smpp.constants import NPI, TON
from smscenter.smpp.pdu import SubmitSm
from smscenter.smpp.text import (
    TextEncoding,
    choose_encoding,
    concat_udh,
    split_encoded,
    split_text,
    truncate_to_parts,
)

__all__ = (
    "ProviderText",
    "SubmitOptions",
    "SystemType",
    "absolute_time",
    "build_submit_sm",
    "parse_provider_text",
    "provider_text",
    "relative_time",
)

# SMPP 3.4 §5.2.4: system_type is a C-octet string of at most 13 octets, NUL included.
_SYSTEM_TYPE_MAX = 12
# SMPP 3.4 §5.2.8/§5.2.9: source_addr / destination_addr in submit_sm, 21 octets with the NUL.
_ADDRESS_MAX = 20
_MCON_RE = re.compile(r"MCON(\d)", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\+?[0-9]{1,20}")

# esm_class (SMPP 3.4 §5.2.12): 0x40 = short_message starts with a UDH.
_ESM_UDHI = 0x40
# data_coding (TS 23.038 §4, general group): 0x10 says bits 0-1 are a message class, and class 0
# is the "flash" SMS shown immediately and not stored. The alphabet bits 2-3 stay the provider's
# ``coding * 4``, so a flash GSM text is 0x10, flash Latin-1 0x14, flash UCS-2 0x18.
_DC_CLASS0 = 0x10
# The provider's 8-bit coding (smscentre.com/api/smpp: coding 1 "for Latin text or binary data").
_DC_BINARY = 0x04


@attrs.frozen(kw_only=True)
class SystemType:
    """The bind's ``system_type``, as the provider reads it (smscentre.com/api/smpp).

    :ivar connections: ``MCONn``: allow ``n`` (1..9) simultaneous binds with this login; without
        it a new bind closes the previous one.
    :ivar iso: ``ISO``: text without a national alphabet goes as ISO-8859-1 (data_coding 4)
        instead of GSM 03.38.
    :ivar single: ``SINGLE``: a receipt and a distinct message id for every part of a long
        message, instead of one for the glued message.
    :ivar other: any other comma-separated tokens, kept as written.
    :raises ValueError: ``connections`` outside 1..9, or the rendered value longer than the 12
        characters SMPP 3.4 §5.2.4 allows.
    """

    connections: int | None = None
    iso: bool = False
    single: bool = False
    other: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.connections is not None and (
            isinstance(self.connections, bool) or not 1 <= self.connections <= 9
        ):
            raise ValidationError(f"MCON takes 1..9 connections, got {self.connections!r}")
        for token in self.other:
            if not token or "," in token:
                raise ValidationError(f"system_type token {token!r} must be non-empty, without ','")
        rendered = self.render()
        if len(rendered) > _SYSTEM_TYPE_MAX:
            raise ValidationError(
                f"system_type {rendered!r} is {len(rendered)} characters; SMPP allows at most "
                f"{_SYSTEM_TYPE_MAX}"
            )

    @classmethod
    def parse(cls, value: str) -> SystemType:
        """Read a ``system_type`` such as ``"ISO,SINGLE"`` or ``"mcon2"`` (case-insensitive).

        Unknown tokens are kept in :attr:`other`; ``MCON`` with a number outside 1..9 is kept
        there too rather than refused.
        """
        connections = None
        iso = single = False
        other: list[str] = []
        for raw in value.split(","):
            token = raw.strip()
            if not token:
                continue
            upper = token.upper()
            mcon = _MCON_RE.fullmatch(token)
            if mcon and mcon[1] != "0":
                connections = int(mcon[1])
            elif upper == "ISO":
                iso = True
            elif upper == "SINGLE":
                single = True
            else:
                other.append(token)
        return cls(connections=connections, iso=iso, single=single, other=tuple(other))

    def render(self) -> str:
        """The value for the bind PDU: ``MCONn``, ``ISO``, ``SINGLE``, then the rest, by commas."""
        tokens: list[str] = []
        if self.connections is not None:
            tokens.append(f"MCON{self.connections}")
        if self.iso:
            tokens.append("ISO")
        if self.single:
            tokens.append("SINGLE")
        tokens.extend(self.other)
        return ",".join(tokens)

    def __str__(self) -> str:
        return self.render()


@attrs.frozen(kw_only=True)
class SubmitOptions:
    """How :func:`build_submit_sm` fills the fields a :class:`~smscenter.models.Message` leaves
    open.

    :ivar iso: the bind says ``ISO`` (:attr:`SystemType.iso`): Latin-1 instead of GSM.
    :ivar source_ton: / :ivar source_npi: override the automatic choice (alphanumeric sender:
        TON 5 / NPI 0; digits: TON 1 / NPI 1; no sender: 0 / 0, the account's default).
    :ivar dest_ton: / :ivar dest_npi: for phone recipients (smscentre.com/api/smpp's sample: 1 / 1).
    :ivar service_type: ``service_type`` of every PDU (empty: SMSC default).
    :ivar priority: ``priority_flag`` 0..3.
    :ivar local_tz: the zone of a naive :attr:`Message.send_at` (the account's time zone; the
        provider's default is Moscow, UTC+3).
    :ivar binary_has_udh: binary payloads already start with a UDH (port addressing, WAP): sent
        with UDHI set, never split.
    """

    iso: bool = False
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int = TON.INTERNATIONAL
    dest_npi: int = NPI.ISDN
    service_type: str = ""
    priority: int = attrs.field(
        default=0, validator=[attrs.validators.ge(0), attrs.validators.le(3)]
    )
    local_tz: tzinfo = PROVIDER_TZ
    binary_has_udh: bool = False


DEFAULT_OPTIONS = SubmitOptions()

_REFUSED_KINDS = {
    MessageKind.MMS: "MMS cannot be sent over SMPP (the provider's SMPP interface has no MMS); "
    "send it over HTTP",
    MessageKind.WAP_PUSH: "WAP-push cannot be sent over SMPP (the provider documents no way to); "
    "send it over HTTP",
}
_NO_COMMENT_KINDS = frozenset(
    {MessageKind.HLR, MessageKind.PING, MessageKind.BINARY, MessageKind.BINARY_HEX}
)
_BINARY_KINDS = frozenset({MessageKind.BINARY, MessageKind.BINARY_HEX})


def provider_text(message: Message, *, text: str | None = None) -> str:
    """The ``short_message`` text the provider expects for ``message`` (smscentre.com/api/smpp).

    ``__MAIL__: <text>\\nsubj:<subject>``, ``__CALL__: <text>\\nvoice:<voice>``,
    ``__VIBER__: <text>``, ``__SOC__: <text>``, ``__TGM__: <code>``,
    ``__BOT__: <text>\\nbot:<bot>``, ``__HLR__``, ``__PING__``; plain text for SMS and flash. The
    comment follows as ``\\n~~~\\n<comment>`` (for a call this is where its parameters go).

    :param text: use this instead of :attr:`Message.text` (e.g. after cutting to max_parts).
    :raises ValueError: for kinds that have no text form over SMPP.
    """
    body = message.text if text is None else text
    kind = message.kind
    if kind in _REFUSED_KINDS:
        raise ValidationError(_REFUSED_KINDS[kind])
    if kind is MessageKind.HLR:
        wire = "__HLR__"
    elif kind is MessageKind.PING:
        wire = "__PING__"
    elif kind is MessageKind.EMAIL:
        wire = f"__MAIL__: {body}\nsubj:{message.subject or ''}"
    elif kind is MessageKind.CALL:
        wire = f"__CALL__: {body}" + (f"\nvoice:{message.voice}" if message.voice else "")
    elif kind is MessageKind.VIBER:
        wire = f"__VIBER__: {body}"
    elif kind is MessageKind.SOCIAL:
        wire = f"__SOC__: {body}"
    elif kind is MessageKind.TELEGRAM:
        wire = f"__TGM__: {body}"
    elif kind is MessageKind.BOT:
        wire = f"__BOT__: {body}\nbot:{message.bot}"
    else:
        wire = body
    if message.comment:
        wire += COMMENT_SEPARATOR + message.comment
    return wire


@attrs.frozen(kw_only=True)
class ProviderText:
    """A ``short_message`` text read the way the provider reads it (the inverse of
    :func:`provider_text`; the SMSC side of the simulator uses it).

    :ivar kind: :attr:`MessageKind.SMS` for plain text, else the special text's kind.
    :ivar text: the message text without prefix, subject/voice/bot line or comment.
    :ivar subject: ``subj:`` of ``__MAIL__``; :ivar voice: ``voice:`` of ``__CALL__``;
        :ivar bot: ``bot:`` of ``__BOT__``.
    :ivar comment: what followed ``\n~~~\n``, if anything.
    """

    kind: MessageKind
    text: str
    subject: str | None = None
    voice: str | None = None
    bot: str | None = None
    comment: str | None = None


_PREFIXES = (
    ("__MAIL__: ", MessageKind.EMAIL, "\nsubj:"),
    ("__CALL__: ", MessageKind.CALL, "\nvoice:"),
    ("__VIBER__: ", MessageKind.VIBER, None),
    ("__SOC__: ", MessageKind.SOCIAL, None),
    ("__TGM__: ", MessageKind.TELEGRAM, None),
    ("__BOT__: ", MessageKind.BOT, "\nbot:"),
)


def parse_provider_text(wire: str) -> ProviderText:
    """Split a ``short_message`` text into kind, text, extra line and comment
    (smscentre.com/api/smpp).

    Anything without a known prefix is a plain SMS text; this never raises.
    """
    comment = None
    body, sep, rest = wire.partition(COMMENT_SEPARATOR)
    if sep:
        comment = rest
    if body == "__HLR__":
        return ProviderText(kind=MessageKind.HLR, text="", comment=comment)
    if body == "__PING__":
        return ProviderText(kind=MessageKind.PING, text="", comment=comment)
    for prefix, kind, line in _PREFIXES:
        if body.startswith(prefix):
            text = body[len(prefix) :]
            extra = None
            if line is not None:
                text, found, value = text.rpartition(line)
                if found:
                    extra = value
                else:
                    text = value  # no extra line: rpartition put everything in the tail
            return ProviderText(
                kind=kind,
                text=text,
                subject=extra if kind is MessageKind.EMAIL else None,
                voice=extra if kind is MessageKind.CALL else None,
                bot=extra if kind is MessageKind.BOT else None,
                comment=comment,
            )
    return ProviderText(kind=MessageKind.SMS, text=body, comment=comment)


# --- SMPP times (SMPP 3.4 §7.1.1) -----------------------------------------------------------------


def absolute_time(when: datetime, *, local_tz: tzinfo = PROVIDER_TZ) -> str:
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


def _schedule(message: Message, options: SubmitOptions) -> str:
    when = message.send_at
    if when is None:
        return ""
    if isinstance(when, SendWindow):
        raise ValidationError(
            "a SendWindow (send only between given hours) cannot be expressed in SMPP; give an "
            "exact send_at or send over HTTP"
        )
    if isinstance(when, timedelta):
        return relative_time(when)
    return absolute_time(when, local_tz=options.local_tz)


# --- addressing -----------------------------------------------------------------------------------


def _source(message: Message, options: SubmitOptions) -> tuple[str, int, int]:
    sender = message.sender or ""
    if sender == ".":
        sender = ""  # the HTTP API's "no default sender": over SMPP simply none
    if not sender:
        ton, npi = TON.UNKNOWN, NPI.UNKNOWN
    elif _DIGITS_RE.fullmatch(sender):
        sender = sender.lstrip("+")
        ton, npi = TON.INTERNATIONAL, NPI.ISDN
    else:
        ton, npi = TON.ALPHANUMERIC, NPI.UNKNOWN
    if len(sender) > _ADDRESS_MAX:
        raise ValidationError(
            f"sender {sender!r} is {len(sender)} characters; SMPP source_addr holds at most "
            f"{_ADDRESS_MAX}"
        )
    return (
        sender,
        ton if options.source_ton is None else options.source_ton,
        npi if options.source_npi is None else options.source_npi,
    )


def _destination(recipient: str, options: SubmitOptions) -> tuple[str, int, int]:
    if recipient.startswith("G") and recipient[1:].isdigit():
        raise ValidationError(
            f"{recipient!r} is a contact group; SMPP sends to one address at a time (use HTTP)"
        )
    if len(recipient.lstrip("+")) > _ADDRESS_MAX:
        raise ValidationError(
            f"recipient {recipient!r} is longer than the {_ADDRESS_MAX} characters SMPP "
            "destination_addr holds"
        )
    if _DIGITS_RE.fullmatch(recipient):
        return recipient.lstrip("+"), options.dest_ton, options.dest_npi
    # e-mail addresses, Telegram @nick / #id: not numbers
    return recipient, TON.ALPHANUMERIC, NPI.UNKNOWN


def _refuse_unsupported(message: Message) -> None:
    if message.kind in _REFUSED_KINDS:
        raise ValidationError(_REFUSED_KINDS[message.kind])
    if message.attachments:
        raise ValidationError("attachments cannot be sent over SMPP; send this message over HTTP")
    if message.translit is not Translit.NONE:
        raise ValidationError("translit is an HTTP API option; SMPP has no way to ask for it")
    if message.tinyurl:
        raise ValidationError("tinyurl is an HTTP API option; SMPP has no way to ask for it")
    if message.extra:
        names = ", ".join(key for key, _ in message.extra)
        raise ValidationError(f"extra HTTP parameters ({names}) cannot travel over SMPP")
    if message.options is not None:
        names = ", ".join(message.options.names) or "options"
        raise ValidationError(
            f"HTTP-only options ({names}) cannot travel over SMPP; use HTTPClient"
        )
    if message.comment and message.kind in _NO_COMMENT_KINDS:
        raise ValidationError(f"a {message.kind.value} message cannot carry a comment over SMPP")


# --- the constructor ------------------------------------------------------------------------------


# The pool builds one message's parts for each of its recipients in turn: remember the last
# recipient list as a set, so a 10,000-recipient message is not scanned 10,000 times.
_recipient_set: list[tuple[tuple[str, ...], frozenset[str]]] = [((), frozenset())]


def _is_recipient(to: tuple[str, ...], recipient: str) -> bool:
    if len(to) < 16:
        return recipient in to
    cached_to, members = _recipient_set[0]
    if cached_to is not to:
        members = frozenset(to)
        _recipient_set[0] = (to, members)
    return recipient in members


def build_submit_sm(
    message: Message,
    recipient: str | None = None,
    *,
    options: SubmitOptions = DEFAULT_OPTIONS,
    reference: int | None = None,
) -> tuple[SubmitSm, ...]:
    """The ``submit_sm`` PDUs that send ``message`` to one recipient: one, or one per part.

    - Text kinds are encoded in GSM 03.38 when every character fits, else UCS-2; Latin-1
      replaces GSM when ``options.iso`` is set. Beyond one SMS the text is split into parts of
      153/67/134 units, each starting with a concatenation UDH (8-bit ``reference``) and sent
      with UDHI set in ``esm_class``; a GSM escape pair or a UTF-16 surrogate pair is never cut.
    - :attr:`Message.max_parts` cuts the text (not the comment) to fit, as the provider's
      ``maxsms`` does, rather than refusing it.
    - Flash messages use message class 0 (``data_coding`` 0x10 | coding * 4).
    - Binary messages (:attr:`MessageKind.BINARY`: the text's characters are the bytes;
      :attr:`MessageKind.BINARY_HEX`: the text is hex) go as ``data_coding`` 4 with raw bytes.
    - ``registered_delivery`` is 1 (receipt on success or failure) when :attr:`Message.report`
      is set, else 0.
    - :attr:`Message.validity` becomes a relative ``validity_period``;
      :attr:`Message.send_at` a relative or absolute ``schedule_delivery_time``.
    - :attr:`Message.client_id` has no SMPP field; keep it on your side.

    The PDUs have sequence number 0: the connection assigns them.

    :param recipient: one of :attr:`Message.to`; may be omitted when there is only one.
    :param options: addressing, ISO mode and the other choices the message does not make.
    :param reference: the concatenation reference for a multi-part message; pass a counter
        per destination so two long messages in flight never share one. Without it a
        reference is derived from the recipient and the text.
    :raises ValueError: for anything SMPP cannot carry (MMS, WAP-push, attachments, translit,
        tinyurl, extra HTTP parameters, a contact group, a SendWindow, an address too long for
        SMPP, a recipient not in the message), before anything is sent.
    """
    _refuse_unsupported(message)
    if recipient is None:
        if len(message.to) != 1:
            raise ValidationError(
                f"the message has {len(message.to)} recipients; say which one this PDU is for"
            )
        recipient = message.to[0]
    elif not _is_recipient(message.to, recipient):
        normalized = message.for_recipient(recipient).to[0]
        if not _is_recipient(message.to, normalized):
            raise ValidationError(f"{recipient!r} is not one of the message's recipients")
        recipient = normalized

    dest, dest_ton, dest_npi = _destination(recipient, options)
    source, source_ton, source_npi = _source(message, options)
    esm_class = 0
    if message.kind in _BINARY_KINDS:
        data = _binary_payload(message)
        data_coding = _DC_BINARY
        if options.binary_has_udh:
            if len(data) > 140:
                raise ValidationError("a binary message with its own UDH must fit 140 octets")
            payloads: tuple[bytes, ...] = (data,)
            esm_class = _ESM_UDHI
        else:
            payloads = split_encoded(data, TextEncoding.LATIN1)
    else:
        text = message.text
        if message.max_parts is not None:
            text = truncate_to_parts(
                text, choose_encoding(text, iso=options.iso), message.max_parts
            )
        wire = provider_text(message, text=text)
        encoding = choose_encoding(wire, iso=options.iso)
        payloads = split_text(wire, encoding)
        data_coding = encoding.data_coding
        if message.kind is MessageKind.FLASH:
            data_coding |= _DC_CLASS0

    first = SubmitSm(
        service_type=options.service_type,
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        source_addr=source,
        dest_addr_ton=dest_ton,
        dest_addr_npi=dest_npi,
        destination_addr=dest,
        esm_class=esm_class,
        priority_flag=options.priority,
        schedule_delivery_time=_schedule(message, options),
        validity_period=relative_time(message.validity) if message.validity else "",
        registered_delivery=1 if message.report else 0,
        data_coding=data_coding,
        short_message=payloads[0],
    )
    if len(payloads) == 1:
        return (first,)
    if reference is None:
        # Deterministic (no randomness in the core); distinct texts to one recipient differ.
        seed = f"{recipient}\0{message.text}".encode("utf-8", "surrogatepass")
        reference = zlib.crc32(seed) & 0xFF
    total = len(payloads)
    return tuple(
        attrs.evolve(
            first,
            esm_class=esm_class | _ESM_UDHI,
            short_message=concat_udh(reference, total, seq) + payload,
        )
        for seq, payload in enumerate(payloads, 1)
    )


def _binary_payload(message: Message) -> bytes:
    if message.kind is MessageKind.BINARY_HEX:
        return bytes.fromhex(message.text)
    try:
        return message.text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValidationError(
            "a binary message's text must hold one byte per character (U+0000..U+00FF); use "
            "Message.binary(to, data) for raw bytes"
        ) from None
