"""The bind's ``system_type`` flags, as the provider reads them (pure).

smscentre.com/api/smpp: ``MCON1`` .. ``MCON9`` (simultaneous binds), ``ISO`` (Latin-1 instead of
GSM 03.38), ``SINGLE`` (a receipt per part), comma-separated.
"""

from __future__ import annotations

import re

import attrs

from smscenter.exceptions import ValidationError

__all__ = ("SystemType",)

# SMPP 3.4 §5.2.4: system_type is a C-octet string of at most 13 octets, NUL included.
_SYSTEM_TYPE_MAX = 12
_MCON_RE = re.compile(r"MCON(\d)", re.IGNORECASE)


@attrs.frozen(kw_only=True)
class SystemType:
    """The bind's ``system_type``, as the provider reads it (smscentre.com/api/smpp).

    :ivar connections: ``MCONn``: allow ``n`` (1..9) simultaneous binds with this login; without
        it a new bind closes the previous one.
    :ivar iso: ``ISO``: text without a national alphabet goes as ISO-8859-1 (data_coding 4)
        instead of GSM 03.38.
    :ivar single: ``SINGLE``: a receipt and a distinct message id for every part of a long
        message, instead of one for the glued message.
    :ivar other: any other comma-separated tokens, kept as written.
    :raises ValueError: ``connections`` outside 1..9, or the rendered value longer than the 12
        characters SMPP 3.4 §5.2.4 allows.
    """

    connections: int | None = None
    iso: bool = False
    single: bool = False
    other: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.connections is not None and (
            isinstance(self.connections, bool) or not 1 <= self.connections <= 9
        ):
            raise ValidationError(f"MCON takes 1..9 connections, got {self.connections!r}")
        for token in self.other:
            if not token or "," in token:
                raise ValidationError(f"system_type token {token!r} must be non-empty, without ','")
        rendered = self.render()
        if len(rendered) > _SYSTEM_TYPE_MAX:
            raise ValidationError(
                f"system_type {rendered!r} is {len(rendered)} characters; SMPP allows at most "
                f"{_SYSTEM_TYPE_MAX}"
            )

    @classmethod
    def parse(cls, value: str) -> SystemType:
        """Read a ``system_type`` such as ``"ISO,SINGLE"`` or ``"mcon2"`` (case-insensitive).

        Unknown tokens are kept in :attr:`other`; ``MCON`` with a number outside 1..9 is kept
        there too rather than refused.
        """
        connections = None
        iso = single = False
        other: list[str] = []
        for raw in value.split(","):
            token = raw.strip()
            if not token:
                continue
            upper = token.upper()
            mcon = _MCON_RE.fullmatch(token)
            if mcon and mcon[1] != "0":
                connections = int(mcon[1])
            elif upper == "ISO":
                iso = True
            elif upper == "SINGLE":
                single = True
            else:
                other.append(token)
        return cls(connections=connections, iso=iso, single=single, other=tuple(other))

    def render(self) -> str:
        """The value for the bind PDU: ``MCONn``, ``ISO``, ``SINGLE``, then the rest, by commas."""
        tokens: list[str] = []
        if self.connections is not None:
            tokens.append(f"MCON{self.connections}")
        if self.iso:
            tokens.append("ISO")
        if self.single:
            tokens.append("SINGLE")
        tokens.extend(self.other)
        return ",".join(tokens)

    def __str__(self) -> str:
        return self.render()
