"""bulk: input formats, the result file, resuming, both transports, a real interruption."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from click.testing import Result
from rich.console import Console

from smscenter import Credentials, HTTPClient, Message
from smscenter.cli.bulk import (
    BulkError,
    Outcome,
    Recipient,
    ResultFile,
    ResultRow,
    plan,
    read_recipients,
)
from smscenter.store import SQLiteStore, TrackedState
from tests.cli.conftest import SECRET, SimThread


def _results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _final(path: Path) -> dict[int, dict[str, str]]:
    return {int(r["row"]): r for r in _results(path)}


# --- input and result file, no network --------------------------------------------------------


def test_read_plain_rows_and_header_with_template_columns() -> None:
    plain = read_recipients(
        io.StringIO("79990000001,Hello\n\n# a comment\n79990000002\n"), template="Hi {phone}"
    )
    assert plain == [
        Recipient(row=1, phone="79990000001", text="Hello"),
        Recipient(row=2, phone="79990000002", text="Hi 79990000002"),
    ]
    named = read_recipients(
        io.StringIO("name,phone,code\nAnna,+79990000003,12\nBoris,+79990000004,34\n"),
        template="{name}, your code is {code}",
    )
    assert [r.text for r in named] == ["Anna, your code is 12", "Boris, your code is 34"]
    assert [r.phone for r in named] == ["+79990000003", "+79990000004"]
    with pytest.raises(BulkError, match="no text"):
        read_recipients(io.StringIO("79990000001\n"), template=None)
    with pytest.raises(BulkError, match="not a column"):
        read_recipients(io.StringIO("phone\n79990000001\n"), template="{missing}")


def test_plan_resumes_by_outcome_and_refuses_another_input(tmp_path: Path) -> None:
    people = [Recipient(row=i, phone=f"7999000000{i}", text="t") for i in range(1, 6)]
    previous = {
        1: ResultRow(row=1, phone="79990000001", outcome=Outcome.SENT, message_id="5"),
        2: ResultRow(row=2, phone="79990000002", outcome=Outcome.UNKNOWN, error="lost"),
        3: ResultRow(row=3, phone="79990000003", outcome=Outcome.PENDING),
        4: ResultRow(row=4, phone="79990000004", outcome=Outcome.FAILED, error="x"),
    }
    careful = plan(people, previous, resend_unknown=False)
    assert [r.row for r in careful.todo] == [4, 5]
    assert (careful.already_sent, careful.skipped_unknown) == (1, 2)
    bold = plan(people, previous, resend_unknown=True)
    assert [r.row for r in bold.todo] == [2, 3, 4, 5]
    other = [Recipient(row=1, phone="79995555555", text="t")]
    with pytest.raises(BulkError, match="does not match"):
        plan(other, previous, resend_unknown=False)


def test_result_file_last_row_wins_and_a_cut_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    results = ResultFile(path)
    results.open()
    results.write(ResultRow(row=1, phone="79990000001", outcome=Outcome.PENDING))
    results.write(
        ResultRow(row=1, phone="79990000001", outcome=Outcome.SENT, message_id="9", parts=2)
    )
    results.close()
    with path.open("a", encoding="utf-8") as file:
        file.write("2,7999000")  # a killed run's half line
    rows = ResultFile(path).read()
    assert rows == {
        1: ResultRow(row=1, phone="79990000001", outcome=Outcome.SENT, message_id="9", parts=2)
    }
    again = ResultFile(path)
    again.open()  # starts on a fresh line after the cut one
    again.write(ResultRow(row=2, phone="79990000002", outcome=Outcome.FAILED, error="e"))
    again.close()
    assert set(ResultFile(path).read()) == {1, 2}
    not_results = tmp_path / "input.csv"
    not_results.write_text("phone,text\n1,2\n")
    with pytest.raises(BulkError, match="not a bulk result file"):
        ResultFile(not_results).read()


# --- against the simulator -----------------------------------------------------------------------


def test_bulk_over_http_writes_one_row_per_message(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "phone,name\n+79990000001,Anna\n+79990000002,Boris\nnot-a-phone,Carl\n+79990000004,Dora\n",
        encoding="utf-8",
    )
    result = run("bulk", str(source), "--via", "http", "--text", "Hi {name}", env=sim_thread.env)
    # One invalid row: the run finishes, exit status 3 says "look at the result file".
    assert result.exit_code == 3, result.output
    out = tmp_path / "people.csv.results.csv"
    rows = _final(out)
    assert {r: rows[r]["outcome"] for r in rows} == {1: "sent", 2: "sent", 3: "failed", 4: "sent"}
    assert "not a phone number" in rows[3]["error"]
    sent = {m.phone: m for m in sim_thread.sim.sent}
    assert sent["79990000002"].text == "Hi Boris"
    assert rows[2]["message_id"] == str(sent["79990000002"].id)
    assert "acknowledged" in result.stdout and "3" in result.stdout

    # Run again: nothing acknowledged is sent twice; the invalid row is tried (and fails) again.
    again = run("bulk", str(source), "--via", "http", "--text", "Hi {name}", env=sim_thread.env)
    assert again.exit_code == 3
    assert "3 already sent" in again.stderr
    assert len(sim_thread.sim.sent) == 3


def test_bulk_resume_skips_unknown_unless_asked(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    phones = [f"7999000{i:04d}" for i in range(1, 7)]
    source = tmp_path / "in.csv"
    source.write_text("".join(f"{p},Code {i}\n" for i, p in enumerate(phones, 1)))
    out = tmp_path / "done.csv"
    out.write_text(
        "row,phone,outcome,message_id,parts,client_id,error\r\n"
        f"1,{phones[0]},pending,,,,\r\n"
        f"1,{phones[0]},sent,77,1,,\r\n"  # acknowledged earlier
        f"2,{phones[1]},unknown,,,,UnknownOutcomeError: no answer\r\n"  # SMPP: no client id
        f"3,{phones[2]},pending,,,,\r\n"  # a killed run: no outcome recorded
        f"4,{phones[3]},failed,,,,ConnectError: refused\r\n"
    )
    first = run("bulk", str(source), "--out", str(out), "--via", "http", env=sim_thread.env)
    assert first.exit_code == 3, first.output  # rows of unknown outcome remain
    assert "1 already sent, 2 of unknown outcome skipped" in first.stderr
    assert sorted(m.phone for m in sim_thread.sim.sent) == sorted(phones[3:])
    rows = _final(out)
    assert [rows[r]["outcome"] for r in range(1, 7)] == [
        "sent", "unknown", "pending", "sent", "sent", "sent",
    ]  # fmt: skip

    second = run(
        "bulk", str(source), "--out", str(out), "--via", "http", "--resend-unknown",
        env=sim_thread.env,
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    assert Counter(m.phone for m in sim_thread.sim.sent) == Counter(phones[1:])
    assert {r["outcome"] for r in _final(out).values()} == {"sent"}


def test_bulk_over_smpp_from_stdin(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    sim_thread.sim.behaviour.smpp.throughput = None  # type: ignore[attr-defined]
    lines = "".join(f"7998{i:07d}\n" for i in range(200))
    out = tmp_path / "smpp.csv"
    result = run(
        "bulk", "-", "--out", str(out), "--text", "Your code is 1234", "--binds", "2",
        "--window", "20", "--rate", "2000", env=sim_thread.env, input=lines,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _final(out)
    assert len(rows) == 200 and {r["outcome"] for r in rows.values()} == {"sent"}
    assert len(sim_thread.sim.sent) == 200
    ids = {r["message_id"] for r in rows.values()}
    assert ids == {str(m.id) for m in sim_thread.sim.sent}
    assert {m.transport for m in sim_thread.sim.sent} == {"smpp"}
    # Binds of the same login need MCONn (seed 003); the pool set it, the simulator kept both.
    assert sim_thread.sim.smpp.counters.kicked["demo"] == 0  # type: ignore[attr-defined]


def test_bulk_needs_out_with_stdin(sim_thread: SimThread, run: Callable[..., Result]) -> None:
    result = run("bulk", "-", "--via", "http", env=sim_thread.env, input="79990000001,hi\n")
    assert result.exit_code == 2 and "--out" in result.output


def test_bulk_bad_credentials_stop_the_job(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("".join(f"7999100{i:04d},hi\n" for i in range(50)))
    env = {**sim_thread.env, "SMSC_PASSWORD": "wrong"}
    result = run("bulk", str(source), "--via", "http", "--concurrency", "2", env=env)
    assert result.exit_code == 1 and "stopped: the provider refused the login" in result.stderr
    assert "AuthenticationError" in result.stderr
    rows = _final(tmp_path / "in.csv.results.csv")
    assert len(rows) < 50  # it stopped early
    assert {r["outcome"] for r in rows.values()} == {"failed"}


async def _send_with_client_id(sim: object, phone: str, client_id: str) -> str:
    async with HTTPClient(Credentials("demo", SECRET), base_url=sim.base_url) as api:  # type: ignore[attr-defined]
        result = await api.send(Message(to=phone, text="Code 2", client_id=client_id))
    return result.message_id


def test_resume_settles_unknown_http_rows_by_client_id(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    phones = [f"7999200{i:04d}" for i in range(1, 5)]
    source = tmp_path / "in.csv"
    source.write_text("".join(f"{p},Code {i}\n" for i, p in enumerate(phones, 1)))
    # Row 2 went out before the earlier run died; row 3 never reached the provider.
    gone_id = sim_thread.portal.call(_send_with_client_id, sim_thread.sim, phones[1], "bfeed-2")
    out = tmp_path / "in.csv.results.csv"
    out.write_text(
        "row,phone,outcome,message_id,parts,client_id,error\r\n"
        f"1,{phones[0]},sent,11,1,bfeed-1,\r\n"
        f"2,{phones[1]},pending,,,bfeed-2,\r\n"
        f"3,{phones[2]},unknown,,,bfeed-3,ResponseTimeout: no answer\r\n"
    )
    result = run("bulk", str(source), "--via", "http", env=sim_thread.env)
    assert result.exit_code == 0, result.output
    assert "settled 2 rows of unknown outcome through status.php: 1 had gone out" in result.stderr
    rows = _final(out)
    assert rows[2]["outcome"] == "sent" and rows[2]["message_id"] == gone_id
    assert {rows[r]["outcome"] for r in (3, 4)} == {"sent"}
    assert rows[4]["client_id"].endswith("-4") and rows[4]["client_id"] != "bfeed-4"
    # Row 2 was not sent again; rows 3 and 4 were sent now, each once.
    assert Counter(m.phone for m in sim_thread.sim.sent) == Counter(phones[1:])


def _unsettled(store_path: Path) -> int:
    """How many records a store has as sent and never answered (what a rerun settles)."""

    async def count() -> int:
        async with SQLiteStore(store_path) as store:
            counts = await store.counts()
        return counts.get(TrackedState.UNKNOWN, 0) + counts.get(TrackedState.SENDING, 0)

    return anyio.run(count, backend="asyncio")


def _start_bulk(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_rows(out: Path, sent: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out.exists() and out.read_text().count(",sent,") >= sent:
            return
        time.sleep(0.02)
    raise AssertionError("the bulk job did not get going")


@pytest.mark.skipif(sys.platform == "win32", reason="signals to a child process")
def test_killed_bulk_resumes_exactly_once(sim_thread: SimThread, tmp_path: Path) -> None:
    """kill -9 mid-run leaves pending rows; the resumed run settles them by client id."""
    sim = sim_thread.sim
    sim.behaviour.latency = 0.05
    phones = [f"7996{i:07d}" for i in range(200)]
    source = tmp_path / "big.csv"
    source.write_text("".join(f"{p}\n" for p in phones))
    out = tmp_path / "big.results.csv"
    args = [sys.executable, "-m", "smscenter", "bulk", str(source), "--out", str(out),
            "--via", "http", "--text", "Sale today", "--concurrency", "4"]  # fmt: skip
    env = {**os.environ, **sim_thread.env}
    child = _start_bulk(args, env)
    try:
        _wait_for_rows(out, 20)
        child.kill()
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    rows = _final(out)
    assert "pending" in {r["outcome"] for r in rows.values()}  # killed with requests in flight
    # The store (beside the source) has the requests that were in flight as unsettled.
    in_flight = _unsettled(tmp_path / "big.csv.smsc.db")

    sim.behaviour.latency = 0
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    if in_flight:  # (a kill between two requests leaves none)
        assert f"settled {in_flight} messages of unknown outcome" in resumed.stderr
    assert Counter(m.phone for m in sim.sent) == Counter(phones)  # each exactly once
    assert {r["outcome"] for r in _final(out).values()} == {"sent"}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_interrupted_bulk_resumes_without_resending(sim_thread: SimThread, tmp_path: Path) -> None:
    sim = sim_thread.sim
    sim.behaviour.latency = 0.02  # slow enough to be interrupted midway
    phones = [f"7997{i:07d}" for i in range(300)]
    source = tmp_path / "big.csv"
    source.write_text("".join(f"{p}\n" for p in phones))
    out = tmp_path / "big.results.csv"
    args = [sys.executable, "-m", "smscenter", "bulk", str(source), "--out", str(out),
            "--via", "http", "--text", "Sale today", "--concurrency", "4"]  # fmt: skip
    env = {**os.environ, **sim_thread.env}
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("sent") >= 40:
                break
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, stderr
    assert "finishing the messages in flight" in stderr
    rows = _final(out)
    assert 40 <= len(rows) < 300
    # Graceful: everything handed over got its outcome; nothing is left pending.
    assert {r["outcome"] for r in rows.values()} == {"sent"}
    assert len(sim.sent) == len(rows)

    sim.behaviour.latency = 0
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(rows)} already sent" in resumed.stderr
    assert Counter(m.phone for m in sim.sent) == Counter(phones)  # each exactly once
    assert {r["outcome"] for r in _final(out).values()} == {"sent"}


def test_progress_line_shows_sent_acknowledged_failed_rate_and_throttling() -> None:
    from smscenter.cli.bulk import BulkProgress
    from smscenter.cli.bulk_cmd import _ProgressView

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    progress = BulkProgress(total=10, sent=8, acknowledged=5, failed=1, unknown=1, invalid=1)
    progress.throttled = lambda: 4
    progress.queued = lambda: 2  # handed to the pool, not written yet
    view = _ProgressView(progress, console, "bulk via smpp")
    assert view.enabled
    with view.ui:
        view.update()
        view.ui.refresh()
    text = out.getvalue()
    assert "8/10" in text  # done (7 outcomes + 1 invalid row) of the total
    for part in ("sent 6", "ack 5", "failed 2", "unknown 1", "/s", "throttled 4"):
        assert part in text
