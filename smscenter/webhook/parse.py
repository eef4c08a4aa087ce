"""Turn the provider's callback request into a model event (pure: no web framework needed).

The provider calls one handler URL for three kinds of event (smscentre.com/api/http, "Transmitting
statuses and messages to the Client handler"): a delivery status, an incoming SMS and a call to
confirm a number. This module decodes the request (form POST, ``fmt=2`` XML or ``fmt=3`` JSON body,
any GET parameters after ``!`` in the handler URL), checks the md5/sha1/crc32 control value when a
secret is configured, and builds :class:`~smscenter.models.DeliveryReport`,
:class:`~smscenter.models.IncomingMessage` or :class:`~smscenter.models.CallConfirmation`.

What smscentre.com/api/http leaves open, and what we accept (see also ``docs/webhooks.md``):

* **Charset.** The handler URL's ``charset`` option picks windows-1251 (the default), utf-8 or
  koi8-r. We take the charset from, in order: the ``Content-Type`` ``charset`` parameter, a
  ``charset`` field echoed in the request (the provider POSTs back every option of the handler
  URL, so ``?charset=utf-8`` comes back as a field), else windows-1251. JSON and XML bodies
  without a declared charset are read as UTF-8, falling back to windows-1251 when the bytes are
  not UTF-8 (an XML declaration's ``encoding`` is honoured).
* **Digest form.** md5 and sha1 are compared as hex in either case; crc32 as unsigned decimal,
  signed decimal (PHP ``crc32()`` on 32-bit builds) or hex (with or without leading zeros).
* **Bytes hashed.** The documented string (``id:phone:status:<secret>``...) is hashed as the
  request's charset bytes and as UTF-8; either matching is accepted.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import json
import logging
import math
import re
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Final, Literal, TypeAlias

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring

from smscenter._provider import MOSCOW as MOSCOW
from smscenter._provider import Transport
from smscenter.exceptions import MalformedCallback, SignatureMismatch, ValidationError
from smscenter.models import (
    CallConfirmation,
    CallInfo,
    DeliveryError,
    DeliveryReport,
    HlrInfo,
    IncomingMessage,
    MessageFlags,
    MessageStatus,
    MessageType,
    client_id_of,
)

__all__ = (
    "ALGORITHMS",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_CHARSET",
    "MOSCOW",
    "CallbackEvent",
    "CallbackKind",
    "SignatureAlgorithm",
    "callback_kind",
    "decode_callback",
    "parse_callback",
    "sign_callback",
    "signature_base",
    "verify_signature",
)

logger = logging.getLogger(__name__)

#: What :func:`parse_callback` returns.
CallbackEvent: TypeAlias = DeliveryReport | IncomingMessage | CallConfirmation
#: Which of the three documented payloads a request carries.
CallbackKind: TypeAlias = Literal["status", "incoming", "call"]
#: The control-value algorithms the provider offers (handler URL ``md5=``, ``sha1=``, ``crc32=``).
SignatureAlgorithm: TypeAlias = Literal["md5", "sha1", "crc32"]

#: Every algorithm, strongest first.
ALGORITHMS: Final[tuple[SignatureAlgorithm, ...]] = ("sha1", "md5", "crc32")
#: What is accepted unless you say otherwise: crc32 is a checksum, not a keyed hash (from one
#: genuine callback anyone can compute crc32 values for others), so it is opt-in
#: (``algorithms=ALGORITHMS``, only when the handler URL really uses ``crc32=``).
DEFAULT_ALGORITHMS: Final[tuple[SignatureAlgorithm, ...]] = ("sha1", "md5")
#: The provider's charset when the handler URL names none (smscentre.com/api/http).
DEFAULT_CHARSET: Final = "windows-1251"

# smscentre.com/api/http: the secret may use Latin letters, digits, '-' and '_'.
_SECRET_RE = re.compile(r"[A-Za-z0-9_\-]+")
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
# The documented strings each payload's control value covers (smscentre.com/api/http).
_SIGNED_FIELDS: dict[CallbackKind, tuple[str, ...]] = {
    "status": ("id", "phone", "status"),
    "incoming": ("phone", "mes", "to"),
    "call": ("phone", "ts"),
}
_HEX_RE = re.compile(r"[0-9A-Fa-f]+")
# The provider's message status codes: -3 ... 25 (https://smscentre.com/api/http/, statuses).
_STATUS_CODE_RE = re.compile(r"-?[0-9]{1,2}")
_UNIX_TIME_RE = re.compile(r"[0-9]{1,12}")
# Bounded digit counts: no wire integer is longer, and int() of thousands of digits is refused.
_DEC_RE = re.compile(r"-?[0-9]{1,20}")
_TIME_FORMATS = ("%d.%m.%y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%y %H:%M", "%Y-%m-%d %H:%M:%S")
_MAX_BODY = 1 << 20  # callbacks are a few hundred bytes; refuse to parse megabytes


# --- decoding ----------------------------------------------------------------------------------


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


# --- signatures --------------------------------------------------------------------------------


def callback_kind(fields: Mapping[str, str]) -> CallbackKind:
    """Which payload the fields carry, by the provider's documented rule: ``mes`` present means an
    incoming SMS, ``waitcall`` present means a call confirmation, anything else is a status."""
    if "mes" in fields:
        return "incoming"
    if "waitcall" in fields:
        return "call"
    return "status"


def signature_base(fields: Mapping[str, str], secret: str, kind: CallbackKind | None = None) -> str:
    """The documented string the control value is computed over, e.g. ``id:phone:status:secret``.

    Absent fields count as empty strings.
    """
    kind = kind or callback_kind(fields)
    return ":".join([*(fields.get(name, "") for name in _SIGNED_FIELDS[kind]), secret])


def _digest(algorithm: SignatureAlgorithm, data: bytes) -> str:
    if algorithm == "crc32":
        return f"{zlib.crc32(data):08x}"
    return hashlib.new(algorithm, data).hexdigest()


def _normalize_received(algorithm: SignatureAlgorithm, value: str) -> list[str]:
    """Every canonical (lower-case hex) form the received control value could stand for."""
    value = value.strip()
    if algorithm != "crc32":
        return [value.lower()]
    forms: list[str] = []
    if _DEC_RE.fullmatch(value):
        number = int(value)
        if -(1 << 31) <= number < (1 << 32):
            forms.append(f"{number & 0xFFFFFFFF:08x}")  # unsigned, or PHP's signed 32-bit
    if _HEX_RE.fullmatch(value) and len(value) <= 8:
        forms.append(value.lower().rjust(8, "0"))
    return forms or [value.lower()]


def sign_callback(
    fields: Mapping[str, str],
    secret: str,
    algorithm: SignatureAlgorithm = "md5",
    *,
    charset: str = "utf-8",
) -> str:
    """Compute the control value the provider would send (lower-case hex; crc32 as unsigned
    decimal). Meant for tests and simulators that play the provider.

    :param fields: the callback's fields (the kind is inferred from them).
    :param secret: the secret string from the handler URL.
    :param algorithm: ``"md5"``, ``"sha1"`` or ``"crc32"``.
    :param charset: the charset whose bytes are hashed.
    """
    data = signature_base(fields, secret).encode(_codec(charset) or charset)
    if algorithm == "crc32":
        return str(zlib.crc32(data))
    return _digest(algorithm, data)


def verify_signature(
    fields: Mapping[str, str],
    secret: str,
    *,
    codec: str = "utf-8",
    algorithms: Collection[SignatureAlgorithm] = DEFAULT_ALGORITHMS,
) -> SignatureAlgorithm:
    """Check the callback's md5/sha1/crc32 control value against ``secret``.

    Every accepted algorithm's parameter that is present must match; at least one must be
    present. Comparison is constant-time (:func:`hmac.compare_digest`).

    :param fields: the decoded callback fields (as from :func:`decode_callback`).
    :param secret: the secret string configured in the handler URL.
    :param codec: the request's charset; the string is hashed in it and in UTF-8.
    :param algorithms: which algorithms to accept: sha1 and md5 by default. crc32 is a
        checksum, not a MAC: with one genuine callback an attacker can forge others of the same
        length, so it is accepted only when named (``ALGORITHMS`` or ``("crc32",)``).
    :returns: the algorithm that was verified (the strongest present).
    :raises SignatureMismatch: no accepted control value, or one that does not match.
    :raises MalformedCallback: the control value matches, but a signed field has a form its
        kind does not allow, so the same value could stand for another kind of callback (a
        status's signature replayed as an incoming SMS or a call confirmation).
    :raises ValueError: ``secret`` is not a valid secret string.
    """
    _check_secret(secret)
    accepted = [alg for alg in ALGORITHMS if alg in algorithms]
    if not accepted:
        raise ValidationError("algorithms must include at least one of md5, sha1, crc32")
    present = [alg for alg in accepted if fields.get(alg)]
    if not present:
        others = [alg for alg in ALGORITHMS if fields.get(alg) and alg not in accepted]
        if others:
            raise SignatureMismatch(
                f"callback is signed with {others[0]}, which is not accepted "
                f"(accepted: {', '.join(accepted)}; crc32 must be named in algorithms=)"
            )
        raise SignatureMismatch("callback carries no md5, sha1 or crc32 control value")
    kind = callback_kind(fields)
    base = signature_base(fields, secret, kind)
    encodings = dict.fromkeys([codec, "utf-8"])
    for alg in present:
        received = _normalize_received(alg, fields[alg])
        ok = False
        for encoding in encodings:
            try:
                data = base.encode(encoding)
            except UnicodeEncodeError:
                continue
            expected = _digest(alg, data)
            for form in received:
                # Evaluate every comparison (no short-circuit) to keep timing uniform.
                ok = hmac.compare_digest(form.encode("ascii", "replace"), expected.encode()) | ok
        if not ok:
            raise SignatureMismatch(f"callback {alg} control value does not match the secret")
    # Only now: a forged request fails as a mismatch whatever else is wrong with it.
    _check_bound_to_kind(fields, kind)
    return present[0]


def _check_bound_to_kind(fields: Mapping[str, str], kind: CallbackKind) -> None:
    """Refuse signed fields whose form would let one kind's documented string be read as
    another's.

    The provider's control value does not name the payload kind: a status signed over
    ``id:phone:status`` would verify as an incoming SMS with phone=id, mes=phone, to=status, or
    as a call with phone="id:phone", ts=status. Each kind's signed fields are held to their own
    form (else :class:`MalformedCallback`), which makes the three strings disjoint: no ':'
    inside a signed field but ``mes`` (a call's two fields then cannot cover a three-field
    string, nor the reverse); a status is a status code of one or two digits (``-3`` ...
    ``25``), which an incoming SMS's ``to`` (a phone number) never is; a call's ``ts`` is a
    unix time.
    """
    for name in _SIGNED_FIELDS[kind]:
        value = fields.get(name, "")
        if name != "mes" and ":" in value:
            raise MalformedCallback(f"{kind} callback: signed field {name!r} contains ':'")
    if kind == "status" and not _STATUS_CODE_RE.fullmatch(fields.get("status", "").strip()):
        raise MalformedCallback(
            "status callback: signed field 'status' is not an integer status code (-3 ... 99)"
        )
    if kind == "incoming" and _STATUS_CODE_RE.fullmatch(fields.get("to", "").strip()):
        raise MalformedCallback(
            "incoming callback: signed field 'to' is a status code, not a number"
        )
    if kind == "call" and not _UNIX_TIME_RE.fullmatch(fields.get("ts", "").strip()):
        raise MalformedCallback("call callback: signed field 'ts' is not a unix time")


def _check_secret(secret: str) -> None:
    if not isinstance(secret, str) or not _SECRET_RE.fullmatch(secret):
        raise ValidationError(
            "the callback secret must be non-empty Latin letters, digits, '-' or '_' "
            "(the provider allows nothing else)"
        )


# --- field conversion --------------------------------------------------------------------------


class _Fields:
    """Typed access to the decoded fields; every failure names the field."""

    def __init__(self, fields: Mapping[str, str], kind: CallbackKind, tz: tzinfo) -> None:
        self._fields = fields
        self._kind = kind
        self._tz = tz

    def _fail(self, message: str) -> MalformedCallback:
        return MalformedCallback(f"{self._kind} callback: {message}")

    def text(self, name: str) -> str | None:
        value = self._fields.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def raw(self, name: str) -> str | None:
        """The value untouched (texts keep their whitespace); ``None`` when absent."""
        return self._fields.get(name)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self._fail(f"required field {name!r} is missing or empty")
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not _DEC_RE.fullmatch(value):
            raise self._fail(f"field {name!r} is not an integer: {value[:40]!r}")
        return int(value)

    def seconds(self, name: str) -> int | None:
        """Whole seconds, as ``n``, ``mm:ss`` or ``hh:mm:ss``."""
        value = self.text(name)
        if value is None:
            return None
        if re.fullmatch(r"\d{1,9}", value):
            return int(value)
        if re.fullmatch(r"\d{1,6}(?::\d{1,2}){1,2}", value):
            total = 0
            for piece in value.split(":"):
                total = total * 60 + int(piece)
            return total
        raise self._fail(f"field {name!r} is not a duration in seconds: {value[:40]!r}")

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise self._fail(f"field {name!r} is not a number: {value[:40]!r}") from None
        if not number.is_finite():
            raise self._fail(f"field {name!r} is not a finite number: {value[:40]!r}")
        return number

    def timestamp(self, name: str) -> datetime | None:
        """A unix stamp (aware UTC); a ``DD.MM.YY hh:mm:ss`` text is read in the account's zone."""
        value = self.text(name)
        if value is None:
            return None
        if re.fullmatch(r"\d{1,12}(?:\.\d+)?", value):
            try:
                return datetime.fromtimestamp(float(value), UTC)
            except (OverflowError, OSError, ValueError):
                raise self._fail(f"field {name!r} is out of range: {value[:40]!r}") from None
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=self._tz)
            except ValueError:
                continue
        raise self._fail(
            f"field {name!r} is neither a unix time nor DD.MM.YY hh:mm:ss: {value[:40]!r}"
        )

    def convert(self, name: str, make: Callable[[int], object]) -> object:
        number = self.integer(name)
        if number is None:
            return None
        try:
            return make(number)
        except ValueError as exc:
            raise self._fail(f"field {name!r}: {exc}") from None


