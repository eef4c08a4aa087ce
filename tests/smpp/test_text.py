"""Text encodings and segmentation: GSM 03.38 against aiosmpplib, part sizes, UDH."""

from __future__ import annotations

import pytest
from aiosmpplib.codec import GSM7BitCodec
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.smpp.text import (
    GSM_BASIC,
    GSM_EXTENSION,
    TextEncoding,
    choose_encoding,
    concat_udh,
    count_parts,
    decode_text,
    encode_auto,
    encode_text,
    gsm_decode,
    gsm_encode,
    gsm_septets,
    is_gsm,
    parse_udh,
    split_encoded,
    split_text,
    truncate_to_parts,
)

AIO = GSM7BitCodec()
BASIC_CHARS = [c for i, c in enumerate(GSM_BASIC) if i != 0x1B]
EXT_CHARS = list(GSM_EXTENSION.values())
GSM_TEXT = st.text(alphabet=st.sampled_from(BASIC_CHARS + EXT_CHARS), max_size=500)


# --- GSM codec against aiosmpplib -----------------------------------------------------------------


@pytest.mark.parametrize("char", BASIC_CHARS + EXT_CHARS)
def test_gsm_encode_matches_aiosmpplib_per_character(char: str) -> None:
    assert gsm_encode(char) == AIO.encode(char)[0]
    assert gsm_decode(gsm_encode(char)) == char


def test_gsm_tables_cover_exactly_aiosmpplibs() -> None:
    for code in range(128):
        if code == 0x1B:
            continue
        assert gsm_decode(bytes([code])) == AIO.decode(bytes([code]))[0], hex(code)
    for code in GSM_EXTENSION:
        pair = bytes([0x1B, code])
        assert gsm_decode(pair) == AIO.decode(pair)[0], hex(code)
    assert len(BASIC_CHARS) == 127
    assert len(EXT_CHARS) == 10


@settings(max_examples=200)
@given(GSM_TEXT)
def test_gsm_round_trip_and_matches_aiosmpplib(text: str) -> None:
    data = gsm_encode(text)
    assert data == AIO.encode(text)[0]
    assert gsm_decode(data) == text
    assert gsm_septets(text) == len(data)


@pytest.mark.parametrize("text", ["`", "\t", "Привет", "😀", "a\x00"])
def test_gsm_encode_refuses_characters_outside_the_alphabet(text: str) -> None:
    assert not is_gsm(text)
    assert gsm_septets(text) is None
    with pytest.raises(ValueError, match="not in the GSM alphabet"):
        gsm_encode(text)


def test_gsm_decode_is_lenient() -> None:
    assert gsm_decode(b"A\x80B") == "A\ufffdB"
    assert gsm_decode(b"A\x1b") == "A"  # dangling escape dropped
    assert gsm_decode(b"\x1b\x41") == "A"  # unknown escape: the basic character (TS 23.038)
    assert gsm_decode(b"\x1b\x1b") == " "


def test_extension_characters_count_two_septets() -> None:
    assert gsm_septets("€") == 2
    assert gsm_septets("a{b}") == 6
    assert gsm_septets("") == 0


# --- choice of encoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso", "expected"),
    [
        ("Hello", False, TextEncoding.GSM),
        ("Grüße €", False, TextEncoding.GSM),
        ("naïve", False, TextEncoding.UCS2),  # ï is not in GSM 03.38
        ("Привет", False, TextEncoding.UCS2),
        ("😀", False, TextEncoding.UCS2),
        ("naïve", True, TextEncoding.LATIN1),
        ("Hello", True, TextEncoding.LATIN1),
        ("€", True, TextEncoding.UCS2),  # the euro sign is not in ISO-8859-1
    ],
)
def test_choose_encoding(text: str, iso: bool, expected: TextEncoding) -> None:
    assert choose_encoding(text, iso=iso) is expected


# Characters from every class the fast paths tell apart: ASCII in the alphabet and mapped to
# another code, ASCII extension and outside characters, GSM non-ASCII, Latin-1 non-GSM, Cyrillic,
# a non-BMP character.
MIXED = st.text(
    alphabet=st.sampled_from(
        list("aZ09 @$_\n\r!?") + list("^{}\\[]~|\x0c") + list("`\x00\t\x1b\x7f")
        + list("£éÄΔ€ß") + list("ïÿ×") + list("жЁ") + ["😀"]
    ),
    max_size=200,
)  # fmt: skip


