"""Decoding a callback request into its fields: form, multipart, JSON or XML body, plus query.

The provider POSTs a form by default, ``fmt=3`` JSON or ``fmt=2`` XML when the handler URL asks,
and any GET parameters put after ``!`` in the handler URL come as the query
(smscentre.com/api/http, "Transmitting statuses and messages to the Client handler"). The
charset rules (``Content-Type``, an echoed ``charset`` field, else windows-1251) are described
in :mod:`smscenter.webhook.parse`. Bodies are bounded, XML is parsed with defusedxml, and JSON
refuses non-finite numbers.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Final

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring

from smscenter.exceptions import MalformedCallback, ValidationError

#: The provider's charset when the handler URL names none (smscentre.com/api/http).
DEFAULT_CHARSET: Final = "windows-1251"

_CHARSETS = {
    "windows-1251": "cp1251",
    "cp1251": "cp1251",
    "win-1251": "cp1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "koi8-r": "koi8_r",
    "koi8r": "koi8_r",
    "us-ascii": "ascii",
    "ascii": "ascii",
}
_MAX_BODY = 1 << 20  # callbacks are a few hundred bytes; refuse to parse megabytes


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; a=b`` into the lower-cased type and its parameters."""
    head, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for item in rest.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return head.strip().lower(), params


def _codec(charset: str | None) -> str | None:
    """The Python codec for a charset name, or ``None`` when it is not one the provider uses."""
    if charset is None:
        return None
    # Only the provider's three charsets (and plain ASCII): an arbitrary codec name from the
    # request could name a non-text codec (rot13, zlib) or one that decodes anything.
    return _CHARSETS.get(charset.strip().strip('"').lower())


def _split_form(raw: bytes) -> list[tuple[bytes, bytes]]:
    """Split ``application/x-www-form-urlencoded`` bytes into percent-decoded byte pairs.

    Works on bytes so that the charset is applied after percent-decoding (and raw 8-bit bytes,
    which some servers send unescaped, survive).
    """
    pairs: list[tuple[bytes, bytes]] = []
    for chunk in raw.split(b"&"):
        chunk = chunk.strip(b"\r\n")
        if not chunk:
            continue
        key, _, value = chunk.partition(b"=")
        pairs.append(
            (
                urllib.parse.unquote_to_bytes(key.replace(b"+", b" ")),
                urllib.parse.unquote_to_bytes(value.replace(b"+", b" ")),
            )
        )
    return pairs