def _build_status(f: _Fields) -> DeliveryReport:
    message_id = f.required("id")
    phone = f.required("phone")
    raw_status = f.required("status")
    code = f.integer("status")
    assert code is not None  # required() above guarantees presence
    # Prefer ``ts`` (unambiguous); ``time`` is local to the zone set in the account.
    changed_at = f.timestamp("ts") or f.timestamp("time")
    flag = f.convert("flag", MessageFlags.from_int)
    message_type = f.convert("type", MessageType)
    error = f.convert("err", DeliveryError)
    hlr = HlrInfo(
        imsi=f.text("imsi"),
        msc=f.text("msc"),
        mcc=f.text("mcc"),
        mnc=f.text("mnc"),
        country=f.text("cn"),
        operator=f.text("net"),
        roaming_country=f.text("rcn"),
        roaming_operator=f.text("rnet"),
    )
    call = CallInfo(
        dtmf=f.text("dtmf"),
        menu_keys=f.text("callmenu"),
        call_seconds=f.seconds("calltime"),
        ring_seconds=f.seconds("ringtime"),
    )
    return DeliveryReport(
        message_id=message_id,
        phone=phone,
        status=MessageStatus.from_code(code),
        raw_status=raw_status,
        error=error if isinstance(error, DeliveryError) else DeliveryError.NO_ERROR,
        changed_at=changed_at,
        parts=f.integer("cnt"),
        cost=f.decimal("cost"),
        mcc=hlr.mcc,
        mnc=hlr.mnc,
        country=hlr.country,
        operator=hlr.operator,
        flags=flag if isinstance(flag, MessageFlags) else None,
        message_type=message_type if isinstance(message_type, MessageType) else None,
        hlr=hlr if hlr != HlrInfo() else None,
        call=call if call != CallInfo() else None,
        operator_error=f.text("syserr"),
        sender=f.text("sender"),
        comment=f.raw("cmt") or None,
        client_id=client_id_of(message_id),
        transport=Transport.WEBHOOK,
    )


