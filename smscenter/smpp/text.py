"""Text encodings and long-message segmentation for SMPP (pure: no I/O, no clock).

The provider (smscentre.com/api/smpp) takes three encodings, chosen by bits 2-3 of ``data_coding``
(``data_coding = coding * 4``):

* GSM 03.38 default alphabet with its extension table, ``data_coding`` 0. SMSCs carry it over
  SMPP *unpacked*: one septet per octet, an extension character as ``0x1B`` plus its code.
* ISO-8859-1, ``data_coding`` 4 (the provider's ``coding`` 1), used when the bind's
  ``system_type`` contains ``ISO``. The standard SMPP Latin-1 value 3 is accepted on input.
* UCS-2 / UTF-16BE, ``data_coding`` 8; characters outside the BMP travel as surrogate pairs.

Long texts are split into parts that each start with a concatenation UDH (3GPP TS 23.040
§9.2.3.24.1, 8-bit reference, IEI 0x00). The part sizes below are what the provider bills
(https://smscentre.com/api/http/, send.php: 160/153 Latin, 70/67 Cyrillic per part).

The GSM codec is table-driven (``str.translate`` to encode, ``codecs.charmap_decode`` to decode),
several times faster than aiosmpplib's per-character loop and tested character for character
against it.
"""

from __future__ import annotations

import codecs
import enum

import attrs

__all__ = (
    "GSM_BASIC",
    "GSM_EXTENSION",
    "TextEncoding",
    "UserDataHeader",
    "choose_encoding",
    "concat_udh",
    "count_parts",
    "decode_text",
    "encode_auto",
    "encode_text",
    "gsm_decode",
    "gsm_encode",
    "gsm_septets",
    "is_gsm",
    "parse_udh",
    "split_encoded",
    "split_text",
    "truncate_to_parts",
)

# --- GSM 03.38 ------------------------------------------------------------------------------------

