"""From a :class:`~smscenter.models.Message` to ``submit_sm`` (pure: no I/O, no clock).

:func:`build_submit_sm` is the one definition of how a ``Message`` becomes ``submit_sm`` PDUs:
the provider's special texts (:mod:`smscenter.smpp.provider_text`), the choice of encoding,
segmentation with a concatenation UDH, addressing, receipts, validity and scheduling (each
field read from the message by :mod:`smscenter.smpp._submit_fields`). Kinds SMPP cannot carry
raise :class:`ValueError` before anything is sent.

:class:`SubmitBuilder` is what a session sends with: the encoded ``submit_sm`` bodies, byte for
byte those of :func:`build_submit_sm`'s PDUs, made without building a PDU. Everything in a body
except the destination and the text depends only on the message's *shape* (its fields other
than ``to``, ``text`` and ``client_id``), and a bulk mailing has one shape whatever its texts:
the builder keeps, per shape, the encoded bytes around the destination and the short message,
so a new text costs its encoding (one table translation for an ASCII text) and a join.
"""

from __future__ import annotations

import zlib
from datetime import tzinfo

import attrs

from smscenter._cache import BoundedCache
from smscenter._provider import MOSCOW
from smscenter.models import Message, MessageKind
from smscenter.smpp import _submit_fields as _fields
from smscenter.smpp._submit_fields import ADDRESS_MAX, BINARY_KINDS, DC_CLASS0, ESM_UDHI
from smscenter.smpp.constants import HEADER_LENGTH, NPI, TON
from smscenter.smpp.pdu import SubmitSm
from smscenter.smpp.provider_text import provider_text, refuse_unsupported, text_affixes
from smscenter.smpp.text import TextEncoding, concat_udh, encode_auto, split_encoded
from smscenter.smpp.times import relative_time

__all__ = ("DEFAULT_OPTIONS", "SubmitBuilder", "SubmitOptions", "build_submit_sm")


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
    local_tz: tzinfo = MOSCOW
    binary_has_udh: bool = False


#: The options of a builder given none.
DEFAULT_OPTIONS = SubmitOptions()

# --- the PDUs -------------------------------------------------------------------------------------


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
    refuse_unsupported(message)
    return _build(message, _fields.resolve(message, recipient, None), options, reference)


def _build(
    message: Message, recipient: str, options: SubmitOptions, reference: int | None
) -> tuple[SubmitSm, ...]:
    dest, dest_ton, dest_npi = _fields.destination(recipient, options)
    source, source_ton, source_npi = _fields.source(message, options)
    payloads, data_coding, esm_class = _fields.payloads(message, options)
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
        schedule_delivery_time=_fields.schedule(message, options),
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
            esm_class=esm_class | ESM_UDHI,
            short_message=concat_udh(reference, total, seq) + payload,
        )
        for seq, payload in enumerate(payloads, 1)
    )


# --- the encoded bodies ---------------------------------------------------------------------------

#: The message fields that make a shape: all but ``to``, ``text`` and ``client_id`` (which never
#: reaches the PDU). tests/smpp/test_submit.py holds this list equal to the model's fields.
SHAPE_FIELDS = (
    "kind", "sender", "translit", "send_at", "validity", "comment", "max_parts", "subject",
    "voice", "bot", "tinyurl", "report", "attachments", "options", "extra",
)  # fmt: skip


def _shape_key(m: Message) -> tuple[object, ...]:
    # Written out rather than an attrgetter over SHAPE_FIELDS: a third of the cost.
    return (
        m.kind, m.sender, m.translit, m.send_at, m.validity, m.comment, m.max_parts, m.subject,
        m.voice, m.bot, m.tinyurl, m.report, m.attachments, m.options, m.extra,
    )  # fmt: skip


_OCTET = tuple(bytes((n,)) for n in range(256))
_ENCODINGS = (TextEncoding.GSM, TextEncoding.LATIN1, TextEncoding.UCS2)  # data_coding >> 2
# How the short message's text is made from Message.text.
_PLAIN, _AFFIXED, _FIXED, _GENERAL = range(4)
_MAX_SHAPES = 256


