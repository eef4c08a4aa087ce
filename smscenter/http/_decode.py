"""Decoding the provider's HTTP answers: JSON in the charset the answer declares.

The provider answers in windows-1251 unless the request asks otherwise, and names the charset
in ``Content-Type`` (https://smscentre.com/api/http/ : the ``charset`` parameter, "windows-1251
by default"). ``json.loads`` on raw bytes only detects the UTF encodings, so an answer in
windows-1251 with a Russian error text would not parse. Here the body is decoded as declared;
without a usable declaration, as UTF-8, then as windows-1251 (the provider's default).
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Final

__all__ = ("answer_text", "declared_charset", "decode_json")

#: Tried in this order when the answer declares no charset, or one that cannot decode it.
FALLBACK_CHARSETS: Final = ("utf-8", "cp1251")

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


def declared_charset(content_type: str | None) -> str | None:
    """The Python codec named by ``charset=`` in a ``Content-Type`` value (``None``: none, or
    one Python does not know)."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def answer_text(content: bytes, content_type: str | None) -> str:
    """The body as text: in the declared charset, else UTF-8, else windows-1251.

    A byte-order mark wins over everything (it cannot be a mistake); a declared charset that
    cannot decode the bytes is ignored rather than trusted to produce garbage.
    """
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    declared = declared_charset(content_type)
    tried = [declared] if declared is not None else []
    tried += [c for c in FALLBACK_CHARSETS if codecs.lookup(c).name != declared]
    for codec in tried:
        try:
            return content.decode(codec)
        except UnicodeDecodeError:
            continue
    # cp1251 leaves one byte (0x98) undefined: keep the rest readable.
    return content.decode("cp1251", errors="replace")


def decode_json(content: bytes, content_type: str | None) -> Any:
    """Parse an answer body as JSON in its declared charset (see :func:`answer_text`).

    :raises ValueError: the body is not JSON.
    """
    return json.loads(answer_text(content, content_type))
