"""Client drivers for the SMPP throughput benchmark, one per client library.

Each run happens in a fresh subprocess (``python -m benchmarks._peers '<json config>'``), so the
client's CPU time (``time.process_time``: every thread of the process, the Rust threads of smpp34
included) and its peak memory (``ru_maxrss``) are its own. The subprocess prints one JSON line:
``{"ok": true, "messages": ..., "receipts": ..., "elapsed": ..., "cpu": ..., "maxrss_mb": ...}``
or ``{"ok": false, "reason": "..."}``. Timing starts when every bind is up and stops when every
submit_sm_resp (and, with receipts, every receipt) has arrived.

Drivers, each with the best settings we found by profiling it:

* ``smscenter``: :class:`smscenter.SMPPPool` ``send_many`` of lazily generated messages, client
  rate limit off; receipts read from ``pool.reports()``;
* ``rawpy``: a bare batched asyncio client with no features (one write per read, TCP_NODELAY):
  the ceiling of pure Python on this machine, and the proof that the responder keeps up;
* ``smpp34``: its Rust/tokio client, ``window_size`` = the window, ``window`` concurrent
  ``submit_sm`` awaits per bind, a large ``inbound_capacity`` for receipts, uvloop;
* ``smpplib``: synchronous, TCP_NODELAY set, ``allow_unknown_opt_params=True``; the harness keeps
  ``window`` submits unanswered (it has no window of its own); one thread per bind;
* ``aiosmpplib``: its ESME with a plain-dict correlator (its own one scans all entries per PDU), a
  broker that stops handing out messages at ``window`` unanswered, logging at ERROR.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import socket
import struct
import sys
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

__all__ = ("CLIENTS", "run_config")

TEXT = "Your code is 1234. Thank you"  # 28 characters, GSM 03.38 / ASCII
TEXT_BYTES = TEXT.encode("ascii")


def _text(n: int, vary: bool) -> str:
    """The message text: the same for all, or (``vary``) a distinct one per message, a fresh
    number each time, as a one-time-password mailing sends (no text is ever seen twice, so
    nothing built for one text can be reused for the next)."""
    return f"Your code is {n:06d}" if vary else TEXT


LOGIN = "bench"
PASSWORD = "bench"
DEADLINE = 600.0  # no run may hang the benchmark


def _phone(n: int) -> str:
    return f"7999{n % 10_000_000:07d}"


def _shares(count: int, binds: int) -> list[int]:
    base, extra = divmod(count, binds)
    return [base + (1 if i < extra else 0) for i in range(binds)]


class _Clock:
    """Wall and CPU time from the moment every bind is up."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def start(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def result(self, messages: int, receipts: int, **extra: Any) -> dict[str, Any]:
        return {
            "ok": True,
            "messages": messages,
            "receipts": receipts,
            "elapsed": time.perf_counter() - self.wall,
            "cpu": time.process_time() - self.cpu,
            **extra,
        }


# --- smscenter --------------------------------------------------------------------------------


async def count_reports(pool: Any, count: int) -> int:
    """Read ``pool.reports()`` until ``count`` reports came; return how many did."""
    receipts = 0
    async with pool.reports() as stream:
        async for _ in stream:
            receipts += 1
            if receipts >= count:
                break
    return receipts


async def run_smscenter(cfg: dict[str, Any]) -> dict[str, Any]:
    from smscenter import Credentials, Limits, Message, SMPPPool

    count: int = cfg["count"]
    want_receipts: bool = cfg["receipts"]
    vary: bool = cfg.get("vary_text", False)
    pool = SMPPPool(
        "127.0.0.1",
        cfg["port"],
        Credentials(login=LOGIN, password=PASSWORD),
        limits=Limits(max_rate=None, connections=cfg["binds"], window=cfg["window"]),
    )

    def messages() -> Iterator[Message]:
        # Lazily generated, one distinct recipient each: send_many must not hold them all.
        for n in range(count):
            yield Message(to=_phone(n), text=_text(n, vary), report=want_receipts)

    clock = _Clock()
    ok = failed = 0
    first_error: str | None = None
    async with pool:
        clock.start()
        async with asyncio.TaskGroup() as tg:
            reader = tg.create_task(count_reports(pool, count)) if want_receipts else None
            async for outcome in pool.send_many(messages()):
                if outcome.error is None:
                    ok += 1
                else:
                    failed += 1
                    if first_error is None:
                        first_error = repr(outcome.error)
        receipts = 0 if reader is None else reader.result()
        result = clock.result(ok, receipts, failed=failed)
        stats = pool.statistics()
        result["statistics"] = {"submitted": stats.submitted, "acknowledged": stats.acknowledged}
    if failed:
        return {"ok": False, "reason": f"{failed} of {count} sends failed, first: {first_error}"}
    return result