def _reference_gsm(text: str) -> bytes | None:
    """Per character from the tables: the septets, or None when one does not fit."""
    ext = {char: code for code, char in GSM_EXTENSION.items()}
    out = bytearray()
    for char in text:
        if char in ext:
            out += bytes((0x1B, ext[char]))
        elif char in BASIC_CHARS:
            out.append(GSM_BASIC.index(char))
        else:
            return None
    return bytes(out)


@settings(max_examples=300)
@given(MIXED, st.booleans())
def test_encode_auto_is_choose_encoding_then_encode_text(text: str, iso: bool) -> None:
    data_coding, data = encode_auto(text, iso)
    encoding = choose_encoding(text, iso=iso)
    assert data_coding == encoding.data_coding
    assert data == encode_text(text, encoding)
    gsm = _reference_gsm(text)
    assert is_gsm(text) is (gsm is not None)
    if not iso:
        assert data == (gsm if gsm is not None else text.encode("utf-16-be"))
    elif all(ord(c) < 256 for c in text):
        assert data == text.encode("latin-1")
    else:
        assert data == text.encode("utf-16-be")


def test_encode_auto_refuses_a_lone_surrogate_as_encode_text_does() -> None:
    for iso in (False, True):
        with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
            encode_auto("ab\ud800", iso)
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        encode_text("ab\ud800", TextEncoding.UCS2)


def test_data_coding_is_coding_times_four() -> None:
    assert [e.data_coding for e in TextEncoding] == [0, 4, 8]


def test_encode_text_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="ISO-8859-1"):
        encode_text("Привет", TextEncoding.LATIN1)
    assert encode_text("😀", TextEncoding.UCS2) == b"\xd8\x3d\xde\x00"


@pytest.mark.parametrize(
    ("data", "dc", "expected"),
    [
        (b"\x00\x1b\x65", 0, "@€"),
        (b"caf\xe9", 3, "café"),
        (b"caf\xe9", 4, "café"),
        (b"\x04\x4f", 8, "я"),
        (b"\xd8\x3d\xde\x00", 8, "😀"),
        (b"\x04\x4f\x00", 8, "я\ufffd"),  # odd octet
        (b"\x00", 0x10, "@"),  # general group, class 0 (flash), GSM
        (b"\x04\x4f", 0x18, "я"),  # flash UCS-2
        (b"caf\xe9", 0x14, "café"),
        (b"\x00", 0xF0, "@"),
        (b"\xe9", 0xF4, "é"),
        (b"Hi", 1, "Hi"),
        (b"\xe9", 0x77, "é"),  # unknown: Latin-1, nothing lost
    ],
)
def test_decode_text(data: bytes, dc: int, expected: str) -> None:
    assert decode_text(data, dc) == expected


# --- part counting (what the provider bills: smsc-http-api.md send.php) ---------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),
        ("я" * 70, 1),
        ("я" * 71, 2),
        ("я" * 134, 2),
        ("я" * 135, 3),
        ("😀" * 35, 1),  # 70 UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_count_parts(text: str, parts: int) -> None:
    assert count_parts(text) == parts


def test_count_parts_latin1() -> None:
    assert count_parts("é" * 140, iso=True) == 1
    assert count_parts("é" * 141, iso=True) == 2
    assert count_parts("é" * 268, iso=True) == 2
    assert count_parts("é" * 269, iso=True) == 3


def test_escape_pair_never_split() -> None:
    text = "a" * 152 + "€" + "b" * 20
    parts = split_text(text, TextEncoding.GSM)
    assert [len(p) for p in parts] == [152, 22]
    assert parts[0][-1] != 0x1B
    assert parts[1][:2] == b"\x1b\x65"


def test_surrogate_pair_never_split() -> None:
    text = "я" * 66 + "😀" + "я" * 10
    parts = split_text(text, TextEncoding.UCS2)
    assert [len(p) for p in parts] == [132, 24]
    assert b"".join(parts).decode("utf-16-be") == text


def test_max_parts_cuts_the_text() -> None:
    text = "x" * 1000
    parts = split_text(text, TextEncoding.GSM, max_parts=2)
    assert [len(p) for p in parts] == [153, 153]
    assert truncate_to_parts(text, TextEncoding.GSM, 1) == "x" * 160
    assert truncate_to_parts("€" * 100, TextEncoding.GSM, 1) == "€" * 80
    assert truncate_to_parts("a" + "€" * 100, TextEncoding.GSM, 1) == "a" + "€" * 79
    assert truncate_to_parts("a" + "😀" * 50, TextEncoding.UCS2, 1) == "a" + "😀" * 34
    assert split_text("short", TextEncoding.GSM, max_parts=1) == (b"short",)
    with pytest.raises(ValueError):
        split_text(text, TextEncoding.GSM, max_parts=0)


