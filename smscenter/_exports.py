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
import inspect
import sys
import types
import typing
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
        if isinstance(value, type):
            _resolve_annotations(value)
        if isinstance(value, (type, types.FunctionType)):
            value.__module__ = _TOP if name in top_names else package


def _resolve_annotations(cls: type) -> None:
    # A class's string annotations (``from __future__ import annotations``) are evaluated in
    # the namespace of the module ``__module__`` names: once that is the package, names like
    # ``datetime`` would no longer resolve, and ``typing.get_type_hints`` / ``attrs.resolve_types``
    # (cattrs, FastAPI) would fail. So each is evaluated first, where the class was written; one
    # naming a type imported only for the type checker stays a string, as it always failed.
    own = inspect.get_annotations(cls)
    if not any(isinstance(value, str) for value in own.values()):
        return
    module = sys.modules.get(cls.__module__)
    # The module's names first, then the class's, as get_type_hints does for a class (a field
    # named like a type, ``date: date``, must not shadow it).
    first = dict(vars(module)) if module is not None else {}
    then = dict(vars(cls))
    resolved: dict[str, object] = {}
    for key, value in own.items():
        if isinstance(value, str):
            try:
                one = types.SimpleNamespace(__annotations__={key: value})
                value = typing.get_type_hints(one, then, first, include_extras=True)[key]
            except Exception:  # left as written (see above)
                pass
        resolved[key] = value
    cls.__annotations__ = resolved


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
