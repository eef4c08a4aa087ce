"""How :class:`~smscenter.store.RedisStore` writes records, reports and settlements as Redis
values, and reads them back.

A record is a hash with short field names (one per :class:`TrackedMessage` attribute): ``cid``,
``rcp``, ``st``, ``tr``, ``mid``, ``pids`` (part ids, newline-separated), ``parts``, ``status``,
``err``, ``ecode``, ``derr``, ``cost``, ``att``, ``ca``/``ua``/``aa``/``fa`` (times, integer
microseconds since the epoch on the Redis server's clock), ``ver``, ``seq`` (creation order),
``own`` (the sender that holds it while ``SENDING``). A report is a compact JSON object, stored
as written in the history list and in the pending hash.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from smscenter._provider import Transport
from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryError, DeliveryReport, MessageStatus
from smscenter.store._model import ReportEntry, Settlement, TrackedMessage, TrackedState

__all__ = (
    "LOST",
    "decode_entry",
    "decode_record",
    "encode_report",
    "encode_settlement",
    "from_micros",
    "to_micros",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(when: datetime) -> int:
    """Integer microseconds since the epoch (``when`` is aware)."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: str | int) -> datetime:
    """The aware UTC time of :func:`to_micros`'s number."""
    return _EPOCH + timedelta(microseconds=int(value))


def encode_report(report: DeliveryReport, received_at: datetime) -> str:
    """The JSON entry of ``report``: what the history keeps, and what the scripts read
    (``k`` event key, ``t`` the state it moves a record to, ``s`` status, ``e`` delivery error,
    ``c`` cost, ``p`` parts, ``m`` message id, ``cl`` the client id it names)."""
    entry: dict[str, object] = {
        "k": report.event_key,
        "t": TrackedState.for_report(report.status).value,
        "s": report.status.value,
        "e": int(report.error),
        "m": report.message_id,
        "tr": report.transport.value,
        "rt": to_micros(received_at),
    }
    if report.changed_at is not None:
        entry["ch"] = to_micros(report.changed_at)
    if report.cost is not None:
        entry["c"] = str(report.cost)
    if report.parts is not None:
        entry["p"] = report.parts
    if report.raw_status:
        entry["r"] = report.raw_status
    if report.client_id:
        entry["cl"] = report.client_id
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def decode_entry(blob: str) -> ReportEntry:
    """The :class:`ReportEntry` of one history entry."""
    entry = json.loads(blob)
    changed = entry.get("ch")
    cost = entry.get("c")
    return ReportEntry(
        status=MessageStatus(entry["s"]),
        error=DeliveryError(entry["e"]),
        changed_at=from_micros(changed) if changed is not None else None,
        received_at=from_micros(entry["rt"]),
        transport=Transport(entry["tr"]),
        message_id=entry["m"],
        event_key=entry["k"],
        cost=Decimal(cost) if cost is not None else None,
        raw_status=entry.get("r", ""),
    )


def encode_settlement(settlement: Settlement) -> str:
    """The JSON the settle script reads (``c`` client id, ``t`` state, ``m``/``i`` ids, ``p``
    parts, ``o`` cost, ``e``/``x`` error text and code)."""
    # Transports hand canonical ids already; canonical again (idempotent) is cheap insurance
    # against a hand-built Settlement, since receipts are matched on the canonical form.
    first = canonical_message_id(settlement.message_id) if settlement.message_id else None
    ids = [canonical_message_id(i) for i in settlement.part_ids]
    if first and first not in ids:
        ids.insert(0, first)
    entry: dict[str, object] = {"c": settlement.client_id, "t": settlement.state.value, "i": ids}
    if first:
        entry["m"] = first
    if settlement.parts is not None:
        entry["p"] = settlement.parts
    if settlement.cost is not None:
        entry["o"] = str(settlement.cost)
    if settlement.error is not None:
        entry["e"] = settlement.error
    if settlement.error_code is not None:
        entry["x"] = settlement.error_code
    # An empty Lua table encodes as an object: the ids always go as a JSON list, read by ipairs.
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


LOST = "the sending process stopped before the answer came"


def decode_record(
    fields: dict[str, str], reports: list[str] | None = None, *, orphaned: bool = False
) -> TrackedMessage:
    """The :class:`TrackedMessage` of a record hash (``orphaned``: it is ``SENDING`` in a sender
    that stopped, so it reads as ``UNKNOWN``)."""
    state = TrackedState(fields["st"])
    error = fields.get("err")
    if orphaned and state is TrackedState.SENDING:
        state, error = TrackedState.UNKNOWN, LOST
    pids = fields.get("pids")
    parts = fields.get("parts")
    status = fields.get("status")
    ecode = fields.get("ecode")
    derr = fields.get("derr")
    cost = fields.get("cost")
    transport = fields.get("tr")
    accepted = fields.get("aa")
    finished = fields.get("fa")
    return TrackedMessage(
        client_id=fields["cid"],
        recipient=fields.get("rcp", ""),
        state=state,
        transport=Transport(transport) if transport else None,
        message_id=fields.get("mid") or None,
        part_ids=tuple(pids.split("\n")) if pids else (),
        parts=int(parts) if parts is not None else None,
        status=MessageStatus(status) if status else None,
        error=error,
        error_code=int(ecode) if ecode is not None else None,
        delivery_error=DeliveryError(int(derr)) if derr is not None else None,
        cost=Decimal(cost) if cost is not None else None,
        attempts=int(fields.get("att", 0)),
        created_at=from_micros(fields["ca"]),
        updated_at=from_micros(fields["ua"]),
        accepted_at=from_micros(accepted) if accepted else None,
        finished_at=from_micros(finished) if finished else None,
        reports=tuple(decode_entry(blob) for blob in reports or ()),
        version=int(fields.get("ver", 0)),
    )