# --- rawpy: the bare batched client -----------------------------------------------------------

_HEADER = struct.Struct(">IIII")
# submit_sm body: service_type "", source 5/0 "SMSC", destination 1/1 <11 digits>, esm_class 0,
# protocol 0, priority 0, no schedule / validity, registered_delivery (patched), replace 0,
# data_coding 0, sm_default_msg_id 0, sm_length, short_message.
_RAW_HEAD = b"\0" + b"\x05\x00SMSC\0" + b"\x01\x01"
_RAW_TAIL = b"\0\x00\x00\x00\0\0"
_RAW_AFTER = b"\x00\x00\x00"
# The length of everything but the text: header, head, 11-digit number + NUL, tail,
# registered_delivery, after, sm_length.
_RAW_FIXED = 16 + len(_RAW_HEAD) + 12 + len(_RAW_TAIL) + 1 + len(_RAW_AFTER) + 1


class _RawClient(asyncio.Protocol):
    def __init__(self, count: int, window: int, receipts: bool, vary: bool = False) -> None:
        self.count, self.window, self.want_receipts, self.vary = count, window, receipts, vary
        self.sent = self.acked = self.receipts = 0
        self.sequence = 1
        self.buffer = b""
        self.transport: Any = None
        loop = asyncio.get_running_loop()
        self.bound: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.delivery = b"\x01" if receipts else b"\x00"
        self.running = False  # no submit before start(): the clock starts there

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        body = f"{LOGIN}\0{PASSWORD}\0\0".encode() + b"\x34\x00\x00\0"
        self.transport.write(_HEADER.pack(16 + len(body), 0x00000009, 0, 1) + body)

    def _submits(self, out: list[bytes]) -> None:
        free = min(self.window - (self.sent - self.acked), self.count - self.sent)
        pack = _HEADER.pack
        for _ in range(free):
            self.sequence += 1
            text = _text(self.sent, True).encode() if self.vary else TEXT_BYTES
            out.append(pack(_RAW_FIXED + len(text), 0x00000004, 0, self.sequence))
            out.append(_RAW_HEAD + _phone(self.sent).encode() + b"\0")
            out.append(_RAW_TAIL + self.delivery + _RAW_AFTER + bytes((len(text),)) + text)
            self.sent += 1

    def start(self) -> None:
        self.running = True
        out: list[bytes] = []
        self._submits(out)
        self.transport.write(b"".join(out))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        size, pos = len(buffer), 0
        out: list[bytes] = []
        unpack = _HEADER.unpack_from
        while size - pos >= 16:
            length, command_id, status, sequence = unpack(buffer, pos)
            if size - pos < length:
                break
            pos += length
            if command_id == 0x80000004:
                if status:
                    raise RuntimeError(f"submit_sm refused: {status:#x}")
                self.acked += 1
            elif command_id == 0x00000005:
                self.receipts += 1
                out.append(_HEADER.pack(17, 0x80000005, 0, sequence) + b"\0")
            elif command_id == 0x80000009:
                self.bound.set_result(None)
            elif command_id == 0x00000015:
                out.append(_HEADER.pack(16, 0x80000015, 0, sequence))
        self.buffer = buffer[pos:]
        if self.running:
            self._submits(out)
        if out:
            self.transport.write(b"".join(out))
        if (
            self.acked == self.count
            and (not self.want_receipts or self.receipts == self.count)
            and not self.done.done()
        ):
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError("the responder closed the connection"))


