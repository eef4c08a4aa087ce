"""How the public packages (``smscenter``, ``smscenter.http``, ``smscenter.smpp``) hand out names.

Each package lists its names in ``__all__``; names whose modules pull httpx or anyio are loaded
on first use from a lazy table (name -> module), and the top level also keeps a table of names
that moved to a subpackage, which still resolve with a :class:`DeprecationWarning`.

Every exported class and function gets ``__module__`` set to the package users import it from
(as httpx does), so reprs, docs and pickles say ``smscenter.Message``, not the private module
that defines it. A name exported from the top level belongs to ``smscenter`` even when a
subpackage also exports it.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from collections.abc import Iterable, Mapping

__all__ = ("load", "publish")

_TOP = "smscenter"


def publish(package: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` of each named class or function in ``namespace`` to its package."""
    top = sys.modules.get(_TOP)
    top_names = frozenset(getattr(top, "__all__", ())) if top is not None else frozenset()
    for name in names:
        value = namespace[name]
        if isinstance(value, (type, types.FunctionType)):
            value.__module__ = _TOP if name in top_names else package


def load(
    package: str,
    namespace: dict[str, object],
    name: str,
    lazy: Mapping[str, str],
    moved: Mapping[str, str] | None = None,
) -> object:
    """Resolve a module ``__getattr__`` miss: a lazy name loads (and stays), a moved one warns."""
    module = lazy.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        publish(package, {name: value}, (name,))
        namespace[name] = value
        return value
    home = moved.get(name) if moved is not None else None
    if home is not None:
        # Not cached in the namespace: every use warns, and dir() keeps listing only __all__.
        warnings.warn(
            f"{package}.{name} has moved to {home}.{name}; import it from {home}",
            DeprecationWarning,
            stacklevel=3,
        )
        return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