def _decode_pairs(pairs: Iterable[tuple[bytes, bytes]], codec: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        try:
            name = key.decode(codec)
            text = value.decode(codec)
        except UnicodeDecodeError as exc:
            raise MalformedCallback(f"{where}: field is not valid {codec}: {exc.reason}") from exc
        out.setdefault(name, text)  # the provider sends each field once; keep the first
    return out


def _charset_field(pairs: Iterable[tuple[bytes, bytes]]) -> str | None:
    for key, value in pairs:
        if key == b"charset":
            return value.decode("ascii", "replace")
    return None


def _scalar(value: object) -> str | None:
    """A JSON/XML value as the text the provider would have form-posted."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    return None  # nested objects carry nothing we use


def _decode_text(body: bytes, codec: str | None, where: str) -> str:
    if codec is not None:
        try:
            return body.decode(codec)
        except UnicodeDecodeError as exc:
            raise MalformedCallback(f"{where} body is not valid {codec}: {exc.reason}") from exc
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # The provider's default charset; a body it did not transcode would be in it.
        return body.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise MalformedCallback(f"{where} body is neither utf-8 nor windows-1251") from exc


def _refuse_constant(name: str) -> object:
    # NaN / Infinity are not JSON (RFC 8259 §6); Python's json takes them by default, and an
    # id of "inf" is nothing the provider sends.
    raise ValidationError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 overflows to inf
        raise ValidationError(f"number {text[:40]} is out of range")
    return number


def _parse_json(body: bytes, codec: str | None) -> dict[str, str]:
    text = _decode_text(body, codec, "JSON")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise MalformedCallback(f"JSON body does not parse: {exc}") from exc
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise MalformedCallback(f"JSON body is a {type(data).__name__}, expected an object")
    out: dict[str, str] = {}
    for key, value in data.items():
        text_value = _scalar(value)
        if text_value is not None:
            out[str(key)] = text_value
    for key, value in out.items():
        # A "\ud800" escape decodes to a lone surrogate: no text, and it cannot be encoded to
        # hash, store or log (RFC 8259 §8.2 leaves such strings to the parser).
        if not (key + value).isascii():
            try:
                (key + value).encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedCallback(
                    f"JSON field {key.encode('utf-8', 'backslashreplace')[:40]!r} holds a lone "
                    "surrogate"
                ) from None
    return out


def _parse_xml(body: bytes, codec: str | None) -> dict[str, str]:
    # No DTDs at all: a callback has no use for them. The parser refuses them (and entities,
    # and external references) as expat reads them, so no byte encoding can hide one; a scan
    # of the raw bytes for "<!DOCTYPE" misses UTF-16 without a byte-order mark.
    try:
        if codec is not None:
            parser = DefusedXMLParser(encoding=codec, forbid_dtd=True)
            parser.feed(body)
            root = parser.close()
        elif body.lstrip().startswith(b"<?xml") and b"encoding" in body.split(b"?>", 1)[0]:
            root = defused_fromstring(body, forbid_dtd=True)
        else:
            root = defused_fromstring(_decode_text(body, None, "XML"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise MalformedCallback(f"XML body declares a DTD or entities; refused ({exc})") from exc
    except (ET.ParseError, LookupError, ValueError) as exc:
        raise MalformedCallback(f"XML body does not parse: {exc}") from exc
    out: dict[str, str] = dict(root.attrib)
    # The provider's XML wraps fields as child elements; take every leaf, outermost first, so a
    # wrapper element (``<result><status>...``) changes nothing.
    for element in root.iter():
        if element is root or len(element):
            continue
        out.setdefault(element.tag, (element.text or "").strip())
    return out


def _parse_multipart(body: bytes, content_type: str, codec: str) -> dict[str, str]:
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise MalformedCallback("multipart body has no parts (boundary missing or wrong)")
    out: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        part_codec = _codec(part.get_content_charset()) or codec
        try:
            out.setdefault(name, raw.decode(part_codec))
        except UnicodeDecodeError as exc:
            raise MalformedCallback(f"multipart field {name!r} is not valid {part_codec}") from exc
    return out


def _query_pairs(query: str | bytes) -> list[tuple[bytes, bytes]]:
    if isinstance(query, str):
        query = query.encode("utf-8")
    return _split_form(query.lstrip(b"?"))


def decode_callback(
    body: bytes,
    *,
    content_type: str,
    query: str | bytes | Mapping[str, str] | None = None,
) -> tuple[dict[str, str], str]:
    """Decode a callback request into its parameters, without interpreting them.

    Useful to read your own parameters echoed from the handler URL. Body fields win over query
    parameters of the same name.

    :param body: the raw request body (may be empty for a GET).
    :param content_type: the request's ``Content-Type`` header (may be empty with an empty body).
    :param query: GET parameters: the raw query string (``a=1&b``), or already-decoded pairs.
    :returns: the parameters and the Python codec name of the charset they were decoded with.
    :raises MalformedCallback: unknown content type, undecodable or unparsable body.
    """
    if len(body) > _MAX_BODY:
        raise MalformedCallback(f"callback body is {len(body)} bytes; refusing to parse")
    media, params = _media_type(content_type)
    query_pairs = _query_pairs(query) if isinstance(query, str | bytes) else []
    declared = params.get("charset")
    codec = _codec(declared)
    if declared is not None and codec is None:
        raise MalformedCallback(f"unknown charset {declared!r} in the content type")
    form_pairs: list[tuple[bytes, bytes]] = []
    if body and media in ("application/x-www-form-urlencoded", ""):
        if media == "" and body.lstrip()[:1] in (b"{", b"[", b"<"):
            raise MalformedCallback("callback body has no content type")
        form_pairs = _split_form(body)
    if codec is None:
        echoed = _charset_field(form_pairs) or _charset_field(query_pairs)
        if echoed is None and isinstance(query, Mapping):
            echoed = query.get("charset")
        if echoed is not None:
            codec = _codec(echoed)
            if codec is None:
                raise MalformedCallback(f"unknown charset {echoed!r} in the callback fields")

    fields: dict[str, str]
    if not body:
        fields = {}
    elif media in ("application/x-www-form-urlencoded", ""):
        fields = _decode_pairs(form_pairs, codec or "cp1251", "form")
    elif media in ("application/json", "text/json") or media.endswith("+json"):
        fields = _parse_json(body, codec)
    elif media in ("application/xml", "text/xml") or media.endswith("+xml"):
        fields = _parse_xml(body, codec)
    elif media == "multipart/form-data":
        fields = _parse_multipart(body, content_type, codec or "cp1251")
    else:
        raise MalformedCallback(f"unsupported callback content type {media!r}")

    final_codec = codec or "cp1251"
    if isinstance(query, Mapping):
        for key, value in query.items():
            fields.setdefault(str(key), str(value))
    elif query_pairs:
        for key, value in _decode_pairs(query_pairs, final_codec, "query").items():
            fields.setdefault(key, value)
    return fields, final_codec