def _build_incoming(f: _Fields) -> IncomingMessage:
    return IncomingMessage(
        phone=f.required("phone"),
        text=f.raw("mes") or "",
        message_id=f.text("id"),
        to=f.text("to"),
        reply_to_id=f.text("sms_id"),
        smsc=f.text("smsc"),
        sent_at=f.timestamp("sent"),
        received_at=f.timestamp("time"),
        transport=Transport.WEBHOOK,
    )


def _build_call(f: _Fields) -> CallConfirmation:
    phone = f.required("phone")
    called_at = f.timestamp("ts") or f.timestamp("time")
    if called_at is None:
        raise MalformedCallback("call callback: required field 'ts' is missing or empty")
    return CallConfirmation(phone=phone, called_at=called_at, transport=Transport.WEBHOOK)


# --- the entry point ---------------------------------------------------------------------------


def parse_callback(
    body: bytes,
    *,
    content_type: str,
    secret: str | None = None,
    query: str | bytes | Mapping[str, str] | None = None,
    algorithms: Collection[SignatureAlgorithm] = DEFAULT_ALGORITHMS,
    account_tz: tzinfo = MOSCOW,
) -> CallbackEvent:
    """Parse (and, with ``secret``, verify) one callback request from the provider.

    The request is decoded as described in the module docstring, classified by the provider's
    documented rule (``mes`` present: incoming SMS; ``waitcall`` present: call confirmation;
    otherwise a status), verified, then converted. The signature is checked before any field is
    validated, so a forged request fails with :class:`SignatureMismatch` whatever else is wrong with
    it.

    Every event carries :attr:`~smscenter.Transport.WEBHOOK` and an ``event_key``:
    the provider re-sends a callback (every 4 minutes, up to 50 times) until the handler answers
    200 or 404, so drop events whose key you have already processed (see
    :class:`smscenter.webhook.RecentEvents`).

    :param body: the raw request body (empty for a GET carrying everything in ``query``).
    :param content_type: the request's ``Content-Type``: form-urlencoded (the provider's
        default), ``multipart/form-data``, JSON (handler URL ``fmt=3``) or XML (``fmt=2``).
    :param secret: the secret string from the handler URL's ``md5=``/``sha1=``/``crc32=``
        option. When given, a missing or wrong control value raises :class:`SignatureMismatch`.
        ``None`` skips the check (only for handlers reachable by the provider alone).
    :param query: the request's query string (GET parameters put after ``!`` in the handler
        URL), raw or as a mapping; merged under the body's fields.
    :param algorithms: the control-value algorithms to accept (sha1 and md5 by default; the
        weak ``"crc32"`` only when named, see :func:`verify_signature`).
    :param account_tz: the account's time zone, used only for a ``time`` given as
        ``DD.MM.YY hh:mm:ss`` without a ``ts`` stamp. Defaults to Moscow time (the provider's
        default for new accounts).
    :returns: a :class:`~smscenter.models.DeliveryReport`,
        :class:`~smscenter.models.IncomingMessage` or :class:`~smscenter.models.CallConfirmation`.
    :raises SignatureMismatch: ``secret`` given and the control value is missing or wrong.
    :raises MalformedCallback: unknown content type, undecodable body, a required field
        (``id``, ``phone``, ``status``, ``ts``) missing, or a field that should be a number
        and is not. The message says which.
    :raises ValueError: ``secret`` contains characters the provider does not allow.
    """
    if secret is not None:
        _check_secret(secret)
    fields, codec = decode_callback(body, content_type=content_type, query=query)
    kind = callback_kind(fields)
    if secret is not None:
        verify_signature(fields, secret, codec=codec, algorithms=algorithms)
    accessor = _Fields(fields, kind, account_tz)
    event: CallbackEvent
    if kind == "incoming":
        event = _build_incoming(accessor)
    elif kind == "call":
        event = _build_call(accessor)
    else:
        event = _build_status(accessor)
    logger.debug("webhook.parsed kind=%s key=%s", kind, event.event_key)
    return event
