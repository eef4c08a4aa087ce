"""A small cache in front of :func:`~smscenter.smpp.outgoing.build_submit_sm` (pure).

A bulk mailing sends the same text to many recipients, and everything in its ``submit_sm``
except the destination is the same each time. Building it (text checks, encoding choice,
segmentation, addressing) is most of the client's CPU per message, so a content built a second
time is kept as a template, and the next recipient gets a copy with only the three
destination fields replaced (``_destination`` is the same function ``build_submit_sm`` uses, so
the result is byte for byte what it would have built).

Only single-part messages are cached: a multi-part message also carries a per-message
concatenation reference. The key is every :class:`~smscenter.models.Message` field except
``to`` and ``client_id`` (which never reaches the PDU), read generically, so a field added to
the model later is part of the key without anyone having to remember this cache.
"""

from __future__ import annotations

import operator
from typing import Any

import attrs

from smscenter.exceptions import LocalProtocolError
from smscenter.models import Message
from smscenter.smpp._codec import cstr_limit
from smscenter.smpp.constants import HEADER_LENGTH
from smscenter.smpp.outgoing import _ADDRESS_MAX, SubmitOptions, _destination, build_submit_sm
from smscenter.smpp.pdu import SubmitSm

__all__ = ("SubmitBuilder",)

_KEY_FIELDS = tuple(f.name for f in attrs.fields(Message) if f.name not in ("to", "client_id"))
_content_key = operator.attrgetter(*_KEY_FIELDS)
_MAX_TEMPLATES = 256
_new = object.__new__
_osa = object.__setattr__
# destination_addr's C-string limit (NUL included) as SubmitSm's encoder checks it.
_DEST_LIMIT = cstr_limit(SubmitSm, "destination_addr")
# The dest_addr_ton + dest_addr_npi octets of the usual pairs, built once.
_TON_NPI = {(ton << 8) | npi: bytes((ton, npi)) for ton in range(8) for npi in range(19)}


class SubmitBuilder:
    """``build_submit_sm`` with a bounded template cache for repeated single-part contents.

    :param options: the submit options every PDU is built with.
    """

    __slots__ = ("_reference", "_seen", "_templates", "options")

    def __init__(self, options: SubmitOptions) -> None:
        self.options = options
        # content key -> (template, its body around the destination or None, the same
        # pieces with this builder's destination TON/NPI and the NUL joined in, or None)
        self._templates: dict[
            Any, tuple[SubmitSm, tuple[bytes, bytes] | None, tuple[bytes, bytes] | None]
        ] = {}
        self._reference = 0
        # Contents built once and not (yet) made into a template.
        self._seen: dict[Any, None] = {}

    def build(self, message: Message, recipient: str) -> tuple[SubmitSm, ...]:
        """The ``submit_sm`` PDUs for ``message`` to ``recipient`` (see ``build_submit_sm``).

        :raises ValueError: as ``build_submit_sm`` does.
        """
        key: Any
        try:
            key = _content_key(message)
            cached = self._templates.get(key)
        except TypeError:  # an unhashable field value: no caching for this one
            key = cached = None
        if cached is not None:
            template, wire, _ = cached
            dest, ton, npi = _destination(recipient, self.options)
            return (_with_destination(template, dest, ton, npi, wire),)
        # A fresh concatenation reference per message, so two long messages to one recipient
        # never share one.
        self._reference = reference = (self._reference + 1) & 0xFF
        pdus = build_submit_sm(message, recipient, options=self.options, reference=reference)
        if key is not None and len(pdus) == 1:
            # A template is made on a content's second sight: a mailing repeats its content,
            # while distinct texts (one-time codes) would only pay for templates never used.
            seen = self._seen
            if key not in seen:
                if len(seen) >= _MAX_TEMPLATES:
                    seen.clear()
                seen[key] = None
                return pdus
            del seen[key]
            if len(self._templates) >= _MAX_TEMPLATES:
                self._templates.clear()
            wire = _split(pdus[0])
            around = None
            ton, npi = self.options.dest_ton, self.options.dest_npi
            if wire is not None and 0 <= ton <= 255 and 0 <= npi <= 255:
                ton_npi = _TON_NPI.get((ton << 8) | npi) or bytes((ton, npi))
                around = (wire[0] + ton_npi, b"\0" + wire[1])
            self._templates[key] = (pdus[0], wire, around)
        return pdus

    def build_wire(self, message: Message, recipient: str) -> tuple[SubmitSm | bytes, ...]:
        """What :meth:`build` gives, except that a cached content to a plain number comes as
        the encoded ``submit_sm`` *body* (``bytes``, byte for byte the encoder's, header not
        included): the bind then only packs a header around it
        (:meth:`~smscenter.smpp.connection.SMPPConnection.send_submit_body`). The bulk path.

        :raises ValueError: as ``build_submit_sm`` does.
        """
        try:
            cached = self._templates.get(_content_key(message))
        except TypeError:
            cached = None
        if cached is not None and cached[2] is not None:
            # A number (optional "+", ASCII digits, not over the address limit) is what
            # _destination takes without question: the options' TON/NPI and the digits.
            digits = recipient[1:] if recipient[:1] == "+" else recipient
            if digits.isdigit() and digits.isascii() and len(digits) <= _ADDRESS_MAX:
                prefix, suffix = cached[2]
                return (prefix + digits.encode("ascii") + suffix,)
        return self.build(message, recipient)


