"""The SMPP codec: wire structs and the encoder/decoder generated per PDU class (what it raises is
:mod:`smscenter.smpp._codec_errors`).

A PDU class declares each body field once, with its wire kind in the attrs metadata (the
helpers :func:`u8`, :func:`cstr`, :func:`short_message`, :func:`listed`); :func:`codec` reads
the layout from ``attrs.fields(cls)``, generates the class's encoder and decoder (through
:func:`smscenter._fastinit.define`) and registers the class. A decode is then a handful of
``struct.unpack_from`` / ``bytes.find`` calls with no per-field dispatch in Python (why pure
Python is fast here: docs/performance.md). This module knows nothing of the PDU classes
themselves: list fields (submit_multi's destinations) bring their own coders.

Everything works on ``bytes`` plus offsets (no copies of the chunk a PDU came in) and turns every
way the input can be short or malformed into :class:`PduDecodeError`, never an ``IndexError``
or ``struct.error``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from smscenter._cache import BoundedCache
from smscenter._fastinit import define, draft, fast_init
from smscenter.smpp._codec_errors import (
    DecodeFail,
    PduDecodeError,
    PduEncodeError,
    no_nul,
    sm_limit,
    too_long,
    truncated,
)
from smscenter.smpp.constants import HEADER_LENGTH, CommandStatus
from smscenter.smpp.tlv import TlvPair

if TYPE_CHECKING:
    from smscenter.smpp.pdu import Pdu

__all__ = (
    "HEADER",
    "PDU_CLASSES",
    "PduDecodeError",
    "PduEncodeError",
    "codec",
    "cstr",
    "decode_pdu",
    "encode",
    "listed",
    "short_message",
    "u8",
)

#: command_length, command_id, command_status, sequence_number: 4 x u32 big-endian (§3.2).
HEADER = struct.Struct(">IIII")
#: TLV header: tag u16, length u16 (§3.3).
TLV_HEADER = struct.Struct(">HH")
U32 = struct.Struct(">I")


def read_cstr(d: bytes, p: int, end: int, field: str) -> tuple[str, int]:
    """The C-octet string at ``d[p:]`` (as Latin-1 text) and the offset after its NUL."""
    i = d.find(0, p, end)
    if i < 0:
        raise no_nul(field, p)
    return d[p:i].decode("latin-1"), i + 1


# --- field kinds (attrs metadata) -----------------------------------------------------------------
#
# Kinds: "B" an unsigned octet; "c" a C-octet string whose limit counts the NUL; "sm" sm_length +
# short_message; "list" a counted list with its own (decode, encode) pair.

_KIND = "smscenter.smpp.wire"


def u8(default: int = 0) -> Any:
    """An unsigned one-octet body field (a TON, NPI, flag or code)."""
    return attrs.field(default=default, metadata={_KIND: ("B", 0)})


def cstr(limit: int, *, repr: bool = True) -> Any:
    """A C-octet string body field of at most ``limit`` octets, the NUL included (§3.1)."""
    return attrs.field(default="", repr=repr, metadata={_KIND: ("c", limit)})


def short_message() -> Any:
    """``sm_length`` + ``short_message`` (at most 254 octets, §4.4.1): one ``bytes`` field."""
    return attrs.field(default=b"", metadata={_KIND: ("sm", 254)})


ListDecoder = Callable[[bytes, int, int], tuple[tuple[Any, ...], int]]
ListEncoder = Callable[[str, tuple[Any, ...]], bytes]


def listed(decode: ListDecoder, encode: ListEncoder) -> Any:
    """A counted list body field with its own coders: ``decode(data, pos, end) -> (items,
    pos)`` raising :class:`DecodeFail`, ``encode(pdu_name, items) -> bytes``."""
    return attrs.field(default=(), metadata={_KIND: ("list", (decode, encode))})


def layout(cls: type[Any]) -> list[tuple[str, str, Any]]:
    """``(field, kind, limit or coders)`` of a PDU class's body, in wire order."""
    return [(f.name, *f.metadata[_KIND]) for f in attrs.fields(cls) if _KIND in f.metadata]


def cstr_limit(cls: type[Any], field: str) -> int:
    """The octet limit (NUL included) of C-string ``field`` of PDU class ``cls``."""
    limit: int = next(lim for name, kind, lim in layout(cls) if name == field and kind == "c")
    return limit


# --- the encoder's slow path ---------------------------------------------------------------------


def encode_cstr(pdu: str, field: str, value: str, limit: int) -> bytes:
    """``value`` as a C-octet string of at most ``limit`` octets (NUL included)."""
    raw = value.encode("latin-1")
    if len(raw) >= limit or 0 in raw:
        raise too_long(pdu, field, limit, raw)
    return raw + b"\0"


