"""The SMPP benchmark harness at tiny sizes, so it cannot rot: every driver still drives its
client to completion against the responder, and the whole benchmark still prints its tables,
ratios and target verdicts. Numbers are checked for being numbers, never for speed."""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import _breakdown, _peers, bench_smpp
from benchmarks._responder import Responder
from smscenter.config import Limits, SMPPOptions
from smscenter.smpp.pdu import BindTransceiver, DeliverSm, SubmitSm, SubmitSmResp, decode_pdu
from smscenter.smpp.receipts import report_from_deliver_sm


def _read_pdus(sock: socket.socket, count: int) -> list[bytes]:
    data = b""
    pdus: list[bytes] = []
    while len(pdus) < count:
        chunk = sock.recv(65536)
        assert chunk, "the responder closed the connection"
        data += chunk
        while len(data) >= 4 and len(data) >= struct.unpack_from(">I", data)[0]:
            length = struct.unpack_from(">I", data)[0]
            pdus.append(data[:length])
            data = data[length:]
    return pdus


def test_responder_answers_a_batch_with_ids_and_receipts() -> None:
    with Responder(receipts=True) as responder:
        with socket.create_connection((responder.host, responder.port), timeout=10) as sock:
            sock.sendall(BindTransceiver(sequence_number=1, system_id="a", password="b").encode())
            assert decode_pdu(_read_pdus(sock, 1)[0]).command_status == 0
            batch = b"".join(
                SubmitSm(
                    sequence_number=n, destination_addr="79991234567", short_message=b"hi"
                ).encode()
                for n in range(2, 52)
            )
            sock.sendall(batch)
            pdus = [decode_pdu(raw) for raw in _read_pdus(sock, 100)]
        stats = responder.stats()
    resps = [p for p in pdus if isinstance(p, SubmitSmResp)]
    receipts = [p for p in pdus if isinstance(p, DeliverSm)]
    assert [r.sequence_number for r in resps] == list(range(2, 52))
    assert len({r.message_id for r in resps}) == 50
    # Each receipt is the provider's format and names the id of the submit it follows.
    reports = [report_from_deliver_sm(p) for p in receipts]
    assert [r.message_id for r in reports] == [r.message_id for r in resps]
    assert stats["submits"] == 50 and stats["receipts"] == 50 and stats["cpu"] > 0


@pytest.fixture(scope="module")
def responders() -> Iterator[dict[bool, Responder]]:
    with Responder(receipts=False) as plain, Responder(receipts=True) as with_receipts:
        yield {False: plain, True: with_receipts}


@pytest.mark.parametrize("client", sorted(_peers.CLIENTS))
@pytest.mark.parametrize("receipts", [False, True], ids=["submit", "receipts"])
def test_every_driver_completes(
    client: str, receipts: bool, responders: dict[bool, Responder]
) -> None:
    if client in ("smpp34", "smpplib"):
        pytest.importorskip(client)
    responder = responders[receipts]
    before = responder.stats()
    result = _peers.run_config(
        {
            "client": client,
            "loop": "asyncio",
            "port": responder.port,
            "binds": 2,
            "window": 10,
            "count": 60,
            "receipts": receipts,
            "vary_text": receipts,  # both text modes of every driver, at no extra runs
        }
    )
    after = responder.stats()
    assert result["ok"], result
    assert result["messages"] == 60
    assert result["receipts"] == (60 if receipts else 0)
    assert result["elapsed"] > 0 and result["cpu"] >= 0 and result["maxrss_mb"] > 0
    assert after["submits"] - before["submits"] == 60
    assert after["connections"] - before["connections"] == 2
    if receipts:
        assert after["receipts"] - before["receipts"] == 60


def test_benchmark_main_prints_tables_and_targets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "bench.json"
    bench_smpp.main(
        [
            "--quick",  # which changes the defaults, not the counts given here
            "--count",
            "300",
            "--million",
            "3000",
            "--repeat",
            "1",
            "--cells",
            "1:100,1:100:rd",
            "--clients",
            "smscenter,rawpy",
            "--json",
            str(out_file),
        ]
    )
    out = capsys.readouterr().out
    assert "identical texts: 1 bind(s), window 100" in out
    assert "resp + receipt, distinct texts: 1 bind(s), window 100" in out
    assert f"== {bench_smpp.TARGETS_TITLE} ==" in out
    assert "machine before: " in out and "machine after: " in out
    figures = json.loads(out_file.read_text())
    assert len(figures["machine"]["speed_probe_ms"]) == 2
    cells = {(c["receipts"], c["distinct"]): c for c in figures["cells"]}
    assert set(cells) == {(False, False), (True, True)}
    # The distinct-text cells run smscenter and smpp34 only (rawpy is not one of them).
    assert set(cells[True, True]["clients"]) == {"smscenter"}
    assert set(cells[False, False]["clients"]) == {"smscenter", "rawpy"}
    for cell in cells.values():
        for row in cell["clients"].values():
            assert row["ok"], row
            assert row["rate"] > 0 and row["cpu_us"] > 0 and row["maxrss_mb"] > 0
            assert row["server_busy"] >= 0
    assert figures["million"]["ok"] and figures["million"]["messages"] == 3000
    assert figures["settings"]["count"] == 300
    targets = {t["target"]: t for t in figures["targets"]}
    assert len(targets) == 8
    receipt_target = next(t for name, t in targets.items() if "receipt per message" in name)
    assert receipt_target["passed"] is not None  # measured: its cell ran
    assert all(t["passed"] is None for name, t in targets.items() if "smpp34" in name)
    # Every stage of the breakdown was found and measured (an "n/a" means a module moved:
    # update benchmarks/_breakdown.py's STAGES with it).
    stages = figures["breakdown_us"]
    assert len(stages) == len(_breakdown.STAGES)
    assert all(isinstance(cost, float) and cost > 0 for cost in stages.values()), stages
    assert all(figures["breakdown_where"].values())

    # The saved figures render as the markdown tables of docs/performance.md.
    bench_smpp.main(["--render", str(out_file)])
    markdown = capsys.readouterr().out
    assert "| smscenter SMPPPool (asyncio) |" in markdown and "| 1 bind w100 |" in markdown
    assert "distinct texts, with a delivery receipt per message" in markdown
    assert markdown.count("| PASS |") + markdown.count("| FAIL |") + markdown.count("| n/a |") == 8


