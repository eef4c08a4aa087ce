"""Keep secrets out of errors: their messages, their attributes and every exception chained to
them.

A provider's error text, an SMTP server's refusal or a library's exception can quote the request
that carried the password or API key. Errors are shown, logged and sent to error trackers, which
also walk ``__cause__`` / ``__context__``: a ``raise ... from None`` only hides the context from
the traceback printer, the original exception (and the request it holds) is still attached.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ("scrub_error", "scrub_text")

E = TypeVar("E", bound=BaseException)

#: How many chained exceptions are visited (chains are short; a cycle must not loop).
_MAX_CHAIN = 32
_MASK = "***"


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return text


def scrub_error(error: E, secrets: Iterable[str]) -> E:
    """Scrub ``error`` in place and return it: every secret is masked in the ``args`` and string
    attributes of the error and of the exceptions chained to it (``__cause__``,
    ``__context__``, and exception-valued attributes such as ``UnknownOutcomeError.cause``); a
    context suppressed with ``from None`` is detached, since nothing shows it.

    Raise the result outside an ``except`` block (or with a bare ``raise``), or Python attaches
    the exception being handled as a fresh ``__context__``.
    """
    masks = [s for s in secrets if s]
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if masks:
            current.args = tuple(
                scrub_text(arg, masks) if isinstance(arg, str) else arg for arg in current.args
            )
        for name, value in list(getattr(current, "__dict__", {}).items()):
            if isinstance(value, str) and masks:
                try:
                    setattr(current, name, scrub_text(value, masks))
                except AttributeError:  # pragma: no cover - a read-only attribute
                    pass
            elif isinstance(value, BaseException):
                todo.append(value)
            elif name == "__notes__" and isinstance(value, list) and masks:
                value[:] = [scrub_text(n, masks) if isinstance(n, str) else n for n in value]
        if current.__suppress_context__:
            current.__context__ = None
        todo.extend(x for x in (current.__cause__, current.__context__) if x is not None)
    return error