def _diagnose(pdu: Any, exc: Exception) -> PduEncodeError:
    # Slow path after a failed encode: find the field that broke it and say so.
    name = type(pdu).__name__
    checks = [("sequence_number", "I", 0), ("command_status", "I", 0), *layout(type(pdu))]
    for field, kind, _limit in checks:
        value = getattr(pdu, field)
        if kind in ("B", "I"):
            bits = 8 if kind == "B" else 32
            if isinstance(value, bool) or not isinstance(value, int):
                return PduEncodeError(
                    f"{name}.{field} must be an int, got {type(value).__name__}",
                    pdu=name,
                    field=field,
                )
            if not 0 <= value < 1 << bits:
                return PduEncodeError(
                    f"{name}.{field} = {value} does not fit in {bits // 8} octet(s) "
                    f"(0..{(1 << bits) - 1})",
                    pdu=name,
                    field=field,
                    limit=(1 << bits) - 1,
                )
        elif kind == "c":
            if not isinstance(value, str):
                return PduEncodeError(
                    f"{name}.{field} must be a str, got {type(value).__name__}",
                    pdu=name,
                    field=field,
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                return PduEncodeError(
                    f"{name}.{field} has characters outside Latin-1: {value!r}",
                    pdu=name,
                    field=field,
                )
        elif kind == "sm" and not isinstance(value, bytes | bytearray):
            return PduEncodeError(
                f"{name}.short_message must be bytes, got {type(value).__name__}",
                pdu=name,
                field=field,
            )
    return PduEncodeError(f"{name} could not be encoded: {exc}", pdu=name, field="?")


# --- TLV lists ----------------------------------------------------------------------------------


def decode_tlvs(
    data: bytes, pos: int, end: int, tails: BoundedCache[bytes, tuple[TlvPair, ...]] | None
) -> tuple[TlvPair, ...]:
    """The TLVs in ``data[pos:end]``, in wire order.

    ``tails`` (the framer's): the TLVs after the first one repeat byte for byte across a bulk
    send's receipts (state, error, the provider's cost/flags/parts/MCC+MNC,
    smscentre.com/api/smpp) while the first (receipted_message_id) differs, so their decoded
    pairs are cached by their raw bytes (values are immutable bytes).
    """
    unpack = TLV_HEADER.unpack_from
    tail_key: bytes | None = None
    if tails is not None and end - pos > 8:
        tag, length = unpack(data, pos)
        start = pos + 4
        nxt = start + length
        if nxt + 4 <= end:
            tail_key = data[nxt:end]
            cached = tails.get(tail_key)
            if cached is not None:
                return ((tag, data[start:nxt]),) + cached
    out: list[TlvPair] = []
    append = out.append
    try:
        while pos < end:
            # No separate "is the 4-byte header in?" test: a header past the end makes the
            # value start past the end too, which the one check below catches.
            tag, length = unpack(data, pos)
            start = pos + 4
            pos = start + length
            if pos > end:
                break
            append((tag, data[start:pos]))
        else:
            if tail_key is not None and tails is not None:
                tails.put(tail_key, tuple(out[1:]))
            return tuple(out)
    except struct.error:  # the header ran past the end of the chunk itself
        start = pos + 4
    if start > end:
        # ESME_RINVOPTPARSTREAM: the optional-parameter stream is broken.
        raise DecodeFail("tlv", start - 4, "truncated TLV header", 0xC0)
    raise DecodeFail("tlv", start - 4, f"TLV 0x{tag:04X} length {length} overruns the body", 0xC0)


def encode_tlvs(tlvs: Iterable[tuple[int, bytes]], pdu: str) -> bytes:
    """Encode TLVs in order; a value over 65535 octets or a tag out of range is a local error."""
    parts: list[bytes] = []
    pack = TLV_HEADER.pack
    for tlv in tlvs:
        tag, value = tlv
        if not isinstance(value, bytes | bytearray | memoryview):
            raise PduEncodeError(
                f"{pdu}: TLV 0x{tag:04X} value must be bytes, got {type(value).__name__}",
                pdu=pdu,
                field="tlvs",
            )
        if len(value) > 0xFFFF:
            raise PduEncodeError(
                f"{pdu}: TLV 0x{tag:04X} value is {len(value)} octets, the limit is 65535",
                pdu=pdu,
                field="tlvs",
                limit=0xFFFF,
            )
        if not 0 <= tag <= 0xFFFF:
            raise PduEncodeError(
                f"{pdu}: TLV tag {tag} does not fit in 2 octets", pdu=pdu, field="tlvs"
            )
        parts.append(pack(tag, len(value)))
        parts.append(bytes(value))
    return b"".join(parts)


# --- the generator ------------------------------------------------------------------------------

_P = TypeVar("_P", bound=type[Any])

#: command_id -> PDU class, filled by :func:`codec` when :mod:`smscenter.smpp.pdu` is imported.
PDU_CLASSES: dict[int, type[Pdu]] = {}
#: command_id -> the generated ``decode(data, pos, end, seq, status, tails) -> Pdu``.
DECODERS: dict[int, Callable[..., Pdu]] = {}
#: command_status -> its CommandStatus member (unknown values are made on demand).
STATUS_MAP: dict[int, CommandStatus] = dict(CommandStatus._value2member_map_)


def status(value: int) -> CommandStatus:
    """``value`` as a :class:`CommandStatus` (unknown values stay raw numbers inside it)."""
    member = STATUS_MAP.get(value)
    return member if member is not None else CommandStatus(value)


def _generate(cls: type[Pdu]) -> None:
    namespace: dict[str, Any] = {
        "CLS": cls,
        "NAME": cls.__name__,
        "_HDR": HEADER,
        "_NUL": b"\0",
        "_trunc": truncated,
        "_nonul": no_nul,
        "_too_long": too_long,
        "_sm_limit": sm_limit,
        "_diagnose": _diagnose,
        "_dec_tlvs": decode_tlvs,
        "_enc_tlvs": encode_tlvs,
        "struct": struct,
        "_new": object.__new__,
    }

    def struct_name(fmt: str) -> str:
        namespace.setdefault(f"_S_{fmt}", struct.Struct(">" + fmt))
        return f"_S_{fmt}"

    dec = ["def decode(d, p, end, seq, st, tails):"]
    body = layout(cls)
    if cls.is_response() and body:
        # SMPP allows an error response without a body (e.g. a refused bind_resp).
        dec.append("    if p == end and st:")
        dec.append("        return CLS(sequence_number=seq, command_status=st)")
    enc_pre: list[str] = []
    enc_parts: list[str] = []
    group: list[str] = []  # consecutive one-octet fields, read (and written) together

    def flush(length_too: bool = False) -> None:
        # Read (and write) the pending octets, plus sm_length when ``length_too``.
        if not group and not length_too:
            return
        names = [*group, "n"] if length_too else list(group)
        size = len(names)
        sname = struct_name("B" * size)
        dec.append(f"    if p + {size} > end: raise _trunc({names[0]!r}, p)")
        if size <= 3:  # a few octets: indexing is cheaper than a struct call
            dec.extend(
                f"    {name} = d[p + {k}]" if k else f"    {name} = d[p]"
                for k, name in enumerate(names)
            )
        else:
            dec.append(f"    {', '.join(names)}, = {sname}.unpack_from(d, p)")
        dec.append(f"    p += {size}")
        packed = [f"self.{name}" for name in group]
        if length_too:
            packed.append("len(short_message)")
        enc_parts.append(f"{sname}.pack({', '.join(packed)})")
        group.clear()

    for i, (field, kind, extra) in enumerate(body):
        if kind == "B":
            group.append(field)
        elif kind == "sm":
            flush(length_too=True)
            dec.append("    if p + n > end: raise _trunc('short_message', p)")
            dec.append("    short_message = d[p:p + n]")
            dec.append("    p += n")
            enc_pre.append("    short_message = self.short_message")
            enc_pre.append(
                "    if len(short_message) > 254: raise _sm_limit(CLS, len(short_message))"
            )
            enc_parts.append("short_message")
        elif kind == "c":
            flush()
            # Most optional C-strings are empty (a lone NUL): no search, slice or decode.
            dec.append("    if p < end and not d[p]:")
            dec.append(f"        {field} = ''")
            dec.append("        p += 1")
            dec.append("    else:")
            dec.append("        i = d.find(0, p, end)")
            dec.append(f"        if i < 0: raise _nonul({field!r}, p)")
            dec.append(f"        {field} = d[p:i].decode('latin-1')")
            dec.append("        p = i + 1")
            enc_pre.append(f"    b{i} = self.{field}.encode('latin-1')")
            enc_pre.append(
                f"    if len(b{i}) >= {extra} or 0 in b{i}: "
                f"raise _too_long(NAME, {field!r}, {extra}, b{i})"
            )
            enc_parts += [f"b{i}", "_NUL"]
        else:  # "list"
            flush()
            namespace[f"_dec_{field}"], namespace[f"_enc_{field}"] = extra
            dec.append(f"    {field}, p = _dec_{field}(d, p, end)")
            enc_parts.append(f"_enc_{field}(NAME, self.{field})")
    flush()
    dec.append("    tlvs = _dec_tlvs(d, p, end, tails) if p < end else ()")
    # Build the instance without __init__, as an instance of the class's draft filled with
    # plain stores (smscenter._fastinit): every field is set, so the value is complete. (A
    # whole new __dict__ assigned at once costs about twice as much: a receipt's deliver_sm
    # is ~20 fields.)
    draft(cls, namespace)
    local = {"sequence_number": "seq", "command_status": "st", "tlvs": "tlvs"}
    dec.append("    o = _new(_DRAFT)")
    dec.extend(f"    o.{f.name} = {local.get(f.name, f.name)}" for f in attrs.fields(cls))
    dec.append("    o.__class__ = CLS")
    dec.append("    return o")

    enc = ["def encode(self):", "    try:", *("    " + line for line in enc_pre)]
    joined = f"b''.join(({', '.join(enc_parts)},))" if enc_parts else "b''"
    enc.append(f"        body = {joined}")
    enc.append("        if self.tlvs: body += _enc_tlvs(self.tlvs, NAME)")
    enc.append(
        f"        return _HDR.pack({HEADER_LENGTH} + len(body), {int(cls.command_id)}, "
        "self.command_status, self.sequence_number) + body"
    )
    enc.append("    except (UnicodeEncodeError, struct.error, AttributeError, TypeError) as exc:")
    enc.append("        raise _diagnose(self, exc) from None")

    DECODERS[int(cls.command_id)] = define("\n".join(dec), namespace, "decode")
    cls._encoder = define("\n".join(enc), namespace, "encode")  # type: ignore[method-assign]


def codec(cls: _P) -> _P:
    """Class decorator for a concrete PDU class (on top of ``@attrs.frozen``): generate its
    encoder and decoder from its fields' wire kinds, give it a fast ``__init__``
    (:func:`smscenter._fastinit.fast_init`) and register it by ``command_id``."""
    _generate(cls)
    fast_init(cls)
    PDU_CLASSES[int(cls.command_id)] = cls
    return cls


# --- entry points -------------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    """Encode ``pdu`` to bytes (same as :meth:`Pdu.encode <smscenter.smpp.pdu.Pdu.encode>`).

    :raises LocalProtocolError: (:class:`PduEncodeError`) a field is over its limit or of the
        wrong type.
    """
    return pdu._encoder()


def decode_at(
    data: bytes,
    start: int,
    end: int,
    tails: BoundedCache[bytes, tuple[TlvPair, ...]] | None = None,
) -> Pdu:
    """Decode ``data[start:end]``, one whole PDU whose command_length has been checked; the
    slow path that turns any failure into a detailed :class:`PduDecodeError`."""
    _, command_id, raw_status, seq = HEADER.unpack_from(data, start)
    decoder = DECODERS.get(command_id)
    if decoder is None:
        raise PduDecodeError(
            f"unknown command_id 0x{command_id:08X} (sequence {seq})",
            offset=4,
            command_id=command_id,
            sequence_number=seq,
            field="command_id",
            status=CommandStatus.ESME_RINVCMDID,
        )
    try:
        return decoder(data, start + HEADER_LENGTH, end, seq, status(raw_status), tails)
    except DecodeFail as fail:
        name = PDU_CLASSES[command_id].__name__
        raise PduDecodeError(
            f"{name} (sequence {seq}): {fail.what} at byte {fail.pos - start}",
            offset=fail.pos - start,
            command_id=command_id,
            sequence_number=seq,
            field=fail.field,
            status=fail.status,
        ) from None


def decode_pdu(data: bytes) -> Pdu:
    """Decode exactly one complete PDU.

    :raises RemoteProtocolError: (:class:`PduDecodeError`) the bytes are not one valid PDU.
    """
    if type(data) is not bytes:
        data = bytes(data)
    size = len(data)
    if size < HEADER_LENGTH:
        raise PduDecodeError(
            f"PDU of {size} bytes is shorter than the 16-byte header",
            offset=0,
            field="command_length",
            fatal=True,
        )
    length, command_id, raw_status, seq = HEADER.unpack_from(data)
    if length != size:
        raise PduDecodeError(
            f"command_length {length} does not match the {size} bytes given",
            offset=0,
            field="command_length",
            fatal=True,
        )
    decoder = DECODERS.get(command_id)
    st = STATUS_MAP.get(raw_status)
    if decoder is not None and st is not None:
        try:
            return decoder(data, HEADER_LENGTH, length, seq, st, None)
        except DecodeFail:
            pass
    return decode_at(data, 0, length)  # the slow path raises the detailed error