async def run_rawpy(cfg: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    clients: list[_RawClient] = []
    for share in _shares(cfg["count"], cfg["binds"]):
        _, client = await loop.create_connection(
            lambda share=share: _RawClient(  # type: ignore[misc]
                share, cfg["window"], cfg["receipts"], cfg.get("vary_text", False)
            ),
            "127.0.0.1",
            cfg["port"],
        )
        clients.append(client)
    await asyncio.gather(*(c.bound for c in clients))
    clock = _Clock()
    clock.start()
    for client in clients:
        client.start()
    await asyncio.gather(*(c.done for c in clients))
    result = clock.result(sum(c.acked for c in clients), sum(c.receipts for c in clients))
    for client in clients:
        client.transport.close()
    return result


# --- smpp34 (Rust/tokio core) -----------------------------------------------------------------


async def run_smpp34(cfg: dict[str, Any]) -> dict[str, Any]:
    import smpp34

    window: int = cfg["window"]
    want_receipts: bool = cfg["receipts"]
    vary: bool = cfg.get("vary_text", False)
    shares = _shares(cfg["count"], cfg["binds"])
    clients = [
        smpp34.Client(
            "127.0.0.1",
            cfg["port"],
            LOGIN,
            PASSWORD,
            bind_type="TRX",
            window_size=window,
            # Its default (~1k events) NAKs receipts and then fails every pending submit with
            # ESME_RSYSERR (its inbound queue overflows under receipts): give it room for all of
            # them.
            inbound_capacity=max(1024, share + 1024),
        )
        for share in shares
    ]
    sessions = [await client.connect() for client in clients]
    failures: list[str] = []
    acked = receipts = 0

    async def submitter(smsc: Any, start: int, stop: int, step: int) -> None:
        nonlocal acked
        for n in range(start, stop, step):
            resp = await smsc.submit_sm(
                _phone(n),
                _text(n, vary).encode() if vary else TEXT_BYTES,
                source_addr="SMSC",
                source_addr_ton=5,
                dest_addr_ton=1,
                dest_addr_npi=1,
                registered_delivery=1 if want_receipts else 0,
            )
            if resp.is_success:
                acked += 1
            else:
                failures.append(f"status {resp.command_status:#x}")

    async def receiver(smsc: Any, expected: int) -> None:
        nonlocal receipts
        got = 0
        while got < expected:
            event = await smsc.next()
            if isinstance(event, smpp34.DeliverSmEvent):
                got += 1
                receipts += 1
            else:
                raise ConnectionError(f"smpp34 session ended: {event!r}")

    clock = _Clock()
    clock.start()
    async with asyncio.TaskGroup() as tg:
        first = 0
        for smsc, share in zip(sessions, shares, strict=True):
            # ``window`` concurrent awaits keep the bind's window full.
            for k in range(min(window, share)):
                tg.create_task(submitter(smsc, first + k, first + share, window))
            if want_receipts:
                tg.create_task(receiver(smsc, share))
            first += share
    result = clock.result(acked, receipts)
    for smsc in sessions:
        with contextlib.suppress(Exception):
            await smsc.unbind()
    for client in clients:
        with contextlib.suppress(Exception):
            await client.stop()
    if failures:
        return {"ok": False, "reason": f"{len(failures)} submits failed, first: {failures[0]}"}
    return result


# --- smpplib (synchronous) --------------------------------------------------------------------


def run_smpplib(cfg: dict[str, Any]) -> dict[str, Any]:
    import smpplib.client
    import smpplib.consts

    logging.disable(logging.CRITICAL)  # it logs a warning per vendor TLV it skips
    window: int = cfg["window"]
    want_receipts: bool = cfg["receipts"]
    vary: bool = cfg.get("vary_text", False)
    shares = _shares(cfg["count"], cfg["binds"])
    clients = []
    for _ in shares:
        client = smpplib.client.Client(
            "127.0.0.1", cfg["port"], timeout=30, allow_unknown_opt_params=True
        )
        client.connect()
        # Nagle off: with it on, small writes stall ~40 ms per window (finding 1).
        client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.bind_transceiver(system_id=LOGIN, password=PASSWORD)
        clients.append(client)
    totals = {"acked": 0, "receipts": 0}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def drive(client: Any, first: int, share: int) -> None:
        state = {"acked": 0, "receipts": 0}

        def sent(pdu: Any, **_: Any) -> None:
            state["acked"] += 1

        def received(pdu: Any, **_: Any) -> None:
            state["receipts"] += 1

        client.set_message_sent_handler(sent)
        client.set_message_received_handler(received)
        sent_count = 0
        try:
            while state["acked"] < share or (want_receipts and state["receipts"] < share):
                while sent_count < share and sent_count - state["acked"] < window:
                    client.send_message(
                        source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                        source_addr="SMSC",
                        dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                        dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                        destination_addr=_phone(first + sent_count),
                        short_message=(
                            _text(first + sent_count, True).encode() if vary else TEXT_BYTES
                        ),
                        registered_delivery=1 if want_receipts else 0,
                    )
                    sent_count += 1
                client.read_once()
        except BaseException as exc:
            errors.append(exc)
        with lock:
            totals["acked"] += state["acked"]
            totals["receipts"] += state["receipts"]

    clock = _Clock()
    clock.start()
    threads = []
    first = 0
    for client, share in zip(clients, shares, strict=True):
        threads.append(threading.Thread(target=drive, args=(client, first, share)))
        first += share
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = clock.result(totals["acked"], totals["receipts"])
    for client in clients:
        with contextlib.suppress(Exception):
            client.unbind()
            client.disconnect()
    if errors:
        return {"ok": False, "reason": f"{type(errors[0]).__name__}: {errors[0]}"}
    return result


# --- aiosmpplib (its driver in its own module) -----------------------------------------------


async def run_aiosmpplib(cfg: dict[str, Any]) -> dict[str, Any]:
    from benchmarks._peer_aiosmpplib import run_aiosmpplib as run

    return await run(cfg)


# --- the subprocess entry point ---------------------------------------------------------------

AsyncDriver = Callable[[dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]
SyncDriver = Callable[[dict[str, Any]], dict[str, Any]]

#: client name -> (driver, is it async)
CLIENTS: dict[str, tuple[AsyncDriver | SyncDriver, bool]] = {
    "smscenter": (run_smscenter, True),
    "rawpy": (run_rawpy, True),
    "smpp34": (run_smpp34, True),
    "smpplib": (run_smpplib, False),
    "aiosmpplib": (run_aiosmpplib, True),
}


def _maxrss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def run_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in this process and return its result dict."""
    driver, is_async = CLIENTS[cfg["client"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # smpplib's DeprecationWarnings on vendor TLVs
        try:
            result: dict[str, Any]
            if not is_async:
                result = driver(cfg)  # type: ignore[assignment]
            else:
                coro = asyncio.wait_for(driver(cfg), DEADLINE)  # type: ignore[arg-type]
                if cfg.get("loop") == "uvloop":
                    import uvloop

                    result = uvloop.run(coro)
                else:
                    result = asyncio.run(coro)
        except ImportError as exc:
            return {"ok": False, "reason": f"not installed ({exc})"}
        except BaseException as exc:  # a peer failing on a configuration is a finding
            if isinstance(exc, BaseExceptionGroup):
                exc = exc.exceptions[0]
            return {"ok": False, "reason": f"{type(exc).__name__}: {exc}"}
        finally:
            logging.disable(logging.NOTSET)
    result.setdefault("maxrss_mb", _maxrss_mb())
    return result


def main() -> None:
    """``python -m benchmarks._peers '<json config>'``: run it, print one JSON line."""
    cfg = json.loads(sys.argv[1])
    print(json.dumps(run_config(cfg)), flush=True)


if __name__ == "__main__":
    main()
