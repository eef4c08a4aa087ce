"""Every public class's annotations resolve at runtime: ``typing.get_type_hints`` (and, for
attrs classes, ``attrs.resolve_types``, which cattrs and FastAPI use) must not meet a name that
was imported for the type checker only."""

from __future__ import annotations

import importlib
import inspect
import typing

import attrs
import pytest

PACKAGES = ("smscenter", "smscenter.smpp", "smscenter.http", "smscenter.store")


def _public_classes() -> list[tuple[str, str]]:
    out = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if inspect.isclass(getattr(module, name)):
                out.append((package, name))
    return out


CLASSES = _public_classes()


def test_the_packages_export_classes() -> None:
    # (the parametrised test below would pass vacuously on an empty list)
    assert len(CLASSES) > 60
    assert ("smscenter", "SMPPOptions") in CLASSES and ("smscenter.smpp", "LateAnswer") in CLASSES


@pytest.mark.parametrize(("package", "name"), CLASSES, ids=[f"{p}.{n}" for p, n in CLASSES])
def test_type_hints_resolve(package: str, name: str) -> None:
    cls = getattr(importlib.import_module(package), name)
    hints = typing.get_type_hints(cls)
    assert not any(isinstance(hint, str | typing.ForwardRef) for hint in hints.values())
    if attrs.has(cls):
        attrs.resolve_types(cls)
        assert not any(isinstance(f.type, str) for f in attrs.fields(cls))


def test_options_name_the_late_answer_handler_and_the_policy() -> None:
    from smscenter import Message, ReconcilePolicy, SMPPOptions
    from smscenter.smpp import LateAnswer, LateAnswerHandler

    hints = typing.get_type_hints(SMPPOptions)
    assert hints["on_late_answer"] == LateAnswerHandler | None
    assert hints["resend_unknown"] == bool | ReconcilePolicy
    assert typing.get_type_hints(LateAnswer)["message"] == Message | None
