"""The one place smscenter generates code: cheaper constructors for hot attrs classes, and the
compile step of the SMPP codec.

Why it exists: attrs' frozen ``__init__`` stores each field through a generic
``object.__setattr__`` call. The SMPP pool builds a few values per message (a PDU, an event, a
``SendResult``, a ``DeliveryReport`` per receipt), and those stores were a large share of the
per-message CPU. The generated constructors store the same values in about half the time:

- :func:`fast_init` (a class decorator, applied on top of ``@attrs.frozen``) replaces
  ``__init__`` with one of the same keyword-only signature, defaults, converters and
  ``__attrs_post_init__``: slotted classes are filled through a draft class (below), dict
  classes fill ``__dict__`` in one assignment.
- :func:`positional` returns a private constructor taking every field positionally, for the
  library's own hot paths that construct a small value (an event) once per PDU.
- :func:`from_fields` makes an instance of a dict class from a complete dict of its fields,
  without running ``__init__``: for values rebuilt from a remembered instance's fields.
- :func:`define` compiles one function from source text. The SMPP codec
  (``smscenter.smpp._codec``) builds its per-PDU encoders and decoders with it.

How a slotted frozen instance is filled: a store through the slot descriptor
(``object.__setattr__`` or ``descriptor.__set__``) is a call through a C wrapper that packs its
arguments in a tuple, several hundred machine instructions per field. Instead the object takes
the stores as an instance of its class's *draft*: a subclass that adds no slots and has the
ordinary ``object.__setattr__`` and ``__delattr__``, so each store is a plain attribute store.
The draft has the same layout as the class, which is what lets CPython change an object's
``__class__``; the generated code sets it to the draft, stores every (already converted) value
and sets it back, with nothing between the two that can raise. A subclass of a decorated class
(a draft is made for the decorated class only) is filled through the descriptors, as before.

Every source text compiled here is built from class definitions (attrs field names, defaults
kept in the namespace, never inlined), never from input data. A class with anything these
generators do not reproduce exactly (validators, factories, non-init fields, aliases,
``__attrs_pre_init__``) is refused with ``TypeError``, so a generated ``__init__`` never
silently behaves differently from attrs' own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs

__all__ = ("define", "draft", "fast_init", "from_fields", "positional")

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type[Any])


def define(source: str, namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    """Compile ``source`` (one ``def``) with ``namespace`` as its globals; return ``name``.

    :param source: the function's text, built from class definitions, never from data.
    :param namespace: the globals it sees (filled with the compiled function too).
    """
    exec(compile(source, f"<smscenter generated {name}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def _checked_fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)
    for f in fields:
        if (
            f.validator is not None
            or not f.init
            or isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]
            or f.alias != f.name
            or (f.converter is not None and not callable(f.converter))
        ):
            raise TypeError(f"{cls.__name__}.{f.name}: not supported by smscenter._fastinit")
    if hasattr(cls, "__attrs_pre_init__"):
        raise TypeError(f"{cls.__name__}: __attrs_pre_init__ is not supported")
    return fields


def _dict_store(names: list[str], values: list[str], ns: dict[str, Any]) -> list[str]:
    # A dict class: the statement storing values[i] into field names[i] of ``self``, at once.
    ns["_osa"] = object.__setattr__
    items = ", ".join(f"{n!r}: {v}" for n, v in zip(names, values, strict=True))
    return [f"    _osa(self, '__dict__', {{{items}}})"]


def _draft_stores(names: list[str], values: list[str], indent: str) -> list[str]:
    # A slotted class whose ``self`` is an instance of its draft (``_DRAFT`` in the namespace):
    # plain stores, then ``self`` becomes a ``_CLS`` again. Nothing here can raise.
    lines = [f"{indent}self.{n} = {v}" for n, v in zip(names, values, strict=True)]
    lines.append(f"{indent}self.__class__ = _CLS")
    return lines


def _has_dict(cls: type[Any]) -> bool:
    # A slotted attrs class has no instance __dict__; a ``slots=False`` one has.
    return any("__dict__" in vars(k) for k in cls.__mro__ if k is not object)


def draft(cls: type[Any], ns: dict[str, Any]) -> None:
    """Put ``cls`` and its draft in ``ns`` as ``_CLS`` and ``_DRAFT`` (module docstring: a
    subclass with no slots of its own and the ordinary ``__setattr__``)."""
    ns["_CLS"] = cls
    ns["_DRAFT"] = type(
        f"{cls.__name__}Draft",
        (cls,),
        {
            "__slots__": (),
            # Both: CPython gives the class the C store (no call per store) only when neither
            # is a Python function (attrs' frozen classes define both).
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": cls.__module__,
        },
    )


def fast_init(cls: _C) -> _C:
    """Class decorator: give an attrs class a cheaper ``__init__`` with the same behaviour.

    Same keyword-only signature, names and defaults; converters are applied (to defaults too,
    computed once: smscenter's converters are pure and its defaults immutable), then
    ``__attrs_post_init__`` runs. Fields must be keyword-only.

    :raises TypeError: the class has something the generated ``__init__`` would not reproduce.
    """
    fields = _checked_fields(cls)
    ns: dict[str, Any] = {}
    params: list[str] = []
    values: list[str] = []
    for f in fields:
        if not f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: fast_init needs keyword-only fields")
        name = f.name
        if f.default is attrs.NOTHING:
            params.append(name)
        else:
            ns[f"_d_{name}"] = f.default
            params.append(f"{name}=_d_{name}")
        if f.converter is None:
            values.append(name)
        elif f.default is attrs.NOTHING:
            ns[f"_c_{name}"] = f.converter
            values.append(f"_c_{name}({name})")
        else:
            ns[f"_c_{name}"] = f.converter
            ns[f"_cd_{name}"] = cast(Callable[[Any], Any], f.converter)(f.default)
            values.append(f"_cd_{name} if {name} is _d_{name} else _c_{name}({name})")
    names = [f.name for f in fields]
    if _has_dict(cls):
        body = _dict_store(names, values, ns)
    else:
        # Converted values first (a converter may raise): then the stores, which cannot.
        body = [f"    _v_{n} = {v}" for n, v in zip(names, values, strict=True) if v != n]
        values = [n if v == n else f"_v_{n}" for n, v in zip(names, values, strict=True)]
        draft(cls, ns)
        ns["_osa"] = object.__setattr__
        body.append("    if type(self) is _CLS:")
        body.append("        _osa(self, '__class__', _DRAFT)")
        body.extend(_draft_stores(names, values, "        "))
        body.append("    else:  # a subclass: through the slot descriptors attrs created")
        for n, v in zip(names, values, strict=True):
            ns[f"_s_{n}"] = cls.__dict__[n].__set__
            body.append(f"        _s_{n}(self, {v})")
    if hasattr(cls, "__attrs_post_init__"):
        body.append("    self.__attrs_post_init__()")
    star = "*, " if params else ""
    source = f"def __init__(self, {star}{', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    init = define(source, ns, "__init__")
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(getattr(cls.__init__, "__annotations__", {}))
    cls.__init__ = init
    return cls


def from_fields(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of ``cls`` (an attrs class with ``slots=False``) whose ``__dict__`` is
    ``fields``, without calling ``__init__``.

    ``fields`` must hold every field, each value what ``__init__`` (converters,
    ``__attrs_post_init__``) would have stored: typically another instance's ``__dict__``
    copied with a few fields changed to values of the same kind. The dict is taken, not copied.
    """
    instance: _T = _new(cls)
    _osa(instance, "__dict__", fields)
    return instance


_new = object.__new__
_osa = object.__setattr__


def positional(
    cls: type[_T], *, post_init: bool = True, converted: bool = False
) -> Callable[..., _T]:
    """A private constructor taking every field positionally, in ``attrs.fields`` order.

    For the library's own hot paths that build a small value with every field at hand (an
    event per PDU): a positional call skips the keyword matching. Converters are not applied:
    a class with converters is refused, unless ``converted=True`` says that every caller
    passes values already converted (as the converter would have returned them); trailing
    fields with a default may be left out. ``__attrs_post_init__`` runs unless
    ``post_init=False``.

    :raises TypeError: the class has converters (and not ``converted``) or something else not
        reproduced here.
    """
    fields = _checked_fields(cls)
    if not converted and any(f.converter is not None for f in fields):
        raise TypeError(f"{cls.__name__} has converters")
    ns: dict[str, Any] = {"_new": object.__new__, "_CLS": cls}
    names = [f.name for f in fields]
    params = list(names)
    for i in range(len(fields) - 1, -1, -1):
        if fields[i].default is attrs.NOTHING:
            break
        default = fields[i].default
        converter = fields[i].converter
        # (converted=True: a default is passed through its converter, as attrs would)
        ns[f"_d_{names[i]}"] = default if converter is None else converter(default)  # type: ignore[operator]
        params[i] = f"{names[i]}=_d_{names[i]}"
    # A new instance of the draft, filled with plain stores, for dict classes too: assigning
    # a whole __dict__ to a new instance costs about twice as much (CPython 3.11 makes its
    # inline attribute values into a dict first, then replaces it).
    draft(cls, ns)
    body = ["    self = _new(_DRAFT)", *_draft_stores(names, names, "    ")]
    if post_init and hasattr(cls, "__attrs_post_init__"):
        body.append("    self.__attrs_post_init__()")
    body.append("    return self")
    source = f"def make({', '.join(params)}):\n" + "\n".join(body)
    make = define(source, ns, "make")
    make.__qualname__ = f"positional({cls.__qualname__})"
    return cast(Callable[..., _T], make)
