"""smscenter._fastinit and smscenter._cache: the one code generator and the one bounded cache."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from smscenter._cache import BoundedCache
from smscenter._fastinit import define, fast_init, from_fields, positional
from smscenter.models import DeliveryReport, Message, MessageStatus, SendResult
from smscenter.smpp.pdu import SubmitSm


def _upper(value: str) -> str:
    return value.upper()


def test_fast_init_refuses_what_it_would_not_reproduce() -> None:
    @attrs.frozen(kw_only=True)
    class WithValidator:
        a: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen(kw_only=True)
    class WithFactory:
        a: list[int] = attrs.field(factory=list)

    @attrs.frozen
    class Positional:
        a: int

    for cls in (WithValidator, WithFactory):
        with pytest.raises(TypeError, match="not supported"):
            fast_init(cls)
    with pytest.raises(TypeError, match="keyword-only"):
        fast_init(Positional)


def _post_init(self: Any) -> None:
    object.__setattr__(self, "c", (*self.c, self.a))


@attrs.frozen(kw_only=True)
class _Plain:
    a: int
    b: str = attrs.field(default="x", converter=_upper)
    c: tuple[int, ...] = ()
    __attrs_post_init__ = _post_init


@fast_init
@attrs.frozen(kw_only=True)
class _Fast:
    a: int
    b: str = attrs.field(default="x", converter=_upper)
    c: tuple[int, ...] = ()
    __attrs_post_init__ = _post_init


def test_fast_init_matches_attrs() -> None:
    expected = [_Plain(a=1), _Plain(a=2, b="y", c=(5,))]
    got = [_Fast(a=1), _Fast(a=2, b="y", c=(5,))]
    assert [attrs.astuple(v) for v in got] == [attrs.astuple(v) for v in expected]
    assert [attrs.astuple(v) for v in got] == [(1, "X", (1,)), (2, "Y", (5, 2))]
    with pytest.raises(TypeError):
        _Fast(b="y")  # type: ignore[call-arg]  # the required field is still required
    with pytest.raises(TypeError):
        _Fast(1)  # type: ignore[misc]  # keyword-only, as attrs made it
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        got[0].a = 3  # type: ignore[misc]


def test_models_and_pdus_use_the_generated_init() -> None:
    for cls in (Message, SendResult, DeliveryReport, SubmitSm):
        assert cls.__init__.__code__.co_filename.startswith("<smscenter generated")
    # Behaviour kept: converters, post-init canonical ids, defaults.
    assert Message(to="+7 (999) 123-45-67", text="hi").to == ("+79991234567",)
    report = DeliveryReport(message_id="00ab", status=MessageStatus.DELIVERED)
    assert (report.message_id, report.raw_message_id) == ("AB", "00ab")
    pdu = SubmitSm(destination_addr="7999", short_message=b"x")
    assert (pdu.source_addr, pdu.sequence_number, pdu.short_message) == ("", 0, b"x")
    assert pdu == SubmitSm(destination_addr="7999", short_message=b"x")


def test_positional_constructor() -> None:
    make = positional(SendResult)
    result = make("0042", 2)
    assert (result.message_id, result.parts, result.raw_message_id) == ("42", 2, "0042")
    raw = positional(SendResult, post_init=False)("0042")
    assert (raw.message_id, raw.raw_message_id) == ("0042", "")  # post-init skipped
    with pytest.raises(TypeError, match="converters"):
        positional(Message)


def test_positional_constructor_of_converted_values() -> None:
    @attrs.frozen(kw_only=True)
    class Keyed:
        key: str = attrs.field(converter=str)
        size: int = attrs.field(default="5", converter=int)

    make = positional(Keyed, converted=True)
    value = make("k", 3)
    assert type(value) is Keyed and (value.key, value.size) == ("k", 3)
    # The caller's values are taken as converted; a default left out is the converted one.
    assert make(7).key == 7
    assert make("k").size == 5 and make("k") == Keyed(key="k")


def test_define_compiles_one_function() -> None:
    namespace: dict[str, object] = {"K": 3}
    add = define("def add(x):\n    return x + K", namespace, "add")
    assert add(4) == 7
    assert add.__code__.co_filename == "<smscenter generated add>"


def test_bounded_cache_empties_when_full() -> None:
    cache: BoundedCache[int, str] = BoundedCache(3)
    for i in range(3):
        assert cache.put(i, str(i)) == str(i)
    assert dict(cache) == {0: "0", 1: "1", 2: "2"}
    cache.put(3, "3")  # full: emptied first, so it never holds more than 3
    assert dict(cache) == {3: "3"}
    assert cache.get(0) is None and cache.get(3) == "3"
    assert "maxsize=3" in repr(cache)
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_from_fields_rebuilds_a_dict_class_instance() -> None:
    report = DeliveryReport(message_id="0042", status=MessageStatus.DELIVERED, phone="7999")
    fields = dict(report.__dict__, phone="7000")
    again = from_fields(DeliveryReport, fields)
    assert type(again) is DeliveryReport
    assert again == attrs.evolve(report, phone="7000")
    assert (again.message_id, again.raw_message_id) == ("42", "0042")  # as __init__ stored them
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        again.phone = "1"  # type: ignore[misc]


def _must_be_positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be positive")
    return value


@fast_init
@attrs.frozen(kw_only=True)
class _Slotted:
    a: int = attrs.field(converter=_must_be_positive)
    b: str = "x"


def test_slotted_instances_are_filled_through_a_draft_that_never_escapes() -> None:
    import copy
    import pickle
    import weakref

    value = _Slotted(a=1, b="y")
    assert type(value) is _Slotted and value.__class__ is _Slotted
    assert (value.a, value.b) == (1, "y")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.a = 2  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del value.b  # type: ignore[misc]
    assert weakref.ref(value)() is value  # attrs' __weakref__ slot still works
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.copy(value) == value and type(copy.copy(value)) is _Slotted
    # A converter that raises while an existing instance is filled again leaves it as it was:
    # of its class and frozen, never a mutable draft.
    with pytest.raises(ValueError, match="positive"):
        value.__init__(a=0)  # type: ignore[misc]
    assert type(value) is _Slotted and (value.a, value.b) == (1, "y")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.a = 3  # type: ignore[misc]
    # The positional constructor's values are of the class too.
    make = positional(SendResult, post_init=False)
    assert type(make("42")) is SendResult


def test_a_plain_subclass_of_a_fast_class_is_filled_and_stays_frozen() -> None:
    class Child(_Slotted):
        __slots__ = ("extra",)

    child = Child(a=2)
    assert type(child) is Child and (child.a, child.b) == (2, "x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        child.a = 1  # type: ignore[misc]
    message = type("MyMessage", (Message,), {"__slots__": ()})(to="79991234567", text="hi")
    assert type(message).__name__ == "MyMessage" and message.to == ("79991234567",)