class _Shape:
    """The encoded pieces of the bodies of one shape (see the module docstring)."""

    __slots__ = (
        "head", "last_after", "last_wire", "long_tails", "mode", "numbered", "prefix",
        "priority", "registered", "suffix", "tails", "times",
    )  # fmt: skip

    def __init__(self, message: Message, options: SubmitOptions) -> None:
        # service_type, source_addr_ton/npi, source_addr (SMPP 3.4 §4.4.1): what precedes
        # dest_addr_ton.
        source, ton, npi = _fields.source(message, options)
        self.head = b"%s\0%s%s\0" % (
            options.service_type.encode("latin-1"),
            bytes((ton, npi)),
            source.encode("latin-1"),
        )
        ton, npi = options.dest_ton, options.dest_npi
        # With the TON/NPI of a number, when they fit their octets (else numbers go the slow
        # way, which raises the encoder's error).
        self.numbered = self.head + bytes((ton, npi)) if 0 <= ton < 256 and 0 <= npi < 256 else None
        validity = relative_time(message.validity) if message.validity else ""
        self.times = b"%s\0%s\0" % (
            _fields.schedule(message, options).encode("latin-1"),
            validity.encode("latin-1"),
        )
        self.priority = options.priority
        self.registered = 1 if message.report else 0
        flash = DC_CLASS0 if message.kind is MessageKind.FLASH else 0
        self.tails = tuple(self.tail(0, coding | flash) for coding in (0, 4, 8))
        self.long_tails = tuple(self.tail(ESM_UDHI, coding | flash) for coding in (0, 4, 8))
        self.prefix = self.suffix = ""
        if message.kind in BINARY_KINDS or message.max_parts is not None:
            self.mode = _GENERAL
        elif (affixes := text_affixes(message)) is None:
            self.mode, self.prefix = _FIXED, provider_text(message)
        else:
            self.prefix, self.suffix = affixes
            self.mode = _AFFIXED if self.prefix or self.suffix else _PLAIN
        # The last text and what followed its destination: identical texts reuse it.
        self.last_wire: str | None = None
        self.last_after = b""

    def tail(self, esm_class: int, data_coding: int) -> bytes:
        """What follows destination_addr up to sm_length: its NUL, esm_class, protocol_id,
        priority_flag, the two times, registered_delivery, replace_if_present_flag, data_coding
        and sm_default_msg_id (SMPP 3.4 §4.4.1)."""
        return b"\0%s%s%s" % (
            bytes((esm_class, 0, self.priority)),
            self.times,
            bytes((self.registered, 0, data_coding, 0)),
        )


