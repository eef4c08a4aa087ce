"""``bench_smpp --breakdown``: what one message costs in each stage of the pool's path, measured
in isolation (no I/O, no event loop), so that a target miss can be attributed.

The stages follow the package layout: each one names where its code lives and finds it
through a short list of candidate locations (the new layout first, older ones after), so a
module being moved or renamed turns a stage into "n/a (not found: ...)" with the names tried,
never a crash. ``tests/benchmarks/test_bench_smoke.py`` fails on an "n/a", so whoever moves a
hot-path name updates :data:`STAGES` here in the same change.
"""

from __future__ import annotations

import importlib
import itertools
import struct
import timeit
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

__all__ = ("STAGES", "breakdown")

RECIPIENT = "79991234567"
SAME_TEXT = "Your code is 1234. Thank you"  # the identical-text cells' text
ROUND = 100  # messages per connection round: a window's worth written and answered at once
REPEAT = 7


def distinct_text(n: int) -> str:
    """The distinct-text cells' text (as ``benchmarks._peers`` sends it)."""
    return f"Your code is {n:06d}"


class Timed(NamedTuple):
    """What a stage's setup gives: a call to time, the messages one call covers, and where the
    code under test was found."""

    call: Callable[[], object]
    per_call: int
    where: str


class Stage(NamedTuple):
    """One stage: its label (stable across layouts) and its setup."""

    label: str
    setup: Callable[[int], Timed]  # (messages timed per repeat) -> Timed


def find(*candidates: str) -> tuple[Any, str]:
    """The first of ``"module:attribute"`` candidates that imports; (object, its location).

    :raises LookupError: none does (the message lists every one tried).
    """
    for candidate in candidates:
        module, _, attribute = candidate.partition(":")
        try:
            found = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
        return found, f"{module.removeprefix('smscenter.')}"
    raise LookupError("not found: " + ", ".join(candidates))


def _message_cls() -> Any:
    return find("smscenter:Message")[0]


def _builder() -> tuple[Any, str]:
    builder_cls, where = find(
        "smscenter.smpp.submit:SubmitBuilder", "smscenter.smpp._templates:SubmitBuilder"
    )
    options_cls, _ = find(
        "smscenter.smpp.submit:SubmitOptions", "smscenter.smpp.outgoing:SubmitOptions"
    )
    return builder_cls(options_cls()), where


def _bodies(builder: Any, message: Any, recipient: str) -> tuple[bytes, ...]:
    """The encoded submit_sm bodies, from a builder of the new layout (bodies already) or of
    the old one (PDUs, or bytes for a template hit)."""
    parts = builder.build(message, recipient)
    return tuple(p if type(p) is bytes else p.encode()[16:] for p in parts)


def _fresh_messages(count: int) -> Iterator[Any]:
    message_cls = _message_cls()
    return iter([message_cls(to=RECIPIENT, text=distinct_text(n)) for n in range(count)])


# --- the stages -------------------------------------------------------------------------------


def _message(number: int) -> Timed:
    message_cls = _message_cls()
    numbers = itertools.count()
    return Timed(lambda: message_cls(to=RECIPIENT, text=distinct_text(next(numbers))), 1, "models")


def _build_new_text(number: int) -> Timed:
    builder, where = _builder()
    messages = _fresh_messages(number * REPEAT + 10)
    build = builder.build
    if all(type(p) is bytes for p in build(next(messages), RECIPIENT)):
        return Timed(lambda: build(next(messages), RECIPIENT), 1, where)
    # The old layout built PDUs and encoded them at the connection: time both.
    return Timed(lambda: [p.encode() for p in build(next(messages), RECIPIENT)], 1, where)


def _build_same_text(number: int) -> Timed:
    builder, where = _builder()
    numbers = [f"7999{n:07d}" for n in range(100)]
    message = _message_cls()(to=numbers, text=SAME_TEXT)  # a mailing: one text, many numbers
    recipients = itertools.cycle(numbers)
    for _ in range(3):  # whatever a content's first sights cost is not this stage
        _bodies(builder, message, next(recipients))
    # The old layout's bulk path was build_wire (bodies for a cached content).
    build = getattr(builder, "build_wire", builder.build)
    if not all(type(p) is bytes for p in build(message, next(recipients))):
        raise TypeError("the builder gave no bytes for a repeated text")
    return Timed(lambda: build(message, next(recipients)), 1, where)


def _bound_esme(window: int) -> tuple[Any, Any]:
    """A bound ESME core and the command id of submit_sm (a connection pair, no I/O)."""
    conn_cls, _ = find("smscenter.smpp.connection:SMPPConnection")
    role, _ = find("smscenter.smpp._state:Role", "smscenter.smpp.connection:Role")
    bind_mode, _ = find("smscenter.smpp.constants:BindMode")
    try:  # the old layout reported accepted runs only when asked to
        esme = conn_cls(role.ESME, window=window, batch_accepted=True)
    except TypeError:
        esme = conn_cls(role.ESME, window=window)
    smsc = conn_cls(role.SMSC, window=window)
    esme.send_bind(bind_mode.TRANSCEIVER, system_id="bench", password="pw", deadline=None)
    (request,) = smsc.receive_data(esme.data_to_send())
    smsc.accept_bind(request.pdu, system_id="SMSC")
    esme.receive_data(smsc.data_to_send())
    return esme, find("smscenter.smpp.constants:CommandId")[0].SUBMIT_SM


