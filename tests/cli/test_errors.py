"""Every command against a provider that is down: one clear error line and exit status 1.

"Down" is a closed port on 127.0.0.1. The commands run as real processes (``python -m
smscenter``), all started at once: the HTTP ones spend their few seconds in the client's
retry pauses, so running them side by side keeps the whole module to one such wait.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smscenter import exceptions as exc
from smscenter.cli.errors import Target, explain, primary_error

#: verb -> (arguments, the settings its error line must point at)
VERBS: dict[str, tuple[list[str], str]] = {
    "send": (["send", "79991234567", "hi"], "SMSC_BASE_URL"),
    "cost": (["cost", "79991234567", "hi"], "SMSC_BASE_URL"),
    "status": (["status", "17", "79991234567"], "SMSC_BASE_URL"),
    "balance": (["balance"], "SMSC_BASE_URL"),
    "listen": (["listen", "--for", "30"], "SMSC_SMPP_HOST"),
    "listen-http": (["listen", "--via", "http", "--for", "30"], "SMSC_BASE_URL"),
    # (each bulk its own store: at once on the default one, SOURCE.smsc.db, each run's result
    # file would list the records the other has in flight)
    "bulk": (
        ["bulk", "{csv}", "--out", "{out}-smpp.csv", "--store", "{out}-smpp.smsc.db"],
        "SMSC_SMPP_HOST",
    ),
    "bulk-http": (
        ["bulk", "{csv}", "--out", "{out}-http.csv", "--store", "{out}-http.smsc.db"]
        + ["--via", "http"],
        "SMSC_BASE_URL",
    ),
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str, Path]]]:
    """Every verb's (exit status, stderr, result-file stem), run at once against a closed port."""
    if sys.platform == "win32":  # pragma: no cover
        pytest.skip("POSIX process handling")
    tmp = tmp_path_factory.mktemp("down")
    csv = tmp / "in.csv"
    csv.write_text("79990000001,hi\n79990000002,hi\n")
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSC_")}
    env.update(
        SMSC_BASE_URL=f"http://127.0.0.1:{port}",
        SMSC_SMPP_HOST="127.0.0.1",
        SMSC_SMPP_PORT=str(port),
        SMSC_LOGIN="demo",
        SMSC_PASSWORD="Zq8-pass",
        XDG_CONFIG_HOME=str(tmp / "xdg"),
    )
    children = {}
    for verb, (args, _) in VERBS.items():
        argv = [a.format(csv=csv, out=tmp / "out") for a in args]
        children[verb] = subprocess.Popen(
            [sys.executable, "-m", "smscenter", *argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    try:
        for verb, child in children.items():
            _, stderr = child.communicate(timeout=120)
            results[verb] = (child.returncode, stderr, tmp / "out")
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.communicate()
    yield results


@pytest.mark.parametrize("verb", list(VERBS))
def test_each_verb_with_the_server_down_prints_one_clear_line(
    runs: dict[str, tuple[int, str, Path]], verb: str
) -> None:
    code, stderr, _ = runs[verb]
    assert code == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    line = errors[0]
    for bad in ("ExceptionGroup", "TaskGroup", "unexpected", "Traceback"):
        assert bad not in stderr
    # What failed, where, what to check.
    assert "cannot connect" in line and "ConnectError" in line
    assert "127.0.0.1:" in line
    assert VERBS[verb][1] in line
    assert "Zq8-pass" not in stderr


def test_bulk_with_the_server_down_leaves_every_row_to_the_rerun(
    runs: dict[str, tuple[int, str, Path]],
) -> None:
    stem = runs["bulk"][2]
    smpp = Path(f"{stem}-smpp.csv")
    # Over SMPP nothing was handed over: the file holds no row, the rerun sends both.
    assert not smpp.exists() or smpp.read_text().count("\n") <= 1
    # Over HTTP the job stopped at the first connect failure: what it tried is "failed"
    # (sent again by the rerun), nothing is "pending" or "unknown".
    http = Path(f"{stem}-http.csv").read_text()
    finals = {}
    for line in http.splitlines()[1:]:
        cells = line.split(",")
        finals[cells[0]] = cells[2]
    assert set(finals.values()) <= {"failed"}


def test_a_busy_port_stops_simulate_with_one_line(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "smscenter", "simulate", "--http-port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("error:") == 1
    assert f"HTTP port {port}" in done.stderr and "--http-port" in done.stderr
    assert "Traceback" not in done.stderr


def test_primary_error_digs_into_nested_groups() -> None:
    refused = exc.AuthenticationError(13, "ESME_RINVPASWD")
    lost = exc.ConnectError("could not connect to h:1#1: refused", host="h:1#1")
    group = ExceptionGroup("outer", [ExceptionGroup("inner", [RuntimeError("x"), lost])])
    assert primary_error(group) is lost
    assert primary_error(ExceptionGroup("g", [lost, refused])) is refused
    assert primary_error(lost) is lost
    line = explain(lost, Target.smpp("h", 1, tls=True))
    assert line.startswith("cannot connect to the SMPP service at h:1 (TLS): ConnectError: refused")
    line = explain(refused, Target.http("https://smsc.ru"))
    assert "refused the login" in line and "SMSC_LOGIN" in line