def test_the_targets_are_issue_10s() -> None:
    ok = {"ok": True, "cpu_us": 10.0}

    def row(rate: float, **extra: float) -> dict[str, object]:
        return {**ok, "rate": rate, **extra}

    table: dict[bench_smpp.Cell, dict[str, dict[str, object]]] = {
        (1, 100, False, True): {"smscenter": row(90_000, cpu_us=11.0), "smpp34": row(40_000)},
        (1, 1000, False, True): {"smscenter": row(70_000), "smpp34": row(40_000)},
        (1, 100, True, True): {"smscenter": row(41_000), "smscenter-uvloop": row(90_000)},
        (1, 100, False, False): {"smscenter": row(95_000), "smpp34": row(45_000)},
        (1, 1000, False, False): {"smscenter": row(84_000), "smpp34": row(40_000)},
    }
    million = {"ok": True, "messages": 1_000_000, "maxrss_mb": 40.0, "rate": 90_000.0}
    verdicts = {n: p for n, p, _ in bench_smpp.check_targets(table, million)}  # type: ignore[arg-type]
    assert list(verdicts.values()) == [True, False, True, True, True, True, False, True]
    # smscenter's figure is the asyncio row's: uvloop's faster run does not count.
    table[1, 100, True, True]["smscenter"] = row(39_000)
    verdicts = {n: p for n, p, _ in bench_smpp.check_targets(table, million)}  # type: ignore[arg-type]
    assert [p for n, p in verdicts.items() if "receipt" in n] == [False]


def test_vary_text_gives_a_fresh_text_per_message() -> None:
    texts = [_peers._text(n, True) for n in range(0, 2_000_000, 997)]
    assert len(set(texts)) == len(texts) and texts[3] == "Your code is 002991"
    assert _peers._text(5, False) == _peers._text(6, False)


def test_python_m_benchmarks_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m benchmarks`` (what ``nox -s bench`` runs) selects and forwards options."""
    from benchmarks.__main__ import main

    assert main(["bogus"]) == 2
    args = ["--count", "200", "--cells", "1:10", "--clients", "rawpy", "--no-million"]
    assert main(["smpp", "--", *args]) == 0
    out = capsys.readouterr().out
    assert "benchmarks.bench_smpp" in out and "rawpy" in out and "window 10" in out


async def test_receipts_refused_for_now_are_redelivered_and_none_is_lost() -> None:
    # A report buffer far smaller than the window: the pool answers "try later"
    # (ESME_RX_T_APPN) to what does not fit, and the responder delivers those again, as an
    # SMSC does. Every receipt still reaches the consumer exactly once per acceptance.
    import anyio

    from smscenter import Credentials, Limits, Message, SMPPPool

    count = 300
    with Responder(receipts=True, uvloop=False) as responder:
        pool = SMPPPool(
            responder.host,
            responder.port,
            Credentials(login="bench", password="pw"),
            limits=Limits(max_rate=None, window=100),
            options=SMPPOptions(report_buffer=5),
        )
        seen: list[str] = []
        async with pool:
            messages = (Message(to=f"7999{n:07d}", text="hi", report=True) for n in range(count))
            accepted = {o.message_id async for o in pool.send_many(messages) if o.ok}
            with anyio.fail_after(30):
                async with pool.reports() as stream:
                    async for report in stream:
                        seen.append(report.message_id)  # type: ignore[union-attr]
                        if len(seen) == count:
                            break
            stats = pool.statistics()
        server = responder.stats()
    assert len(accepted) == count and set(seen) == accepted and len(seen) == count
    assert stats.reports_deferred > 0 and server["redelivered"] >= stats.reports_deferred


def test_the_default_report_buffer_holds_a_window_of_receipts() -> None:
    from smscenter import Credentials, SMPPPool

    creds = Credentials(login="bench", password="pw")
    assert SMPPPool("127.0.0.1", 1, creds)._reports.capacity == 1000
    assert (
        SMPPPool("127.0.0.1", 1, creds, limits=Limits(connections=2, window=1000))._reports.capacity
        == 4000
    )
    assert (
        SMPPPool(
            "127.0.0.1", 1, creds, limits=Limits(window=1000), options=SMPPOptions(report_buffer=7)
        )._reports.capacity
        == 7
    )
