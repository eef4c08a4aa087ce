"""A minimal, fast SMPP responder (SMSC side) for the throughput benchmark.

It runs in its own process (:class:`Responder` starts ``python -m benchmarks._responder``), so
it never shares an event loop or a core's time slice with the client being measured. It does
only what a benchmark needs, as cheaply as pure Python allows:

* answers ``bind_*`` (any credentials), ``submit_sm`` (``submit_sm_resp`` with a fresh 10-digit
  message id), ``enquire_link`` and ``unbind`` (then closes);
* optionally follows every ``submit_sm_resp`` with a delivery receipt ``deliver_sm`` in the
  provider's format (smscentre.com/api/smpp: the receipt text, ``receipted_message_id`` /
  ``message_state`` / ``network_error_code`` and the vendor TLVs 0x2000-0x2004); a receipt answered
  with an error status (a client's "try later") is delivered again 50 ms later, as an SMSC does;
* parses every PDU of a read and writes all answers of that read in one ``write`` (the batching
  that makes a Python server fast); TCP_NODELAY is on (asyncio's
  default for TCP transports);
* counts what it did and its own CPU time, so the harness can show it was not the bottleneck;
  binds too (how many are up at once, the most at any moment), and with ``--track`` when the
  submits arrived (the first and the last, and per tenth of a second: the busiest second), so a
  benchmark can measure its throughput at the SMSC side (the fleet benchmark does). ``reset``
  on the control channel starts that measure afresh.

Anything else gets a ``generic_nack`` (ESME_RINVCMDID); a nonsensical ``command_length`` closes
the connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import struct
import subprocess
import sys
import threading
import time
from typing import Any

__all__ = ("Responder",)

_HEADER = struct.Struct(">IIII")
_pack_header = _HEADER.pack
_unpack_header = _HEADER.unpack_from

_BIND_IDS = frozenset({0x00000001, 0x00000002, 0x00000009})
_SUBMIT_SM = 0x00000004
_DELIVER_SM_RESP = 0x80000005
_UNBIND = 0x00000006
_ENQUIRE_LINK = 0x00000015
_GENERIC_NACK = 0x80000000
_ESME_RINVCMDID = 0x00000003
_MAX_PDU = 70_000

_SYSTEM_ID = b"BENCH\0"
_ID_WIDTH = 10  # fixed width: every submit_sm_resp and receipt has the same length

# --- the receipt deliver_sm, built once around a fixed-width message id -------------------------
# Mandatory part up to the short_message (SMPP 3.4 §4.6.1): service_type "", source 1/1
# 79991234567, destination 5/0 "SMSC", esm_class 0x04 (SMSC delivery receipt), protocol_id 0,
# priority 0, no schedule, no validity, registered_delivery 0, replace 0, data_coding 0, sm id 0.
_RECEIPT_FIELDS = (
    b"\0" + b"\x01\x01" + b"79991234567\0" + b"\x05\x00" + b"SMSC\0" + b"\x04\x00\x00"
    b"\0" + b"\0" + b"\x00\x00\x00\x00"
)
# The receipt text of smscentre.com/api/smpp, with the id in front.
_TEXT_HEAD = b"id:"
_TEXT_TAIL = b" sub:001 dlvrd:001 submit date:1108202241 done date:1108202241 stat:DELIVRD err:000"
_TEXT_LENGTH = len(_TEXT_HEAD) + _ID_WIDTH + len(_TEXT_TAIL)


def _tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


# receipted_message_id (0x001E) comes first, its value is the id + NUL; then the fixed TLVs:
# message_state DELIVERED, network_error_code GSM 0, and the provider's 0x2000-0x2004
# (smscentre.com/api/smpp: cost " n.nnnn", flags, parts, mccmnc, extra status).
_RECEIPTED_ID_HEAD = struct.pack(">HH", 0x001E, _ID_WIDTH + 1)
_FIXED_TLVS = (
    _tlv(0x0427, b"\x02")
    + _tlv(0x0423, b"\x03\x00\x00")
    + _tlv(0x2000, b" 1.5000\0")
    + _tlv(0x2001, b"\x00\x00")
    + _tlv(0x2002, b"\x00\x01")
    + _tlv(0x2003, b"25002\0")
    + _tlv(0x2004, b"\x00\x00")
)
_RECEIPT_A = _RECEIPT_FIELDS + bytes([_TEXT_LENGTH]) + _TEXT_HEAD
_RECEIPT_B = _TEXT_TAIL + _RECEIPTED_ID_HEAD
_RECEIPT_C = b"\0" + _FIXED_TLVS
_RECEIPT_LENGTH = 16 + len(_RECEIPT_A) + _ID_WIDTH + len(_RECEIPT_B) + _ID_WIDTH + len(_RECEIPT_C)
_SUBMIT_RESP_LENGTH = 16 + _ID_WIDTH + 1


class _Counters:
    __slots__ = (
        "binds",
        "bound",
        "connections",
        "max_bound",
        "receipt_acks",
        "receipts",
        "redelivered",
        "submits",
    )

    def __init__(self) -> None:
        self.connections = self.submits = self.receipts = self.receipt_acks = 0
        self.redelivered = 0
        # Binds answered, binds up now, the most up at once (since the last reset).
        self.binds = self.bound = self.max_bound = 0


#: The tracker's bucket: submits are counted per tenth of a second.
_BUCKET = 0.1


class _Track:
    """When submits arrived (``--track``): one clock read per socket read, not per PDU."""

    __slots__ = ("buckets", "first", "last", "submits")

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.submits = 0
        self.buckets: dict[int, int] = {}

    def note(self, submits: int) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.last = now
        self.submits += submits
        key = int(now / _BUCKET)
        buckets = self.buckets
        buckets[key] = buckets.get(key, 0) + submits

    def figures(self) -> dict[str, Any]:
        """Submits since the reset, the seconds from the first to the last read that had any,
        and the most in any second (ten consecutive buckets)."""
        span = 0.0 if self.first is None or self.last is None else self.last - self.first
        peak = 0
        if self.buckets:
            low, high = min(self.buckets), max(self.buckets)
            counts = [self.buckets.get(k, 0) for k in range(low, high + 1)]
            per = round(1 / _BUCKET)
            window = sum(counts[:per])
            peak = window
            for i in range(per, len(counts)):
                window += counts[i] - counts[i - per]
                peak = max(peak, window)
        return {"submits": self.submits, "span": span, "peak": peak}


_REDELIVERY_DELAY = 0.05


class _SMSC(asyncio.Protocol):
    """One ESME connection. All state is per connection except the id counter."""

    def __init__(
        self, counters: _Counters, ids: list[int], receipts: bool, track: list[_Track] | None
    ) -> None:
        self._counters = counters
        self._ids = ids  # a one-element list: the shared message id counter
        self._receipts = receipts
        self._track = track  # a one-element list (reset swaps the tracker), or None
        self._bound = False
        self._buffer = b""
        self._sequence = 0
        self._transport: asyncio.Transport | None = None
        # Receipts sent and not yet answered (sequence -> PDU), and those to deliver again.
        self._unacked: dict[int, bytes] = {}
        self._again: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a TCP transport (uvloop's too)
        self._counters.connections += 1

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        size = len(buffer)
        pos = 0
        out: list[bytes] = []
        append = out.append
        counters = self._counters
        submits = receipts = acks = 0
        next_id = self._ids[0]
        close = False
        while size - pos >= 16:
            length, command_id, _status, sequence = _unpack_header(buffer, pos)
            if length < 16 or length > _MAX_PDU:
                close = True
                break
            if size - pos < length:
                break
            pos += length
            if command_id == _SUBMIT_SM:
                next_id += 1
                message_id = b"%010d" % next_id
                append(_pack_header(_SUBMIT_RESP_LENGTH, 0x80000004, 0, sequence))
                append(message_id + b"\0")
                submits += 1
                if self._receipts:
                    self._sequence += 1
                    receipt = (
                        _pack_header(_RECEIPT_LENGTH, 0x00000005, 0, self._sequence)
                        + _RECEIPT_A
                        + message_id
                        + _RECEIPT_B
                        + message_id
                        + _RECEIPT_C
                    )
                    self._unacked[self._sequence] = receipt
                    append(receipt)
                    receipts += 1
            elif command_id == _DELIVER_SM_RESP:
                receipt = self._unacked.pop(sequence, None)
                if _status == 0:
                    acks += 1
                elif receipt is not None:
                    if not self._again:
                        asyncio.get_running_loop().call_later(_REDELIVERY_DELAY, self._redeliver)
                    self._again.append(receipt)
            elif command_id == _ENQUIRE_LINK:
                append(_pack_header(16, 0x80000015, 0, sequence))
            elif command_id in _BIND_IDS:
                append(_pack_header(16 + len(_SYSTEM_ID), command_id | 0x80000000, 0, sequence))
                append(_SYSTEM_ID)
                self._note_bind()
            elif command_id == _UNBIND:
                append(_pack_header(16, 0x80000006, 0, sequence))
                close = True
                break
            elif command_id & 0x80000000:
                pass  # other responses (enquire_link_resp, generic_nack): nothing to answer
            else:
                append(_pack_header(16, _GENERIC_NACK, _ESME_RINVCMDID, sequence))
        self._buffer = buffer[pos:] if pos < size else b""
        self._ids[0] = next_id
        counters.submits += submits
        counters.receipts += receipts
        counters.receipt_acks += acks
        if submits and self._track is not None:
            self._track[0].note(submits)
        transport = self._transport
        assert transport is not None
        if out:
            transport.write(b"".join(out))
        if close:
            transport.close()

    def _redeliver(self) -> None:
        again, self._again = self._again, []
        transport = self._transport
        if transport is None or not again:
            return
        out = []
        for receipt in again:
            self._sequence += 1
            self._unacked[self._sequence] = fresh = (
                receipt[:12] + self._sequence.to_bytes(4, "big") + receipt[16:]
            )
            out.append(fresh)
        self._counters.redelivered += len(out)
        transport.write(b"".join(out))

    def _note_bind(self) -> None:
        counters = self._counters
        counters.binds += 1
        if not self._bound:
            self._bound = True
            counters.bound += 1
            counters.max_bound = max(counters.max_bound, counters.bound)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._bound:
            self._bound = False
            self._counters.bound -= 1


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _serve(host: str, receipts: bool, track: bool = False) -> None:
    loop = asyncio.get_running_loop()
    counters = _Counters()
    ids = [999_999_999]  # 10-digit ids without leading zeros (no normalisation surprises)
    tracker = [_Track()] if track else None
    server = await loop.create_server(
        lambda: _SMSC(counters, ids, receipts, tracker), host, 0, backlog=64, reuse_address=True
    )
    port = server.sockets[0].getsockname()[1]
    stopped = asyncio.Event()

    def reset(done: threading.Event) -> None:
        # On the loop's thread, between two reads: no submit is half counted.
        counters.max_bound = counters.bound
        if tracker is not None:
            tracker[0] = _Track()
        done.set()

    def control() -> None:
        # A plain thread blocks on stdin: the event loop never polls it, so the control
        # channel costs the hot path nothing. One JSON line answers each "stats" line.
        print(json.dumps({"port": port}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                stats = {
                    "cpu": _cpu_seconds(),
                    "connections": counters.connections,
                    "submits": counters.submits,
                    "receipts": counters.receipts,
                    "receipt_acks": counters.receipt_acks,
                    "redelivered": counters.redelivered,
                    "binds": counters.binds,
                    "bound": counters.bound,
                    "max_bound": counters.max_bound,
                }
                if tracker is not None:
                    stats["track"] = tracker[0].figures()
                print(json.dumps(stats), flush=True)
            elif command == "reset":
                done = threading.Event()
                loop.call_soon_threadsafe(reset, done)
                done.wait(10)
                print(json.dumps({"reset": True}), flush=True)
            elif command == "stop":
                break
        loop.call_soon_threadsafe(stopped.set)

    threading.Thread(target=control, daemon=True).start()
    async with server:
        await stopped.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the responder process (``python -m benchmarks._responder``)."""
    parser = argparse.ArgumentParser(description="minimal batched SMPP responder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--receipts", action="store_true")
    parser.add_argument("--no-uvloop", action="store_true")
    parser.add_argument("--track", action="store_true", help="note when submits arrive")
    args = parser.parse_args(argv)
    if not args.no_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(_serve(args.host, args.receipts, args.track))
            return
    asyncio.run(_serve(args.host, args.receipts, args.track))


