"""Build callback requests the way the provider does (seed 002), independently of the parser.

Signatures here are computed straight from the documented strings with hashlib/zlib, not with
``smscenter.webhook.sign_callback``, so the parser is checked against the seed, not itself.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import zlib
from collections.abc import Mapping
from typing import Literal

SECRET = "s3cret-Key_42"

Kind = Literal["status", "incoming", "call"]
_SIGNED = {"status": ("id", "phone", "status"), "incoming": ("phone", "mes", "to"),
           "call": ("phone", "ts")}  # fmt: skip


def kind_of(fields: Mapping[str, str]) -> Kind:
    if "mes" in fields:
        return "incoming"
    if "waitcall" in fields:
        return "call"
    return "status"


def documented_string(fields: Mapping[str, str], secret: str = SECRET) -> str:
    names = _SIGNED[kind_of(fields)]
    return ":".join([*(fields.get(n, "") for n in names), secret])


def digest(
    fields: Mapping[str, str],
    algorithm: str,
    *,
    secret: str = SECRET,
    encoding: str = "utf-8",
    crc_form: str = "unsigned",
) -> str:
    data = documented_string(fields, secret).encode(encoding)
    if algorithm == "md5":
        return hashlib.md5(data).hexdigest()
    if algorithm == "sha1":
        return hashlib.sha1(data).hexdigest()
    value = zlib.crc32(data)
    if crc_form == "unsigned":
        return str(value)
    if crc_form == "signed":  # PHP crc32() on a 32-bit build
        return str(value - (1 << 32) if value >= (1 << 31) else value)
    return f"{value:x}"


def signed(
    fields: Mapping[str, str],
    algorithm: str = "md5",
    *,
    secret: str = SECRET,
    encoding: str = "utf-8",
    crc_form: str = "unsigned",
) -> dict[str, str]:
    out = dict(fields)
    out[algorithm] = digest(fields, algorithm, secret=secret, encoding=encoding, crc_form=crc_form)
    return out


def form(fields: Mapping[str, str], encoding: str) -> bytes:
    """A form-urlencoded body with text percent-encoded in ``encoding``."""
    return urllib.parse.urlencode(dict(fields), encoding=encoding).encode("ascii")


def as_json(fields: Mapping[str, object]) -> bytes:
    return json.dumps(dict(fields), ensure_ascii=False).encode("utf-8")


def as_xml(fields: Mapping[str, str], encoding: str = "utf-8", root: str = "result") -> bytes:
    from xml.sax.saxutils import escape

    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="{encoding}"?>\n<{root}>{inner}</{root}>'.encode(encoding)


def multipart(fields: Mapping[str, str], boundary: str = "----smsc7MA4YWxkTrZu0gW") -> bytes:
    lines: list[bytes] = []
    for key, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            value.encode("utf-8"),
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines)