ENCODING_TEXTS = {
    TextEncoding.GSM: GSM_TEXT,
    TextEncoding.LATIN1: st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=700
    ),
    TextEncoding.UCS2: st.text(
        alphabet=st.one_of(
            st.sampled_from("яЖ€😀🎉𝄞中"), st.characters(codec="utf-8", exclude_categories=["Cs"])
        ),
        max_size=400,
    ),
}


@pytest.mark.parametrize("encoding", list(TextEncoding))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_split_respects_limits(encoding: TextEncoding, data: st.DataObject) -> None:
    text = data.draw(ENCODING_TEXTS[encoding])
    parts = split_text(text, encoding)
    unit = 2 if encoding is TextEncoding.UCS2 else 1
    if len(parts) == 1:
        assert len(parts[0]) <= encoding.single_limit * unit
    else:
        assert all(0 < len(p) <= encoding.part_limit * unit for p in parts)
        assert len(encode_text(text, encoding)) > encoding.single_limit * unit
    assert decode_text(b"".join(parts), encoding.data_coding) == text
    for part in parts:  # every part decodes on its own: no character was cut in two
        assert encode_text(decode_text(part, encoding.data_coding), encoding) == part
    assert count_parts(text, encoding=encoding) == len(parts)


# --- UDH ------------------------------------------------------------------------------------------


def test_concat_udh() -> None:
    assert concat_udh(0x1A2, 3, 2) == bytes.fromhex("050003a20302")
    with pytest.raises(ValueError):
        concat_udh(1, 2, 3)


@pytest.mark.parametrize(
    ("data", "ref", "total", "seq", "payload"),
    [
        (bytes.fromhex("050003a20302") + b"hi", 0xA2, 3, 2, b"hi"),
        (bytes.fromhex("06080412340201") + b"hi", 0x1234, 2, 1, b"hi"),
        # another IE (application port, IEI 0x05) before the concatenation IE
        (bytes.fromhex("0b05040b8423f00003070201") + b"x", 7, 2, 1, b"x"),
        (bytes.fromhex("0401020304") + b"x", None, None, None, b"x"),  # no concatenation IE
    ],
)
def test_parse_udh(
    data: bytes, ref: int | None, total: int | None, seq: int | None, payload: bytes
) -> None:
    udh, rest = parse_udh(data)
    assert (udh.reference, udh.total, udh.seq, rest) == (ref, total, seq, payload)
    assert udh.is_concatenated is (ref is not None)


@pytest.mark.parametrize("data", [b"", b"\x09\x00\x03", b"\x05\x00\x09\x01\x02\x03"])
def test_parse_udh_malformed_is_not_fatal(data: bytes) -> None:
    udh, rest = parse_udh(data)
    assert not udh.is_concatenated
    assert len(udh.raw) + len(rest) == len(data)


def test_split_encoded_single_and_empty() -> None:
    assert split_encoded(b"", TextEncoding.GSM) == (b"",)
    assert split_encoded(b"a" * 140, TextEncoding.LATIN1) == (b"a" * 140,)


def _reference_gsm_decode(data: bytes) -> str:
    """A slow, obviously-correct decoder: one octet at a time (TS 23.038 §6.2.1)."""
    ext = {GSM_BASIC[code]: char for code, char in GSM_EXTENSION.items()}
    out, i = [], 0
    while i < len(data):
        octet = data[i]
        if octet >= 0x80:
            out.append("\ufffd")
        elif octet != 0x1B:
            out.append(GSM_BASIC[octet])
        elif i + 1 < len(data):
            i += 1
            follower = data[i]
            if follower == 0x1B:
                out.append(" ")
            elif follower >= 0x80:
                out.append("\ufffd")
            else:
                out.append(ext.get(GSM_BASIC[follower], GSM_BASIC[follower]))
        i += 1
    return "".join(out)


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from([0x1B, 0x1B, 0x65, 0x28, 0x41, 0x00, 0x0A, 0x80, 0x7F])
        | st.integers(0, 255),
        max_size=40,
    ).map(bytes)
)
def test_gsm_decode_matches_a_reference_decoder(data: bytes) -> None:
    assert gsm_decode(data) == _reference_gsm_decode(data)