class Responder:
    """The responder process, as a context manager::

        with Responder(receipts=True) as smsc:
            ...  # connect clients to smsc.host, smsc.port
            before = smsc.stats(); ...; after = smsc.stats()

    :param receipts: follow every submit_sm_resp with a delivery receipt.
    :param uvloop: run the responder on uvloop when it is installed (the default: the server
        should be as fast as it can be).
    :param track: note when submits arrive (``stats()["track"]``: submits, span, peak per
        second since the last :meth:`reset`).
    """

    def __init__(
        self,
        *,
        receipts: bool = False,
        uvloop: bool = True,
        host: str = "127.0.0.1",
        track: bool = False,
    ) -> None:
        self.host = host
        self.port = 0
        self.receipts = receipts
        self.track = track
        self._uvloop = uvloop
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Responder:
        command = [sys.executable, "-m", "benchmarks._responder", "--host", self.host]
        if self.receipts:
            command.append("--receipts")
        if not self._uvloop:
            command.append("--no-uvloop")
        if self.track:
            command.append("--track")
        self._process = subprocess.Popen(
            command,
            cwd=_ROOT,
            env=_child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.port = int(self._read()["port"])
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the SMPP responder exited (code {process.poll()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def stats(self) -> dict[str, Any]:
        """The responder's counters and CPU time now: ``cpu`` (its own CPU seconds),
        ``connections``, ``submits``, ``receipts``, ``receipt_acks``, ``redelivered``
        (receipts sent again after a "try later" answer), ``binds`` (answered), ``bound`` (up
        now), ``max_bound`` (the most up at once since the last :meth:`reset`) and, when
        tracking, ``track``: ``submits``, ``span`` (seconds from the first to the last) and
        ``peak`` (the most in any second) since the last :meth:`reset`."""
        return self._command("stats")

    def reset(self) -> None:
        """Start the per-phase measures afresh: the tracked submits, and ``max_bound`` (from
        the binds up now)."""
        self._command("reset")

    def _command(self, command: str) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdin is not None
        process.stdin.write(command + "\n")
        process.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Stop the process (gracefully, then by force)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.write("stop\n")
            process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child_env() -> dict[str, str]:
    """The environment for a benchmark subprocess: the repository root importable."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _ROOT + (os.pathsep + path if path else "")
    return env


if __name__ == "__main__":
    main()