# 3GPP TS 23.038 §6.2.1: the default alphabet, code point -> character. 0x1B is the escape to
# the extension table, not a character; it is kept here only so the string has 128 entries.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: 3GPP TS 23.038 §6.2.1.1: the extension table, code after 0x1B -> character.
GSM_EXTENSION: dict[int, str] = {
    0x0A: "\x0c",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_ESC = 0x1B
assert len(GSM_BASIC) == 128


def _build_encode_table() -> dict[int, str]:
    # Every GSM character maps to the ASCII code of its septet(s): the translated string is then
    # pure ASCII exactly when every character was encodable, and .encode("ascii") is the wire
    # form. ASCII characters outside the alphabet (` and the control characters) map to a
    # non-ASCII marker so the isascii() check catches them; non-ASCII characters outside the
    # table are left alone by translate() and fail the same check.
    table: dict[int, str] = dict.fromkeys(range(128), "\x80")
    for code, char in enumerate(GSM_BASIC):
        if code != _ESC:
            table[ord(char)] = chr(code)
    for code, char in GSM_EXTENSION.items():
        table[ord(char)] = chr(_ESC) + chr(code)
    return table


_GSM_ENCODE = _build_encode_table()
# The codec's own function: str.encode("utf-16-be") first looks the codec up by name, which
# takes longer than encoding a short text.
_utf_16_be = codecs.utf_16_be_encode
#: Every character of the alphabet, basic or extension.
_GSM_CHARS = frozenset(GSM_BASIC.replace("\x1b", "") + "".join(GSM_EXTENSION.values()))
# Most texts are ASCII, and for those one bytes.translate is the whole encoder: each ASCII
# character maps to its septet, except the extension characters (two septets) and those outside
# the alphabet (` and most control characters), which map to 0x80, never a septet, and send the
# text to the general path.
_GSM_FROM_ASCII = bytes(
    ord(_GSM_ENCODE[code]) if len(_GSM_ENCODE[code]) == 1 and _GSM_ENCODE[code] < "\x80" else 0x80
    for code in range(128)
) + bytes((0x80,) * 128)
# The ASCII characters in the alphabet: deleting them leaves what does not fit.
_GSM_ASCII = bytes(code for code in range(128) if chr(code) in _GSM_CHARS)
# Octets 0x80-0xFF are not septets; an SMSC that sends them sent something else. They decode to
# U+FFFD rather than failing: incoming text must never crash the session.
_GSM_DECODE = GSM_BASIC + "\ufffd" * 128
_GSM_EXT_BY_BASIC = {GSM_BASIC[code]: char for code, char in GSM_EXTENSION.items()}
_GSM_PAIRS = tuple(("\x1b" + basic, char) for basic, char in _GSM_EXT_BY_BASIC.items())


def _unescape(text: str) -> str:
    # Each piece after a split on ESC starts with the escaped code's default-alphabet character.
    pieces = text.split("\x1b")
    out = [pieces[0]]
    last = len(pieces) - 1
    consumed = False  # the ESC before this piece was itself the follower of an escape
    for i in range(1, last + 1):
        piece = pieces[i]
        if consumed:
            out.append(piece)
            consumed = False
        elif piece:
            # An escape code with no extension character shows the default-alphabet character
            # (TS 23.038 §6.2.1.1 note).
            out.append(_GSM_EXT_BY_BASIC.get(piece[0], piece[0]))
            out.append(piece[1:])
        elif i < last:
            # 0x1B 0x1B is reserved for a further extension table (TS 23.038 §6.2.1.1): a space.
            out.append(" ")
            consumed = True
        # else: a dangling escape at the very end is dropped
    return "".join(out)


def gsm_septets(text: str) -> int | None:
    """How many septets ``text`` takes in the GSM 03.38 alphabet, or ``None`` if it does not fit.

    Extension characters (``^{}\\[~]|€`` and form feed) count two.
    """
    out = text.translate(_GSM_ENCODE)
    return len(out) if out.isascii() else None


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 03.38 alphabet (basic or extension)."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _GSM_ASCII)
    return _GSM_CHARS.issuperset(text)


def gsm_encode(text: str) -> bytes:
    """Encode to unpacked GSM 03.38 (one septet per octet, extension as ``0x1B`` + code).

    :raises ValueError: when a character is not in the alphabet (names the first one).
    """
    out = text.translate(_GSM_ENCODE)
    if out.isascii():
        return out.encode("ascii")
    for pos, char in enumerate(text):
        if not char.translate(_GSM_ENCODE).isascii():
            raise ValueError(f"character {char!r} at position {pos} is not in the GSM alphabet")
    raise AssertionError("unreachable")  # pragma: no cover


def gsm_decode(data: bytes) -> str:
    """Decode unpacked GSM 03.38 octets. Never fails: bad octets become U+FFFD."""
    text: str = codecs.charmap_decode(data, "strict", _GSM_DECODE)[0]
    if "\x1b" in text:
        if "\x1b\x1b" in text:
            return _unescape(text)
        # Without doubled escapes the pairs cannot overlap: ten C-level replaces, then any
        # escape left over (an unknown code, or a dangling one at the end) just goes.
        for pair, char in _GSM_PAIRS:
            text = text.replace(pair, char)
        text = text.replace("\x1b", "")
    return text


# --- encodings and their sizes --------------------------------------------------------------------


class TextEncoding(enum.Enum):
    """The three text encodings the provider accepts (smscentre.com/api/smpp)."""

    GSM = "gsm"
    LATIN1 = "latin1"
    UCS2 = "ucs2"

    @property
    def data_coding(self) -> int:
        """The ``data_coding`` the provider expects: ``coding * 4`` (smscentre.com/api/smpp)."""
        return _DATA_CODING[self]

    @property
    def single_limit(self) -> int:
        """Units (septets, octets or UTF-16 code units) a one-part message can carry."""
        return _SINGLE_LIMIT[self]

    @property
    def part_limit(self) -> int:
        """Units each part of a multi-part message can carry after its 6-octet UDH."""
        return _PART_LIMIT[self]


_DATA_CODING = {TextEncoding.GSM: 0, TextEncoding.LATIN1: 4, TextEncoding.UCS2: 8}
# 140 octets of user data: 160 septets, 140 octets, 70 UTF-16 units. A 6-octet concatenation UDH
# leaves 134 octets: 153 septets (the UDH plus fill bits take 7 septets), 134 octets, 67 units.
_SINGLE_LIMIT = {TextEncoding.GSM: 160, TextEncoding.LATIN1: 140, TextEncoding.UCS2: 70}
_PART_LIMIT = {TextEncoding.GSM: 153, TextEncoding.LATIN1: 134, TextEncoding.UCS2: 67}
# The unit size in octets on the wire (unpacked GSM: one octet per septet).
_UNIT = {TextEncoding.GSM: 1, TextEncoding.LATIN1: 1, TextEncoding.UCS2: 2}


def _fits_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def choose_encoding(text: str, *, iso: bool = False) -> TextEncoding:
    """Pick the cheapest encoding that carries ``text``.

    GSM when every character fits; otherwise UCS-2. With ``iso=True`` (the bind's
    ``system_type`` says ``ISO``) Latin-1 replaces GSM for texts that fit Latin-1.
    """
    if iso:
        return TextEncoding.LATIN1 if _fits_latin1(text) else TextEncoding.UCS2
    return TextEncoding.GSM if is_gsm(text) else TextEncoding.UCS2


def encode_auto(text: str, iso: bool = False) -> tuple[int, bytes]:
    """``text`` in the encoding :func:`choose_encoding` picks, chosen and encoded in one pass:
    its ``data_coding`` (0 GSM, 4 Latin-1, 8 UCS-2) and its bytes, those of
    :func:`encode_text`.

    The builder of every ``submit_sm`` calls it, so the common texts take the shortest way: an
    ASCII text is one table translation, a text with a character outside the GSM alphabet (any
    Cyrillic one) is found at that character and goes UTF-16BE.

    :raises UnicodeEncodeError: (a :class:`ValueError`) for a lone surrogate, which no
        encoding carries.
    """
    if text.isascii():
        raw = text.encode("ascii")
        if iso:
            return 4, raw
        out = raw.translate(_GSM_FROM_ASCII)
        if 0x80 not in out:
            return 0, out
        # An extension character, or one outside the alphabet: the general way below.
    elif iso:
        # Dropping what Latin-1 lacks is one C loop; a refusal would cost an exception.
        raw = text.encode("latin-1", "ignore")
        return (4, raw) if len(raw) == len(text) else (8, _utf_16_be(text)[0])
    elif not _GSM_CHARS.issuperset(text):
        return 8, _utf_16_be(text)[0]
    gsm = text.translate(_GSM_ENCODE)
    if gsm.isascii():
        return 0, gsm.encode("ascii")
    return 8, _utf_16_be(text)[0]


def encode_text(text: str, encoding: TextEncoding) -> bytes:
    """Encode ``text`` for the wire.

    :raises ValueError: when the text does not fit the encoding.
    """
    if encoding is TextEncoding.GSM:
        return gsm_encode(text)
    if encoding is TextEncoding.UCS2:
        # UTF-16BE writes non-BMP characters as surrogate pairs, which is what handsets expect.
        return _utf_16_be(text)[0]
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"character {exc.object[exc.start]!r} at position {exc.start} is not in ISO-8859-1"
        ) from None


