"""The package's layering rules, as one table checked against every module in the tree.

The module list is derived by walking ``smscenter/`` on disk, so a new module is covered the
day it is added: a new module on the pure side must stay free of I/O, clock, randomness and the
event loop, whatever folder it lands in. The rules:

* **pure**: the protocol cores (``smpp/`` except the anyio client in ``smpp/client/``, the
  HTTP request/response modules, ``webhook/parse``) and what they stand on (models, config,
  exceptions, ids, options, the private helpers) import none of anyio, httpx, socket, ssl,
  time, random, asyncio: not directly (checked statically, function-level imports included)
  and not through anything they import (checked by importing each module in a fresh
  interpreter; a stdlib module importing another one, like ``email.utils`` importing
  ``socket``, is the stdlib's business, not a dependency of ours);
* only ``cli/`` imports ``smscenter.cli``;
* only ``testing/`` and ``cli/`` import ``smscenter.testing`` (the library never needs the
  simulator).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import smscenter

_PKG_DIR = Path(smscenter.__file__).parent
IO_LIBS = ("anyio", "httpx", "socket", "ssl", "time", "random", "asyncio")

# The I/O side: modules that may use sockets, the clock and the event loop. Everything else in
# the tree is on the pure side. A name ending in "." covers the subpackage.
IO_SIDE = (
    "smscenter",  # the top level re-exports the clients
    "smscenter.__main__",
    "smscenter.smtp",
    "smscenter.cli.",
    "smscenter.testing.",
    "smscenter.smpp.client.",
    "smscenter.http",  # the package re-exports HTTPClient
    "smscenter.http.client",
    "smscenter.http._outcome",  # retries and settling around HTTPClient calls
    "smscenter.http._httpx_errors",  # httpx exceptions to ours
    "smscenter.webhook",  # the package re-exports the FastAPI router lazily
    "smscenter.webhook.fastapi",
    "smscenter.fleet",  # fleet mode: Redis (asyncio) and the event loop
    "smscenter.fleet.",
    "smscenter.store.redis",  # RedisStore: a network client
    "smscenter.store._redis_reads",  # its reads: the same client, the event loop
    # the message store's backends: files, threads, the event loop and the process table
    "smscenter.store.sqlite",
    "smscenter.store._sqlite_tx",
    "smscenter.store._sqlite_writer",
    "smscenter.store._sqlite_reads",
    "smscenter.store._sqlite_maintain",
    "smscenter.store._owner",
)
# HTTPClient's call wrappers (``_account_calls`` ...) sit beside the pure ``*_protocol`` ones.
IO_SUFFIXES = ("_calls",)

# Modules that break a rule today, each with the one-line reason and who fixes it. A listed
# module that no longer breaks the rule fails the test (strict xfail), so the list only shrinks;
# an entry whose module is gone is ignored.
KNOWN: dict[tuple[str, str], str] = {}


def _module_names() -> list[str]:
    names = []
    for path in sorted(_PKG_DIR.rglob("*.py")):
        parts = list(path.relative_to(_PKG_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _path_of(module: str) -> Path:
    base = _PKG_DIR.parent.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        module == p or (p.endswith(".") and module.startswith(p)) or module + "." == p
        for p in prefixes
    )


def _is_pure(module: str) -> bool:
    return not _in(module, IO_SIDE) and not module.endswith(IO_SUFFIXES)


def _is_package(module: str) -> bool:
    return _path_of(module).name == "__init__.py"


def _imports(module: str) -> set[str]:
    """Every module name ``module``'s source imports, anywhere in the file (function-level and
    ``TYPE_CHECKING`` imports included), relative imports resolved, with every parent package
    (``from a.b import c`` yields ``a``, ``a.b`` and ``a.b.c``: c may be a module)."""
    tree = ast.parse(_path_of(module).read_text(encoding="utf-8"))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return found


@attrs.frozen
class Rule:
    """One layering rule: the modules it applies to, and the imports they must not make."""

    name: str
    applies: Callable[[str], bool]
    forbidden: tuple[str, ...]
    at_runtime: bool  # also check the whole import graph in a fresh interpreter


RULES = (
    Rule("pure", _is_pure, IO_LIBS, at_runtime=True),
    # ``python -m smscenter`` is the command line's entry point.
    Rule(
        "no-cli",
        lambda m: not _in(m, ("smscenter.cli.", "smscenter.__main__")),
        ("smscenter.cli",),
        False,
    ),
    Rule(
        "no-testing",
        lambda m: not _in(m, ("smscenter.cli.", "smscenter.testing.")),
        ("smscenter.testing",),
        False,
    ),
)

# The script run in a fresh interpreter: each module imported in a forked child whose packages
# are bare stand-ins (smscenter/__init__.py re-exports the HTTP client for users, and the
# rule is about the module's own import graph, not its package's re-exports). A hook on
# __import__ notes who first imports each forbidden module.
_RUNTIME_CHECK = """
import builtins, importlib, json, os, sys, types
root, modules, forbidden = json.loads(sys.argv[1])
out = {}
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        parts = module.split(".")
        for i in range(1, len(parts)):
            pkg = types.ModuleType(".".join(parts[:i]))
            pkg.__path__ = [os.path.join(root, *parts[:i])]
            sys.modules[pkg.__name__] = pkg
        found = []
        real_import = builtins.__import__

        def hook(name, globals=None, locals=None, fromlist=(), level=0):
            top = name.split(".")[0]
            if level == 0 and top in forbidden and top not in sys.modules:
                importer = (globals or {}).get("__name__", "?")
                if importer.split(".")[0] not in sys.stdlib_module_names:
                    found.append(f"{top} (imported by {importer})")
            return real_import(name, globals, locals, fromlist, level)

        builtins.__import__ = hook
        try:
            importlib.import_module(module)
        except BaseException as exc:
            found.append(f"import failed: {type(exc).__name__}: {exc}")
        os.write(write, json.dumps(found).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    out[module] = json.loads(data or b'["the child died"]')
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def runtime_imports() -> dict[str, list[str]]:
    """For every module a runtime rule applies to: the forbidden modules importing it loads."""
    if not hasattr(os, "fork"):
        pytest.skip("the runtime check forks per module (POSIX)")
    modules = [m for m in _module_names() if any(r.at_runtime and r.applies(m) for r in RULES)]
    forbidden = sorted({f for r in RULES if r.at_runtime for f in r.forbidden})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _RUNTIME_CHECK,
            json.dumps([str(_PKG_DIR.parent), modules, forbidden]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def _cases() -> Iterator[object]:
    for rule in RULES:
        for module in _module_names():
            if not rule.applies(module):
                continue
            reason = KNOWN.get((rule.name, module))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(rule, module, id=f"{rule.name}:{module}", marks=marks)


def test_the_tree_has_the_expected_sides() -> None:
    modules = _module_names()
    pure = [m for m in modules if _is_pure(m)]
    assert {"smscenter.smpp.connection", "smscenter.models", "smscenter.config"} <= set(pure)
    assert "smscenter.webhook.parse" in pure and "smscenter.http._protocol" in pure
    assert not any(m.startswith(("smscenter.cli.", "smscenter.testing.")) for m in pure)
    assert not any(m.startswith("smscenter.smpp.client.") for m in pure)
    assert "smscenter.http.client" not in pure and len(pure) > 25


def test_import_scanner_sees_what_a_module_imports() -> None:
    imports = _imports("smscenter.http.client")
    assert {"httpx", "ssl", "smscenter.exceptions"} <= imports
    # Function-level imports count: a lazy import is still a dependency.
    assert "smscenter.cli" in _imports("smscenter.__main__")


@pytest.mark.parametrize(("rule", "module"), list(_cases()))
def test_layering(rule: Rule, module: str, runtime_imports: dict[str, list[str]]) -> None:
    direct = _imports(module)
    broken = sorted(f for f in rule.forbidden if f in direct)
    assert not broken, f"{module} imports {broken} ({rule.name})"
    if rule.at_runtime:
        assert runtime_imports[module] == [], f"importing {module} loads {runtime_imports[module]}"


# --- no module-level state in the core ----------------------------------------------------------

# Module-level containers the core still changes while it works, each with its one-line reason
# and owner. The test fails on any other, and an entry that no longer changes may simply go.
KNOWN_STATE: dict[str, str] = {}


def _find(*candidates: str) -> Any:
    """The first ``module:attribute`` that imports (the layout is being reshaped: new first)."""
    for candidate in candidates:
        module, _, name = candidate.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise LookupError(f"none of {candidates} imports")


def _receipt(seq: int, message_id: str, day: int, minute: int, cost: int) -> bytes:
    """A provider-style receipt deliver_sm (text and TLVs), raw, so that it does not depend on
    how the PDU classes are declared."""
    text = (
        f"id:{message_id} sub:001 dlvrd:001 submit date:2611{day:02d}12{minute:02d} "
        f"done date:2611{day:02d}13{minute:02d} stat:DELIVRD err:000 text:"
    ).encode()

    def tlv(tag: int, value: bytes) -> bytes:
        return struct.pack(">HH", tag, len(value)) + value

    body = (
        b"\0" + b"\x01\x01" + b"79991234567\0" + b"\x05\x00" + b"SMSC\0"
        + b"\x04\x00\x00" + b"\0\0" + b"\x00\x00\x00\x00" + bytes([len(text)]) + text
        + tlv(0x001E, message_id.encode() + b"\0")
        + tlv(0x0427, b"\x02")
        + tlv(0x0423, b"\x03\x00\x00")
        + tlv(0x2000, f" {cost // 10000}.{cost % 10000:04d}\0".encode())
        + tlv(0x2001, bytes([0, cost % 64]))
        + tlv(0x2002, b"\x00\x01")
        + tlv(0x2003, f"25{(cost + cost // 1000 * 500) % 1000:03d}\0".encode())
        + tlv(0x2004, bytes([0, cost % 5]))
    )  # fmt: skip
    return struct.pack(">IIII", 16 + len(body), 0x00000005, 0, seq) + body


def _core_workload(round_: int) -> None:
    """The core's hot paths with values no earlier round used: distinct texts, a mailing to
    new recipients, a window of submits answered with new ids, receipts with new ids, dates,
    costs and TLV tails."""
    message_cls = _find("smscenter:Message")
    builder = _find(
        "smscenter.smpp.submit:SubmitBuilder", "smscenter.smpp._templates:SubmitBuilder"
    )(_find("smscenter.smpp.submit:SubmitOptions", "smscenter.smpp.outgoing:SubmitOptions")())
    base = 1000 * round_
    numbers = [f"7999{base + n:07d}" for n in range(50)]
    mailing = message_cls(to=numbers, text=f"Sale number {round_}")
    bodies = []
    for n in range(50):
        parts = builder.build(
            message_cls(to="79991234567", text=f"Code {base + n:06d}"), "79991234567"
        )
        bodies.extend(p if type(p) is bytes else p.encode()[16:] for p in parts)
        builder.build(mailing, numbers[n])

    conn_cls = _find("smscenter.smpp.connection:SMPPConnection")
    role = _find("smscenter.smpp._state:Role", "smscenter.smpp.connection:Role")
    bind_mode = _find("smscenter.smpp.constants:BindMode")
    esme, smsc = conn_cls(role.ESME, window=100), conn_cls(role.SMSC, window=100)
    esme.send_bind(bind_mode.TRANSCEIVER, system_id="acme", password="pw", deadline=None)
    (request,) = smsc.receive_data(esme.data_to_send())
    smsc.accept_bind(request.pdu, system_id="SMSC")
    esme.receive_data(smsc.data_to_send())
    submit_sm = _find("smscenter.smpp.constants:CommandId").SUBMIT_SM
    if hasattr(esme, "send_encoded"):
        seqs = esme.send_encoded(submit_sm, bodies, deadline=None)
    else:
        seqs = esme.send_submit_bodies(bodies)
    esme.data_to_send()
    answers = b"".join(
        struct.pack(">IIII", 27, 0x80000004, 0, seq) + b"%010d\0" % (base + seq) for seq in seqs
    )
    receipts = b"".join(
        _receipt(1000 + n, f"{base + n:010d}", 10 + round_, n % 60, base + n) for n in range(50)
    )
    events = esme.receive_data(answers + receipts)
    deliveries = [e.pdu for e in events if type(e).__name__ == "DeliverSmReceived"]
    assert len(deliveries) == 50 and esme.in_flight == 0, events[:3]
    try:
        read = _find("smscenter.smpp.receipts:ReceiptReader")().report
    except LookupError:
        read = _find("smscenter.smpp.receipts:report_from_deliver_sm")
    for pdu in deliveries:
        assert read(pdu).message_id
        esme.respond(pdu)
    esme.data_to_send()


def _fingerprint(value: object) -> object:
    """What identifies a container's contents (its items, and one level of nested containers),
    by identity: a cache that gains, loses or replaces an entry changes it."""
    if isinstance(value, dict):
        return tuple(
            (id(k), _fingerprint(v) if isinstance(v, dict | list | set) else id(v))
            for k, v in value.items()
        )
    if isinstance(value, list | set):
        return tuple(id(v) for v in value)
    return None


def _core_state() -> dict[str, object]:
    state: dict[str, object] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("smscenter.") or not _is_pure(name):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, dict | list | set) and not attribute.startswith("__"):
                state[f"{name}.{attribute}"] = _fingerprint(value)
            elif hasattr(value, "cache_info"):  # functools.lru_cache / cache
                state[f"{name}.{attribute}"] = value.cache_info().currsize
    return state


def test_the_core_keeps_no_module_level_state() -> None:
    """Caches belong to objects (a session's builder, framer, receipt reader): two sessions in
    one process never share state. After a first round (lazily built constant tables are
    built then), a second round with new values must leave every module-level container of
    the pure side as it was."""
    _core_workload(0)
    before = _core_state()
    _core_workload(1)
    after = _core_state()
    changed = sorted(k for k in after if before.get(k) != after[k] and k not in KNOWN_STATE)
    assert changed == [], f"module-level state changed while working: {changed}"
