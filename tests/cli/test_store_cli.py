"""bulk over a message store (the default), and the commands that read one: report,
status --store, listen --store. Real SQLite files, the simulator on real sockets."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import anyio
from click.testing import Result

from smscenter import DeliveryReport, MessageStatus, SendResult, UnknownOutcomeError
from smscenter._provider import Transport
from smscenter.cli.bulk_store import derived_client_id
from smscenter.models import DeliveryError
from smscenter.store import (
    PlannedSend,
    Settlement,
    SQLiteStore,
    TrackedMessage,
    TrackedState,
)
from tests.cli.conftest import SimThread


def _records(path: Path) -> dict[str, TrackedMessage]:
    async def read() -> dict[str, TrackedMessage]:
        async with SQLiteStore(path) as store:
            ids = [r.client_id async for r in store.records()]
            return {cid: await store.get(cid) for cid in ids}

    return anyio.run(read, backend="asyncio")


def _lines(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _accepted(sim_thread: SimThread) -> Counter[str]:
    return Counter(m.phone for m in sim_thread.call(lambda: sim_thread.sim.sent))


# --- client ids -----------------------------------------------------------------------------


def test_derived_client_ids_are_stable_and_valid() -> None:
    assert derived_client_id("/data/Spring sale (v2).csv", 17) == "Spring_sale_v2-17"
    assert derived_client_id("-", 3) == "stdin-3"
    long = derived_client_id("x" * 80 + ".csv", 123456789)
    assert len(long) <= 40 and long.endswith("-123456789")


# --- bulk over a store ----------------------------------------------------------------------


def test_bulk_tracks_every_row_in_a_store_beside_the_source(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "phone,name\n+79990000001,Anna\n+79990000002,Boris\nnot-a-phone,Carl\n+79990000004,Dora\n",
        encoding="utf-8",
    )
    # The provider refuses the first send (error 7: no delivery to that number).
    sim_thread.sim.behaviour.fail_next("send", 7)
    args = ("bulk", str(source), "--via", "http", "--text", "Hi {name}", "--concurrency", "1")
    first = run(*args, env=sim_thread.env)
    assert first.exit_code == 3, first.output
    store = tmp_path / "people.csv.smsc.db"
    assert f"message store: {store} (new)" in first.stderr
    records = _records(store)
    # Row 3 is not a phone: never handed over, so never recorded.
    assert set(records) == {"people-1", "people-2", "people-4"}
    assert records["people-1"].state is TrackedState.REFUSED
    sent = {m.phone: m for m in sim_thread.call(lambda: sim_thread.sim.sent)}
    for cid, phone in (("people-2", "79990000002"), ("people-4", "79990000004")):
        assert records[cid].state is TrackedState.ACCEPTED
        assert records[cid].message_id == str(sent[phone].id)
        assert records[cid].transport is Transport.HTTP
    # The result file is exported from the store: one line per row, in row order.
    lines = _lines(tmp_path / "people.csv.results.csv")
    assert [(r["row"], r["outcome"], r["client_id"]) for r in lines] == [
        ("1", "failed", "people-1"), ("2", "sent", "people-2"),
        ("3", "failed", ""), ("4", "sent", "people-4"),
    ]  # fmt: skip
    assert lines[1]["message_id"] == str(sent["79990000002"].id)

    again = run(*args, env=sim_thread.env)
    assert again.exit_code == 3, again.output
    assert "2 already sent, 0 of unknown outcome skipped, 1 refused earlier skipped" in again.stderr
    assert _accepted(sim_thread) == Counter({"79990000002": 1, "79990000004": 1})
    assert "refused earlier (skipped)" in again.stdout


def test_id_column_duplicates_and_rows_that_moved(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("id,phone\nord-7,79990000011\nord-9,79990000012\n")
    done = run("bulk", str(orders), "--via", "http", "--text", "Shipped", env=sim_thread.env)
    assert done.exit_code == 0, done.output
    assert set(_records(tmp_path / "orders.csv.smsc.db")) == {"ord-7", "ord-9"}

    twice = tmp_path / "twice.csv"
    twice.write_text("id,phone\nx1,79990000021\nx1,79990000022\n")
    result = run("bulk", str(twice), "--via", "http", "--text", "hi", env=sim_thread.env)
    assert result.exit_code == 1 and "rows 1 and 2 have the same client id 'x1'" in result.stderr

    plain = tmp_path / "plain.csv"
    plain.write_text("79990000031\n79990000032\n")
    assert (
        run("bulk", str(plain), "--via", "http", "--text", "hi", env=sim_thread.env).exit_code == 0
    )
    plain.write_text("79990000030\n79990000031\n79990000032\n")  # a row inserted on top
    moved = run("bulk", str(plain), "--via", "http", "--text", "hi", env=sim_thread.env)
    assert moved.exit_code == 1, moved.output
    assert "the message store does not match this input: client id plain-1" in moved.stderr
    assert "79990000030" not in _accepted(sim_thread)


def _seed_unknown(path: Path, client_id: str, phone: str) -> None:
    """A store as a killed SMPP run leaves it: one message written and never answered."""

    async def seed() -> None:
        async with SQLiteStore(path) as store:
            await store.prepare(
                [PlannedSend(client_id=client_id, recipient=phone, transport=Transport.SMPP)]
            )
            lost = UnknownOutcomeError("the link dropped before the answer")
            await store.settle([Settlement.failed(client_id, lost)])

    anyio.run(seed, backend="asyncio")


def test_smpp_rows_of_unknown_outcome_are_skipped_unless_asked(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    sim_thread.sim.behaviour.smpp.throughput = None  # type: ignore[attr-defined]
    phones = [f"7999300{i:04d}" for i in range(1, 21)]
    source = tmp_path / "sale.csv"
    source.write_text("".join(f"{p}\n" for p in phones))
    store = tmp_path / "campaign.db"
    _seed_unknown(store, "sale-3", phones[2])
    args = ("bulk", str(source), "--store", str(store), "--text", "Sale", "--rate", "1000")
    first = run(*args, env=sim_thread.env)
    assert first.exit_code == 3, first.output  # a row of unknown outcome remains
    assert "0 already sent, 1 of unknown outcome skipped" in first.stderr
    assert _accepted(sim_thread) == Counter(p for p in phones if p != phones[2])
    records = _records(store)
    assert records["sale-3"].state is TrackedState.UNKNOWN
    assert {r.state for c, r in records.items() if c != "sale-3"} == {TrackedState.ACCEPTED}
    assert {r.transport for r in records.values()} == {Transport.SMPP}

    second = run(*args, "--resend-unknown", env=sim_thread.env)
    assert second.exit_code == 0, second.output
    assert "19 already sent" in second.stderr
    assert _accepted(sim_thread) == Counter(phones)  # the unknown one sent now, the rest once
    assert _records(store)["sale-3"].state is TrackedState.ACCEPTED
    assert {r["outcome"] for r in _lines(tmp_path / "sale.csv.results.csv")} == {"sent"}


def test_a_result_file_without_a_store_is_resumed_from_the_file(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    source = tmp_path / "old.csv"
    source.write_text("79990000041,hi\n79990000042,hi\n")
    out = tmp_path / "old.csv.results.csv"
    # An earlier run (without a store) sent row 1.
    out.write_text(
        "row,phone,outcome,message_id,parts,client_id,error\r\n1,79990000041,sent,5,1,,\r\n"
    )
    result = run("bulk", str(source), "--via", "http", env=sim_thread.env)
    assert result.exit_code == 0, result.output
    assert "holds a run started without a message store: resuming it from there" in result.stderr
    assert _accepted(sim_thread) == Counter({"79990000042": 1})
    assert not (tmp_path / "old.csv.smsc.db").exists()
    # Naming a store that does not know that run would send row 1 again: refused.
    named = run("bulk", str(source), "--via", "http", "--store", str(tmp_path / "new.db"),
                env=sim_thread.env)  # fmt: skip
    assert named.exit_code == 1 and "resume it with --no-store" in named.stderr
    both = run("bulk", str(source), "--store", "x.db", "--no-store", env=sim_thread.env)
    assert both.exit_code == 2


# --- report and status --store --------------------------------------------------------------


def _campaign_store(path: Path) -> None:
    """Six records through the store protocol the transports use: two delivered (one with
    cost from its receipt), one accepted, one refused, one failed, one of unknown outcome."""

    async def build() -> None:
        now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        async with SQLiteStore(path) as store:
            phones = {f"s{n}": f"7999400000{n}" for n in range(1, 7)}
            await store.prepare(
                [
                    PlannedSend(client_id=c, recipient=p, transport=Transport.SMPP)
                    for c, p in phones.items()
                ]
            )

            def ok(cid: str, mid: str) -> Settlement:
                result = SendResult(message_id=mid, parts=2, cost=Decimal("1.5"))
                return Settlement.accepted(cid, result)

            await store.settle(
                [
                    ok("s1", "101"),
                    ok("s2", "102"),
                    ok("s3", "103"),
                    Settlement.failed("s4", _refused()),
                    Settlement.failed("s5", ConnectionError("never written")),
                    Settlement.failed("s6", UnknownOutcomeError("no answer")),
                ]
            )
            await store.record(
                DeliveryReport(message_id="101", status=MessageStatus.DELIVERED, changed_at=now),
                DeliveryReport(
                    message_id="102",
                    status=MessageStatus.UNDELIVERABLE,
                    error=DeliveryError(1),
                    changed_at=now,
                ),
            )

    anyio.run(build, backend="asyncio")


def _refused() -> Exception:
    from smscenter.exceptions import APIError

    return APIError(7, "invalid number")


def test_report_counts_cost_and_failures(run: Callable[..., Result], tmp_path: Path) -> None:
    store = tmp_path / "c.smsc.db"
    _campaign_store(store)
    result = run("report", "--store", str(store), "--failures", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for state, count in (("accepted", 1), ("delivered", 1), ("undeliverable", 1),
                         ("refused", 1), ("failed", 1), ("unknown", 1)):  # fmt: skip
        assert any(line.split()[:2] == [state, str(count)] for line in out.splitlines()), state
    assert "4.5" in out  # three accepted at 1.5
    assert "failures (first 2 of 4)" in out
    assert "s2" in out and "s4" in out and "s6" not in out  # oldest first, two of them
    assert "invalid number" in out

    data = json.loads(run("report", "--store", str(store), "--json").stdout)
    assert data["total"] == 6 and data["accepted"] == 3 and data["failures"] == 4
    assert data["states"] == {
        "accepted": 1, "delivered": 1, "undeliverable": 1, "refused": 1, "failed": 1,
        "unknown": 1,
    }  # fmt: skip
    assert data["cost"] == "4.5" and data["parts"] == 6
    assert [f["client_id"] for f in data["first_failures"]] == ["s2", "s4", "s5", "s6"]

    missing = run("report", "--store", str(tmp_path / "nope.db"))
    assert missing.exit_code == 1 and "no message store at" in missing.stderr
    assert not (tmp_path / "nope.db").exists()  # a report never creates one


def test_status_store_counts_and_one_record(run: Callable[..., Result], tmp_path: Path) -> None:
    store = tmp_path / "c.smsc.db"
    _campaign_store(store)
    counts = run("status", "--store", str(store))
    assert counts.exit_code == 0, counts.output
    assert "delivered" in counts.stdout and "failures (" not in counts.stdout

    one = run("status", "--store", str(store), "s1")
    assert one.exit_code == 0, one.output
    assert "delivered" in one.stdout and "101" in one.stdout and "reports" in one.stdout
    data = json.loads(run("status", "--store", str(store), "s2", "--json").stdout)
    assert data["state"] == "undeliverable" and data["final"] is True
    assert [r["status"] for r in data["reports"]] == ["undeliverable"]
    assert data["message_id"] == "102" and data["parts"] == 2

    unknown_id = run("status", "--store", str(store), "s99")
    assert unknown_id.exit_code == 1 and "NotTrackedError" in unknown_id.stderr
    assert run("status", "--store", str(store), "s1", "extra").exit_code == 2
    assert run("status").exit_code == 2  # neither a message id and phone nor a store


def test_listen_store_records_the_receipts_of_a_finished_bulk(
    sim_thread: SimThread, run: Callable[..., Result], tmp_path: Path
) -> None:
    sim_thread.sim.behaviour.smpp.throughput = None  # type: ignore[attr-defined]
    source = tmp_path / "news.csv"
    source.write_text("".join(f"7999500{i:04d}\n" for i in range(10)))
    sent = run("bulk", str(source), "--text", "News", "--rate", "1000", env=sim_thread.env)
    assert sent.exit_code == 0, sent.output
    store = tmp_path / "news.csv.smsc.db"
    assert {r.state for r in _records(store).values()} == {TrackedState.ACCEPTED}
    sim_thread.call(sim_thread.sim.advance, 60)  # the operators report back, nobody bound
    heard = run("listen", "--count", "10", "--for", "20", "--store", str(store), env=sim_thread.env)
    assert heard.exit_code == 0, heard.output
    records = _records(store)
    assert {r.state for r in records.values()} == {TrackedState.DELIVERED}
    assert all(r.reports[0].message_id == r.message_id for r in records.values())
    report = run("report", "--store", str(store))
    assert any(line.split()[:2] == ["delivered", "10"] for line in report.stdout.splitlines())
