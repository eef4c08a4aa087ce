"""The public surface: what `smscenter`, `smscenter.http` and `smscenter.smpp` export, and how.

Each package lists a name in up to three places (an eager import or the lazy table, the
TYPE_CHECKING block for lazy names, ``__all__``); these tests read the source and check that the
lists agree, that every listed name resolves, and that each exported class or function says it
comes from the package users import it from.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pickle
import re
import subprocess
import sys
import types
import typing
import warnings
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import smscenter
import smscenter.http
import smscenter.smpp

PACKAGES = ("smscenter", "smscenter.http", "smscenter.smpp")
# Every package users import from: the three above (listed on docs/api.md) and these.
ALL_PACKAGES = (*PACKAGES, "smscenter.webhook", "smscenter.testing", "smscenter.store")


def _isort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def _source(package: str) -> ast.Module:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def _lists(package: str) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """(names imported eagerly as ``X as X``, the lazy table, the TYPE_CHECKING imports)."""
    tree = _source(package)
    eager: set[str] = set()
    typing_only: dict[str, str] = {}
    lazy: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            eager |= {a.name for a in node.names if a.asname == a.name}
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING":
            for sub in node.body:
                assert isinstance(sub, ast.ImportFrom) and sub.module is not None
                for alias in sub.names:
                    assert alias.asname == alias.name, ast.unparse(sub)
                    typing_only[alias.name] = sub.module
        elif isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "_LAZY":
            assert node.value is not None
            lazy = ast.literal_eval(node.value)
    return eager, lazy, typing_only


@pytest.mark.parametrize("package", ALL_PACKAGES)
def test_all_is_sorted_and_is_exactly_the_eager_and_lazy_names(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert isinstance(exported, tuple)
    # Sorted as ruff's RUF022 sorts: CONSTANTS, then Classes, then functions.
    assert list(exported) == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)
    eager, lazy, typing_only = _lists(package)
    assert set(exported) == eager | set(lazy), set(exported) ^ (eager | set(lazy))
    assert not eager & set(lazy)
    # The type checker's view of each lazy name is the module the lazy table loads it from.
    assert typing_only == lazy


@pytest.mark.parametrize("package", ALL_PACKAGES)
def test_every_listed_name_resolves_and_is_in_dir(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
        assert name in dir(module), name
    public = {n for n in dir(module) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(module.__all__), public - set(module.__all__)
    with pytest.raises(AttributeError, match="NoSuchThing"):
        module.NoSuchThing  # noqa: B018


def _home(package: str, name: str) -> str:
    return "smscenter" if name in smscenter.__all__ else package


@pytest.mark.parametrize("package", ALL_PACKAGES)
def test_exported_classes_and_functions_name_their_package(package: str) -> None:
    module = importlib.import_module(package)
    checked = 0
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, (type, types.FunctionType)):
            assert value.__module__ == _home(package, name), (name, value.__module__)
            checked += 1
    assert checked >= 5


def test_the_same_object_under_both_homes() -> None:
    assert smscenter.http.HTTPClient is smscenter.HTTPClient
    assert smscenter.smpp.SMPPPool is smscenter.SMPPPool
    assert smscenter.smpp.SendOutcome is smscenter.SendOutcome
    assert repr(smscenter.Message).endswith("'smscenter.Message'>")
    assert repr(smscenter.smpp.SMPPSession).endswith("'smscenter.smpp.SMPPSession'>")
    assert smscenter.http.PriceZone.__module__ == "smscenter.http"


def test_module_rewrite_keeps_pickling() -> None:
    message = smscenter.Message(to="79990000001", text="hi")
    assert pickle.loads(pickle.dumps(message)) == message
    status = smscenter.MessageStatus.DELIVERED
    assert pickle.loads(pickle.dumps(status)) is status
    balance = smscenter.http.Balance(balance=Decimal("12.50"), currency="RUB")
    assert pickle.loads(pickle.dumps(balance)) == balance
    error = smscenter.InsufficientFundsError(3, "no money", transport=smscenter.Transport.SMPP)
    copy = pickle.loads(pickle.dumps(error))
    assert (
        type(copy) is smscenter.InsufficientFundsError
        and copy.transport is smscenter.Transport.SMPP
    )


def test_top_level_is_about_55_names() -> None:
    names = [n for n in smscenter.__all__ if not n.startswith("_")]
    exceptions = [n for n in names if inspect.isclass(getattr(smscenter, n))
                  and issubclass(getattr(smscenter, n), BaseException)]  # fmt: skip
    assert len(exceptions) == 34  # the whole error tree stays at the top
    assert 50 <= len(names) <= 62, len(names)
    for endpoint_record in ("PriceZone", "MegafonAccount", "StatisticsRow", "SMPPSession"):
        assert endpoint_record not in names


@pytest.mark.parametrize(("name", "home"), sorted(smscenter._MOVED.items()))
def test_moved_names_resolve_with_a_warning_pointing_home(name: str, home: str) -> None:
    assert name not in smscenter.__all__
    assert name not in dir(smscenter)
    with pytest.warns(DeprecationWarning, match=rf"smscenter\.{name} has moved to {home}\.{name}"):
        value = getattr(smscenter, name)
    assert value is getattr(importlib.import_module(home), name)
    assert name in importlib.import_module(home).__all__
    # Every use warns (the name is not cached into the top level).
    with pytest.warns(DeprecationWarning):
        getattr(smscenter, name)


def test_moved_name_warning_points_at_the_caller() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        smscenter.PriceZone  # type: ignore[attr-defined]  # noqa: B018
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


def test_from_import_of_a_moved_name_still_works() -> None:
    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "try:\n    from smscenter import SMPPSession\nexcept DeprecationWarning as e:\n"
        "    print('warned', e)\n"
        "warnings.simplefilter('ignore')\n"
        "from smscenter import SMPPSession, PriceList\n"
        "print(SMPPSession.__module__, PriceList.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0].startswith("warned smscenter.SMPPSession has moved to smscenter.smpp")
    assert out[1] == "smscenter.smpp smscenter.http"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_api_page_lists_every_exported_name(package: str) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text("utf-8")
    section = page.split(f"## `{package}`\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`", section))
    exported = {n for n in importlib.import_module(package).__all__ if not n.startswith("_")}
    assert exported <= listed, exported - listed


def _public_names() -> set[str]:
    return {n for package in PACKAGES for n in importlib.import_module(package).__all__}


@pytest.mark.parametrize(
    "module_name",
    ["smscenter.testing._state", "smscenter.testing._records", "smscenter.testing._formats",
     "smscenter.testing._sending", "smscenter.testing._http_app", "smscenter.testing._smpp_server",
     "smscenter.testing._smpp_knobs", "smscenter.testing._smpp_session",
     "smscenter.testing._smpp_submit", "smscenter.testing._smpp_deliver",
     "smscenter.testing._http_send", "smscenter.testing._http_get",
     "smscenter.testing._http_services", "smscenter.testing._http_phones",
     "smscenter.testing.simulator"],
)  # fmt: skip
def test_the_simulator_reuses_no_public_word(module_name: str) -> None:
    # One word per concept: a simulator class named like a public one (SendOutcome, Contact,
    # DownloadTask...) reads as the same thing in a traceback or a test, and is not.
    module = importlib.import_module(module_name)
    defined = {
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__.startswith("smscenter.testing")
    }
    assert defined, module_name
    assert not defined & _public_names(), defined & _public_names()


def test_the_simulator_download_task_old_name_warns() -> None:
    import smscenter.testing

    with pytest.warns(DeprecationWarning, match="SimDownloadTask"):
        old = smscenter.testing.DownloadTask  # type: ignore[attr-defined]
    assert old is smscenter.testing.SimDownloadTask
    assert "DownloadTask" not in smscenter.testing.__all__
    with pytest.raises(AttributeError, match="NoSuchThing"):
        smscenter.testing.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


# Annotations naming a type their module imports only for the type checker (to avoid an import
# cycle) never resolved at runtime, before or after the __module__ rewrite.
_TYPE_CHECKING_ONLY = {"SMPPOptions", "LateAnswer"}


@pytest.mark.parametrize("package", ALL_PACKAGES)
def test_type_hints_still_resolve_after_the_module_rewrite(package: str) -> None:
    # get_type_hints evaluates string annotations in sys.modules[cls.__module__]: once that is
    # the package, `datetime` or `Decimal` would not be found there (cattrs, FastAPI and
    # attrs.resolve_types all go through it).
    module = importlib.import_module(package)
    classes = [getattr(module, n) for n in module.__all__ if inspect.isclass(getattr(module, n))]
    for cls in classes:
        if cls.__name__ in _TYPE_CHECKING_ONLY:
            continue
        hints = typing.get_type_hints(cls)
        assert not any(isinstance(v, str) for v in hints.values()), cls
        if attrs.has(cls):
            attrs.resolve_types(cls)
    assert typing.get_type_hints(smscenter.DeliveryReport)["changed_at"] == datetime | None


def test_annotations_resolve_module_names_before_class_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from smscenter import _exports

    (tmp_path / "surface_shadow_probe.py").write_text(
        "from __future__ import annotations\n"
        "from datetime import date\n\n\n"
        "class Row:\n"
        "    date: date | None = None  # the field's default shadows the type in the class\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("surface_shadow_probe")
    try:
        _exports.publish("smscenter.http", vars(module), ["Row"])
        assert module.Row.__module__ == "smscenter.http"
        assert typing.get_type_hints(module.Row)["date"] == date | None
    finally:
        sys.modules.pop("surface_shadow_probe", None)