_LEGACY_8BIT = {
    1: "ascii",
    2: "latin-1",
    3: "latin-1",
    4: "latin-1",
    6: "iso8859-5",
    7: "iso8859-8",
}


def decode_text(data: bytes, data_coding: int) -> str:
    """Decode a ``short_message`` (UDH already removed) by its ``data_coding``. Never fails.

    SMPP 3.4 §5.2.19 values 0-15 are read as SMPP defines them, except that 4 (and 2, "8-bit
    binary") is read as ISO-8859-1 because the provider sends Latin-1 text with 4
    (smscentre.com/api/smpp). Values from 0x10 up follow the GSM data coding scheme (TS 23.038 §4):
    the general group 0x10-0x3F and the class group 0xF0-0xFF name the alphabet in their bits.
    Anything unknown is read as Latin-1 so that no byte is lost.
    """
    if data_coding == 0:
        return gsm_decode(data)
    if data_coding == 8:
        return _ucs2_decode(data)
    alphabet = _dcs_alphabet(data_coding)
    if alphabet == 0:
        return gsm_decode(data)
    if alphabet == 2:
        return _ucs2_decode(data)
    codec = _LEGACY_8BIT.get(data_coding, "latin-1")
    return data.decode(codec, "replace")


def _dcs_alphabet(data_coding: int) -> int:
    """0 GSM, 1 8-bit, 2 UCS-2 for GSM DCS values; 1 for anything else."""
    if 0x10 <= data_coding <= 0x1F:  # general group, uncompressed, with a message class
        alphabet = (data_coding >> 2) & 0x3
        return 1 if alphabet == 3 else alphabet  # 3 is reserved
    if 0xF0 <= data_coding <= 0xFF:  # data coding / message class group
        return 1 if data_coding & 0x04 else 0
    if 0xC0 <= data_coding <= 0xDF:  # message waiting indication, GSM alphabet
        return 0
    if 0xE0 <= data_coding <= 0xEF:  # message waiting indication, UCS-2
        return 2
    return 1


def _ucs2_decode(data: bytes) -> str:
    # A lone surrogate or an odd trailing octet becomes U+FFFD: incoming text never crashes.
    return data.decode("utf-16-be", "replace")


# --- user data header -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserDataHeader:
    """The concatenation facts of a UDH (TS 23.040 §9.2.3.24), plus its raw bytes.

    :ivar reference: the concatenated message's reference (8- or 16-bit).
    :ivar total: how many parts the message has.
    :ivar seq: this part's number, from 1.
    :ivar raw: the whole header including its length octet.
    """

    reference: int | None = None
    total: int | None = None
    seq: int | None = None
    raw: bytes = b""

    @property
    def is_concatenated(self) -> bool:
        """True when the header carries a usable concatenation element."""
        return self.reference is not None and bool(self.total) and bool(self.seq)


def concat_udh(reference: int, total: int, seq: int) -> bytes:
    """The 6-octet concatenation UDH with an 8-bit reference: ``05 00 03 ref total seq``."""
    if not 1 <= seq <= total <= 255:
        raise ValueError(f"part {seq} of {total} is not a valid concatenation (1..255)")
    return bytes((5, 0, 3, reference & 0xFF, total, seq))


