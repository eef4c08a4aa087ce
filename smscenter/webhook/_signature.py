"""The control value of a callback: which payload a request carries, and its md5/sha1/crc32 digest.

The handler URL's ``md5=``, ``sha1=`` or ``crc32=`` option makes the provider add a control
value over a documented string per payload (``id:phone:status:<secret>`` for a status,
``phone:mes:to:<secret>`` for an incoming SMS, ``phone:ts:<secret>`` for a call;
smscentre.com/api/http). :func:`verify_signature` checks it in constant time, in every digest
form the provider writes, and binds the signed fields to the payload kind.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zlib
from collections.abc import Collection, Mapping
from typing import Final, Literal, TypeAlias

from smscenter.exceptions import MalformedCallback, SignatureMismatch, ValidationError
from smscenter.webhook._body import _codec

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

# smscentre.com/api/http: the secret may use Latin letters, digits, '-' and '_'.
_SECRET_RE = re.compile(r"[A-Za-z0-9_\-]+")
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