class SubmitBuilder:
    """The encoded ``submit_sm`` bodies (header not included) of a message to one recipient:
    byte for byte the bodies of :func:`build_submit_sm`'s PDUs, with a fresh concatenation
    reference per long message.

    It keeps the encoded pieces of up to 256 message shapes (see the module docstring): a
    message of a known shape to a phone number costs its text's encoding and a join, whatever
    its text. The first message of a shape is built the general way, and its body checks the
    pieces.

    :param options: the submit options every body is built with.
    """

    __slots__ = (
        "_iso",
        "_last_key",
        "_last_shape",
        "_members",
        "_options",
        "_reference",
        "_shapes",
    )

    def __init__(self, options: SubmitOptions = DEFAULT_OPTIONS) -> None:
        self._options = options
        self._iso = options.iso
        self._shapes: BoundedCache[tuple[object, ...], _Shape] = BoundedCache(_MAX_SHAPES)
        self._last_key: tuple[object, ...] | None = None
        self._last_shape: _Shape | None = None
        self._reference = 0
        # The last long recipient list, as a set: a message to 10,000 recipients is built once
        # per recipient, and must not be scanned each time.
        self._members: tuple[tuple[str, ...], frozenset[str]] = ((), frozenset())

    @property
    def options(self) -> SubmitOptions:
        """The options every body is built with."""
        return self._options

    def build(self, message: Message, recipient: str) -> tuple[bytes, ...]:
        """The ``submit_sm`` bodies for ``message`` to ``recipient``, one per part.

        :raises ValueError: as :func:`build_submit_sm` does.
        :raises LocalProtocolError: (:class:`~smscenter.smpp.pdu.PduEncodeError`) a field the
            encoder refuses (an address or a TON/NPI that does not fit its octets).
        """
        m = message
        # _shape_key(message), inline: once per message (the property test in
        # tests/smpp/test_submit_builder.py finds every kept shape under _shape_key's key).
        key = (
            m.kind, m.sender, m.translit, m.send_at, m.validity, m.comment, m.max_parts, m.subject,
            m.voice, m.bot, m.tinyurl, m.report, m.attachments, m.options, m.extra,
        )  # fmt: skip
        if key == self._last_key:
            shape = self._last_shape
            assert shape is not None
        else:
            try:
                found = self._shapes.get(key)
            except TypeError:  # an unhashable field value: built without the pieces
                return self._encoded(message, recipient)
            if found is None:
                return self._first(key, message, recipient)
            self._last_key, self._last_shape = key, shape = key, found
        to = message.to
        if not (recipient in to if len(to) < 16 else recipient in self._set_of(to)):
            return self._encoded(message, recipient)  # to normalize it, or to refuse it
        # A number (optional "+", ASCII digits, not over the address limit) is what
        # _destination takes as it is, with the options' TON/NPI.
        raw = recipient.encode("ascii", "replace")
        if raw[:1] == b"+":
            raw = raw[1:]
        start = shape.numbered
        if start is None or not raw.isdigit() or len(raw) > ADDRESS_MAX:
            dest, ton, npi = _fields.destination(recipient, self._options)
            try:
                raw = dest.encode("latin-1")
            except UnicodeEncodeError:
                return self._encoded(message, recipient)  # the encoder's error
            if len(raw) > ADDRESS_MAX or 0 in raw or not (0 <= ton < 256 and 0 <= npi < 256):
                return self._encoded(message, recipient)
            start = shape.head + bytes((ton, npi))
        mode = shape.mode
        if mode == _PLAIN:
            wire = message.text
        elif mode == _AFFIXED:
            wire = shape.prefix + message.text + shape.suffix
        elif mode == _FIXED:
            wire = shape.prefix
        else:
            return self._general(shape, start + raw, message)
        if wire == shape.last_wire:
            return (b"".join((start, raw, shape.last_after)),)
        data_coding, data = encode_auto(wire, self._iso)
        size = len(data)
        if size <= 140 or (size <= 160 and data_coding == 0):  # one SMS: 160 septets, 140 octets
            shape.last_wire = wire
            shape.last_after = after = b"".join((shape.tails[data_coding >> 2], _OCTET[size], data))
            return (b"".join((start, raw, after)),)
        payloads = split_encoded(data, _ENCODINGS[data_coding >> 2])
        return self._parts(start + raw, shape.long_tails[data_coding >> 2], payloads)

    def _parts(self, start: bytes, tail: bytes, payloads: tuple[bytes, ...]) -> tuple[bytes, ...]:
        # A fresh concatenation reference per message, so two long messages to one recipient
        # never share one.
        self._reference = reference = (self._reference + 1) & 0xFF
        total = len(payloads)
        return tuple(
            b"%s%s%s%s%s" % (start, tail, _OCTET[6 + len(p)], concat_udh(reference, total, n), p)
            for n, p in enumerate(payloads, 1)
        )

    def _general(self, shape: _Shape, start: bytes, message: Message) -> tuple[bytes, ...]:
        # Binary payloads and texts cut to max_parts: the parts as build_submit_sm makes them.
        payloads, data_coding, esm_class = _fields.payloads(message, self._options)
        if len(payloads) > 1:
            return self._parts(start, shape.tail(esm_class | ESM_UDHI, data_coding), payloads)
        data = payloads[0]
        return (b"%s%s%s%s" % (start, shape.tail(esm_class, data_coding), _OCTET[len(data)], data),)

    def _set_of(self, to: tuple[str, ...]) -> frozenset[str]:
        cached, members = self._members
        if cached is not to:
            members = frozenset(to)
            self._members = (to, members)
        return members

    def _encoded(self, message: Message, recipient: str) -> tuple[bytes, ...]:
        """The general way: build_submit_sm's PDUs, encoded (and its errors)."""
        refuse_unsupported(message)
        to = message.to
        recipient = _fields.resolve(message, recipient, self._set_of(to) if len(to) >= 16 else None)
        reference = (self._reference + 1) & 0xFF
        pdus = _build(message, recipient, self._options, reference)
        if len(pdus) > 1:
            self._reference = reference
        return tuple(pdu.encode()[HEADER_LENGTH:] for pdu in pdus)

    def _first(
        self, key: tuple[object, ...], message: Message, recipient: str
    ) -> tuple[bytes, ...]:
        """A message of a shape not seen yet: built the general way, and the shape's pieces
        kept when they give back exactly those bodies."""
        reference = self._reference
        bodies = self._encoded(message, recipient)  # raises for a message SMPP cannot carry
        shapes = self._shapes
        self._last_shape = shapes.put(key, _Shape(message, self._options))
        self._last_key = key
        self._reference, kept = reference, self._reference
        if self.build(message, recipient) != bodies:  # pragma: no cover - a bug: stay correct
            del shapes[key]
            self._last_key = self._last_shape = None
        self._reference = kept
        return bodies