def parse_udh(data: bytes) -> tuple[UserDataHeader, bytes]:
    """Split a ``short_message`` sent with UDHI into its header and its payload.

    Walks every information element rather than assuming the header starts ``05 00 03``: IEI 0x00
    (8-bit reference) and 0x08 (16-bit reference) are read, other elements are skipped. A header
    whose length runs past the data is not a header: the data comes back whole.
    """
    if not data:
        return UserDataHeader(), data
    end = 1 + data[0]
    if end > len(data):
        return UserDataHeader(), data
    reference = total = seq = None
    pos = 1
    while pos + 2 <= end:
        iei, length = data[pos], data[pos + 1]
        body = data[pos + 2 : pos + 2 + length]
        if pos + 2 + length > end:
            break
        if iei == 0x00 and length == 3:
            reference, total, seq = body[0], body[1], body[2]
        elif iei == 0x08 and length == 4:
            reference, total, seq = (body[0] << 8) | body[1], body[2], body[3]
        pos += 2 + length
    return UserDataHeader(reference=reference, total=total, seq=seq, raw=data[:end]), data[end:]


# --- splitting ------------------------------------------------------------------------------------


def split_encoded(data: bytes, encoding: TextEncoding) -> tuple[bytes, ...]:
    """Split already-encoded text into the payloads of its parts (no UDH added).

    Text that fits one message comes back as one payload. Otherwise each payload holds at most
    :attr:`TextEncoding.part_limit` units, and a cut never falls between the GSM escape and its
    character, nor between the two halves of a UTF-16 surrogate pair.
    """
    unit = _UNIT[encoding]
    if len(data) <= encoding.single_limit * unit:
        return (data,)
    step = encoding.part_limit * unit
    parts: list[bytes] = []
    start, size = 0, len(data)
    while start < size:
        end = min(start + step, size)
        if end < size:
            if encoding is TextEncoding.GSM:
                # 0x1B only ever starts an escape pair in our encoding, so a part ending in it
                # would split the pair: leave the escape for the next part.
                if data[end - 1] == _ESC:
                    end -= 1
            elif encoding is TextEncoding.UCS2 and 0xD8 <= data[end - 2] <= 0xDB:
                end -= 2  # a high surrogate: keep the pair together
        parts.append(data[start:end])
        start = end
    return tuple(parts)


def split_text(
    text: str, encoding: TextEncoding, *, max_parts: int | None = None
) -> tuple[bytes, ...]:
    """Encode ``text`` and split it into part payloads (see :func:`split_encoded`).

    :param max_parts: cut the text so it takes at most this many parts, as the provider does
        with ``maxsms`` (the cut falls on a character boundary).
    :raises ValueError: when the text does not fit the encoding, or ``max_parts`` < 1.
    """
    parts = split_encoded(encode_text(text, encoding), encoding)
    if max_parts is None or len(parts) <= max_parts:
        return parts
    if max_parts < 1:
        raise ValueError("max_parts must be at least 1")
    if max_parts == 1:
        # One part has no UDH, so it holds the larger single-message amount.
        unit = _UNIT[encoding]
        data = b"".join(parts)[: encoding.single_limit * unit]
        if encoding is TextEncoding.GSM and data[-1] == _ESC:
            data = data[:-1]
        elif encoding is TextEncoding.UCS2 and 0xD8 <= data[-2] <= 0xDB:
            data = data[:-2]
        return (data,)
    return parts[:max_parts]


def truncate_to_parts(text: str, encoding: TextEncoding, max_parts: int) -> str:
    """``text`` cut to what fits in ``max_parts`` parts (the provider's ``maxsms`` behaviour)."""
    parts = split_text(text, encoding, max_parts=max_parts)
    return decode_text(b"".join(parts), encoding.data_coding)


def count_parts(text: str, *, iso: bool = False, encoding: TextEncoding | None = None) -> int:
    """How many SMS parts the provider bills for ``text``.

    Counted in the encoding :func:`choose_encoding` picks (or ``encoding``): GSM septets with
    extension characters counting two, UTF-16 units for UCS-2, octets for Latin-1; 160/70/140
    fit one SMS, beyond that 153/67/134 per part. The comment after ``\\n~~~\\n`` is not billed,
    so count only the text before it. An empty text is one part.
    """
    enc = encoding or choose_encoding(text, iso=iso)
    if enc is TextEncoding.GSM:
        septets = gsm_septets(text)
        if septets is None:
            raise ValueError("text does not fit the GSM alphabet")
        if septets <= 160:
            return 1
    # Exact sizes, including the rule that a cut never splits a pair, come from splitting.
    return len(split_encoded(encode_text(text, enc), enc))
