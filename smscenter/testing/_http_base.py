"""Pieces every simulated HTTP handler shares: decoded parameters, answers, the rate gate.

Split from :mod:`smscenter.testing._http_app` so handler modules (``_http_calls``) can use them
without importing the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from smscenter.testing import _state as st
from smscenter.testing._state import SimError

if TYPE_CHECKING:
    from smscenter.testing._http_app import SimulatorApp

__all__ = ("_OK", "_Answer", "_Params", "_limit", "_split_phones")


class _Answer:
    """A successful answer: the JSON value, and plain text for fmt 0 / 1 where implemented."""

    __slots__ = ("json", "plain", "csv", "raw", "raw_type")

    def __init__(
        self,
        json_value: object = None,
        *,
        plain: str | None = None,
        csv: str | None = None,
        raw: bytes | None = None,
        raw_type: str = "text/csv",
    ) -> None:
        self.json = json_value
        self.plain = plain
        self.csv = csv
        self.raw = raw
        self.raw_type = raw_type


_OK = {"result": "OK"}


class _Params:
    """Decoded request parameters with typed accessors that raise error 1 on bad values."""

    def __init__(self, values: dict[str, str], raw: Mapping[str, bytes] | None = None) -> None:
        self.values = values
        #: The undecoded bytes of urlencoded parameters (``bin=1`` carries bytes, not text).
        self.raw: Mapping[str, bytes] = raw or {}

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.values

    def flag(self, key: str) -> bool:
        return self.values.get(key, "0").strip() not in ("", "0")

    def int(
        self, key: str, default: int = 0, *, low: int | None = None, high: int | None = None
    ) -> int:
        raw = self.values.get(key, "").strip()
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SimError(1, f"invalid {key}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise SimError(1, f"invalid {key}")
        return value

    def fingerprint(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.values.items()))


def _limit(app: SimulatorApp, account: st.Account, key: object, limit: int) -> None:
    """The optional per-minute limits of identical requests (``Behaviour.rate_limits``)."""
    if app.state.behaviour.rate_limits and not app.state.hit(account.login, key, limit):
        raise SimError(9, "duplicate request, wait a minute")


def _split_phones(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.replace(";", ",").split(",") if p.strip())