def _split(template: SubmitSm) -> tuple[bytes, bytes] | None:
    """The template's encoded body around the destination: (what precedes dest_addr_ton, what
    follows destination_addr's NUL). None when it does not encode (a copy then goes the
    ordinary way and raises the encoder's own error) or the layout is not the expected one."""
    try:
        body = template.encode()[HEADER_LENGTH:]
        start = len(template.service_type.encode("latin-1")) + 4
        start += len(template.source_addr.encode("latin-1"))
        dest = template.destination_addr.encode("latin-1")
    except (LocalProtocolError, UnicodeEncodeError):
        return None
    head = body[:start]
    tail = body[start + 3 + len(dest) :]
    # Checked, not assumed: the pieces must give back exactly the encoder's bytes.
    if _body(head, tail, dest, template.dest_addr_ton, template.dest_addr_npi) != body:
        return None  # pragma: no cover - the submit_sm layout changed
    return head, tail


def _body(head: bytes, tail: bytes, dest: bytes, ton: int, npi: int) -> bytes:
    ton_npi = _TON_NPI.get((ton << 8) | npi) or bytes((ton, npi))
    return b"".join((head, ton_npi, dest, b"\0", tail))


def _with_destination(
    template: SubmitSm, dest: str, ton: int, npi: int, wire: tuple[bytes, bytes] | None = None
) -> SubmitSm:
    fields = getattr(template, "__dict__", None)
    if fields is None:  # pragma: no cover - PDUs with slots: the slower public way
        return attrs.evolve(template, destination_addr=dest, dest_addr_ton=ton, dest_addr_npi=npi)
    # PDUs are frozen attrs classes without validators; filling __dict__ in one step is what
    # their own constructor does (pdu._replace_init).
    pdu = _new(SubmitSm)
    values = {**fields, "destination_addr": dest, "dest_addr_ton": ton, "dest_addr_npi": npi}
    if wire is not None:
        # The encoded body too (Pdu._encode_seq), when the destination passes the encoder's
        # own checks; otherwise none, and encoding raises its usual error.
        try:
            raw: bytes | None = dest.encode("latin-1")
        except UnicodeEncodeError:
            raw = None
        if (
            raw is not None
            and len(raw) < _DEST_LIMIT
            and 0 not in raw
            and 0 <= ton <= 255
            and 0 <= npi <= 255
        ):
            values["_body"] = _body(wire[0], wire[1], raw, ton, npi)
    _osa(pdu, "__dict__", values)
    return pdu