def _connection_round(number: int) -> Timed:
    """A window's worth of bodies written through the connection's one request path and their
    accepted responses read back (window, sequence numbers, framing, the accepted-run scan)."""
    builder, _ = _builder()
    message = _message_cls()(to=RECIPIENT, text=SAME_TEXT)
    bodies = [_bodies(builder, message, RECIPIENT)[0]] * ROUND
    esme, submit_sm = _bound_esme(ROUND)
    send_encoded = getattr(esme, "send_encoded", None)
    if send_encoded is not None:
        where = "smpp.connection (send_encoded)"

        def write() -> list[int]:
            seqs: list[int] = send_encoded(submit_sm, bodies, deadline=None)
            return seqs
    else:
        where = "smpp.connection (send_submit_bodies)"

        def write() -> list[int]:
            seqs: list[int] = esme.send_submit_bodies(bodies)
            return seqs

    header = struct.Struct(">IIII")
    body = b"1000000001\0"

    def answers(seqs: list[int]) -> bytes:
        return b"".join(header.pack(16 + len(body), 0x80000004, 0, s) + body for s in seqs)

    # The answers of each round are made before the clock runs (the sequence numbers are
    # predictable: one allocator, counting up); a round that gets others does not settle.
    first = write()
    esme.data_to_send()
    esme.receive_data(answers(first))
    rounds = [
        answers(list(range(first[-1] + 1 + k * ROUND, first[-1] + 1 + (k + 1) * ROUND)))
        for k in range(max(1, number // ROUND) * REPEAT + 2)
    ]
    feed = iter(rounds)
    receive, drain = esme.receive_data, esme.data_to_send

    def one_round() -> object:
        write()
        drain()
        return receive(next(feed))

    events = one_round()
    if esme.in_flight:
        raise RuntimeError(f"the responses did not settle the round: {events!r}")
    return Timed(one_round, ROUND, where)


def _accepted_scan(number: int) -> Timed:
    framer_cls, where = find("smscenter.smpp.framer:PduFramer", "smscenter.smpp.pdu:PduFramer")
    resp_cls, _ = find("smscenter.smpp.pdu:SubmitSmResp")
    run = resp_cls(sequence_number=2, message_id="1000000001").encode() * ROUND

    def scan() -> object:
        framer = framer_cls()
        framer.feed(run)
        taken: list[tuple[int, str]] = []
        framer.next_pdu(taken)
        return len(taken)

    if scan() != ROUND:
        raise RuntimeError("the scan did not take the whole run")
    return Timed(scan, ROUND, where)


def _decode(number: int) -> Timed:
    decode_pdu, where = find("smscenter.smpp._codec:decode_pdu", "smscenter.smpp.pdu:decode_pdu")
    resp_cls, _ = find("smscenter.smpp.pdu:SubmitSmResp")
    resp = resp_cls(sequence_number=2, message_id="1000000001").encode()
    return Timed(lambda: decode_pdu(resp), 1, where)


def _results(number: int) -> Timed:
    send_result, _ = find("smscenter:SendResult")
    outcome_cls, where = find(
        "smscenter:SendOutcome",
        "smscenter.smpp:SendOutcome",
        "smscenter.smpp.client.results:SendOutcome",
        "smscenter.smpp.session:SendOutcome",
    )
    transport, _ = find("smscenter.models:Transport", "smscenter.exceptions:Transport")
    message = _message_cls()(to=RECIPIENT, text=SAME_TEXT)
    smpp = transport.SMPP
    return Timed(
        lambda: outcome_cls(
            index=0,
            message=message,
            recipient=RECIPIENT,
            result=send_result(message_id="1000000001", part_ids=("1000000001",), transport=smpp),
        ),
        1,
        where,
    )


def _settlement(number: int) -> Timed:
    """What the client does per message around the connection: a job made of the body, its
    part recorded as written, its accepted answer settled, and its ``SendOutcome`` built (the
    one place outcomes are made)."""
    new_job, _ = find("smscenter.smpp.client._jobs:new_job")
    inflight_cls, where = find("smscenter.smpp.client._inflight:InFlight")
    counters_cls, _ = find("smscenter.smpp.client.results:Counters")
    outcome, _ = find("smscenter.smpp.client._jobs:outcome")
    builder, _ = _builder()
    message = _message_cls()(to=RECIPIENT, text=SAME_TEXT)
    parts = _bodies(builder, message, RECIPIENT)
    inflight = inflight_cls(counters_cls(), 3)
    outcomes: list[object] = []
    seqs = list(range(1, ROUND + 1))
    pairs = [(seq, f"{seq:010d}") for seq in seqs]

    def done(job: Any) -> None:
        outcomes.append(outcome(job))

    def one_round() -> object:
        jobs = [
            new_job(parts, done, False, None, True, message, RECIPIENT, n) for n in range(ROUND)
        ]
        for job in jobs:  # what the writer does as it writes a part
            job.todo.pop()
            job.in_flight += 1
            job.written = True
        inflight.written(seqs, [(job, 0) for job in jobs])
        inflight.settle_accepted(pairs)
        settled = len(outcomes)
        outcomes.clear()
        return settled

    if one_round() != ROUND or len(inflight):
        raise RuntimeError("the round did not settle every job")
    return Timed(one_round, ROUND, where + " + _jobs.outcome")


_RECEIPT: list[bytes] = []  # the responder's receipt PDU, fetched once per process


def receipt_bytes() -> bytes:
    """The responder's receipt ``deliver_sm`` for one submit (the bytes the benchmark reads)."""
    if not _RECEIPT:
        from benchmarks._responder import Responder

        with Responder(receipts=True) as responder:
            _RECEIPT.append(_one_receipt(responder.host, responder.port))
    return _RECEIPT[0]


def _one_receipt(host: str, port: int) -> bytes:
    import socket

    from smscenter.smpp.pdu import BindTransceiver, SubmitSm

    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(BindTransceiver(sequence_number=1, system_id="b", password="b").encode())
        sock.sendall(SubmitSm(sequence_number=2, destination_addr=RECIPIENT).encode())
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("the responder closed the connection")
            data += chunk
            pos = 0
            while len(data) - pos >= 16:
                length, command_id = struct.unpack_from(">II", data, pos)
                if len(data) - pos < length:
                    break
                if command_id == 0x00000005:
                    return data[pos : pos + length]
                pos += length


def _receipts(count: int) -> list[bytes]:
    """``count`` receipts as the responder sends them, each for its own message id (a bulk
    send's receipts differ in the id and share the rest)."""
    receipt = receipt_bytes()
    first = receipt.index(b"id:") + 3
    old_id = receipt[first : first + 10]
    return [receipt.replace(old_id, b"%010d" % (5_000_000_000 + n)) for n in range(count)]


def _framer_receipt(number: int) -> Timed:
    framer_cls, where = find("smscenter.smpp.framer:PduFramer", "smscenter.smpp.pdu:PduFramer")
    rounds = max(1, number // ROUND)
    data = _receipts(ROUND * (rounds * REPEAT + 2))
    batches = iter([b"".join(data[i : i + ROUND]) for i in range(0, len(data), ROUND)])
    framer = framer_cls()

    def read() -> object:
        framer.feed(next(batches))
        next_pdu = framer.next_pdu
        for _ in range(ROUND):
            next_pdu()
        return framer

    read()
    if framer.next_pdu() is not None:
        raise RuntimeError("the framer left PDUs behind")
    return Timed(read, ROUND, where)


def _report(number: int) -> Timed:
    decode_pdu, _ = find("smscenter.smpp._codec:decode_pdu", "smscenter.smpp.pdu:decode_pdu")
    delivers = iter([decode_pdu(r) for r in _receipts(number * REPEAT + 10)])
    try:
        reader_cls, where = find("smscenter.smpp.receipts:ReceiptReader")
    except LookupError:
        report, where = find("smscenter.smpp.receipts:report_from_deliver_sm")
        report(next(delivers))
        return Timed(lambda: report(next(delivers)), 1, where + " (report_from_deliver_sm)")
    read = reader_cls().report
    read(next(delivers))
    return Timed(lambda: read(next(delivers)), 1, f"{where} (ReceiptReader.report)")


STAGES: tuple[Stage, ...] = (
    Stage("Message(to=..., text=...), a new text (the caller builds it)", _message),
    Stage("build the body for a NEW text (distinct)", _build_new_text),
    Stage("build the body for the same text again (identical)", _build_same_text),
    Stage("connection: write + read back the accepted run, per message", _connection_round),
    Stage("  of which: accepted-run scan, per submit_sm_resp", _accepted_scan),
    Stage("decode_pdu(submit_sm_resp) (a response off the scan)", _decode),
    Stage("SendResult + SendOutcome, public constructors", _results),
    Stage("client: job, written, settled, its SendOutcome; per message", _settlement),
    Stage("framer: a receipt deliver_sm off the wire, decoded", _framer_receipt),
    Stage("receipt deliver_sm -> DeliveryReport (each for its own id)", _report),
)


def breakdown(number: int = 2000) -> list[tuple[str, float | str, str]]:
    """Each stage's best-of-7 microseconds per message (or why it could not be measured) and
    where its code was found: (label, microseconds or "n/a (...)", location)."""
    out: list[tuple[str, float | str, str]] = []
    for stage in STAGES:
        try:
            timed = stage.setup(number)
            calls = max(1, number // timed.per_call)
            best = min(timeit.repeat(timed.call, number=calls, repeat=REPEAT))
        except Exception as exc:  # a stage that cannot run says why; the others still do
            out.append((stage.label, f"n/a ({type(exc).__name__}: {exc})", ""))
            continue
        out.append((stage.label, best / (calls * timed.per_call) * 1e6, timed.where))
    return out
