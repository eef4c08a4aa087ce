"""The rows of the SQLite store's write transaction (:mod:`._sqlite_tx`), as JSON text: the
compact rows each operation of :mod:`._sqlite_ops` reads, rendered in the writer thread.

The common rows are written as JSON text directly (each string through the json module's C
escaper): cheaper than a list per row for the encoder, and the writer thread holds the GIL
while it does this. The rare shapes go through the encoder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from operator import is_

from smscenter._provider import Transport
from smscenter.ids import canonical_message_id
from smscenter.models import DeliveryReport, MessageStatus
from smscenter.store._model import Settlement, TrackedState
from smscenter.store._sqlite_schema import dump_ids, to_micros

__all__ = (
    "Fragments",
    "array",
    "dumps",
    "folded_rows",
    "quote",
    "report_row",
    "settle_row",
    "tailed",
)

# No check for circular lists (the rows are flat lists of plain values): that check keeps a
# dict entry per list and costs more than the encoding itself.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
quote: Callable[[str], str] = json.encoder.encode_basestring

# Enum values written between quotes unescaped: plain words (checked here, once).
assert all(re.fullmatch(r"[a-z_]+", e.value) for e in (*MessageStatus, *Transport, *TrackedState))


def _usual_ids(first: str, part_ids: tuple[str, ...]) -> bool:
    """The usual ids of an accepted send: one part, its id canonical already (a transport's
    SendResult has it so) and stored as itself (see dump_ids)."""
    return (
        first != ""
        and len(part_ids) == 1
        and first == part_ids[0]
        # (canonical_message_id's common case inline: a decimal id with no leading zero)
        and (
            (first.isdigit() and first.isascii() and first[0] != "0")
            or canonical_message_id(first) == first
        )
        and "," not in first
        and first[0] != "["
    )


def settle_row(s: Settlement, more: list[tuple[str, str]]) -> str:
    """An accepted settlement's row, as JSON (its extra part ids go to ``more``): [client id,
    first id, part ids (null: the first id alone), parts, cost]; or a failed one's: [client
    id, state, error, error code, final?, 0] (six items: told apart by its item 5)."""
    key = s.client_id
    state = s.state
    if state is not TrackedState.ACCEPTED:
        final = 1 if state.is_final else None
        return dumps([key, state._value_, s.error, s.error_code, final, 0])
    part_ids = s.part_ids
    first = s.message_id
    cost = s.cost
    text = None if cost is None else str(cost)
    if first is not None and _usual_ids(first, part_ids):
        parts = s.parts
        return (
            f"[{quote(key)},{quote(first)},null,{'null' if parts is None else int(parts)},"
            f"{'null' if text is None else quote(text)}]"
        )
    ids = [canonical_message_id(i) for i in part_ids]
    if first is not None:
        first = canonical_message_id(first)
        if first not in ids:
            ids.insert(0, first)
    if not ids:
        return dumps([key, None, None, s.parts, text])
    more.extend((i, key) for i in ids[1:])
    stored = dump_ids(ids)
    return dumps([key, ids[0], None if stored == ids[0] else stored, s.parts, text])


_NOTHING = object()


class Fragments:
    """What a receipt's row takes from its status, error, time, cost, parts and raw status
    (and, folded, its settlement's parts and cost), rendered once for a run of receipts that
    share them. The receipt reader gives the receipts of one SMSC text the same field objects
    (:class:`~smscenter.smpp.receipts.ReceiptReader`), so consecutive receipts usually do: one
    entry, matched by identity (equal but distinct values, such as ``Decimal("1.5")`` and
    ``Decimal("1.50")``, may render differently)."""

    __slots__ = ("entry_tail", "key", "report_key", "report_tail", "row_tail")

    def __init__(self) -> None:
        # A folded row's (settlement and receipt), and a receipt's row of its own; the keys
        # start as objects no field is.
        self.key: tuple[object, ...] = (_NOTHING,) * 8
        self.row_tail = self.entry_tail = ""
        self.report_key: tuple[object, ...] = (_NOTHING,) * 7
        self.report_tail = ""


def report_row(
    r: DeliveryReport, memo: Fragments, rows: list[str], tails: list[str | None]
) -> None:
    """A receipt's row [event_key, message_id, client_id, tail] added to ``rows`` (without its
    tail's position: see :func:`tailed`), and its tail [status, error, changed_at, transport,
    cost, parts, raw_status] to ``tails`` (rendered once for a run of receipts that share
    it: see :class:`Fragments`)."""
    key = (r.status, r.error, r.changed_at, r.transport, r.cost, r.parts, r.raw_status)
    if not all(map(is_, memo.report_key, key)):
        status, error, changed, transport, cost, parts, raw = key
        memo.report_tail = (
            f'["{status._value_}",{int(error._value_)},'
            f'{"null" if changed is None else to_micros(changed)},"{transport._value_}",'
            f"{'null' if cost is None else quote(str(cost))},"
            f"{'null' if parts is None else int(parts)},{quote(raw)}]"
        )
        memo.report_key = key
    named = r.client_id
    rows.append(
        f"[{quote(r.event_key)},{quote(r.message_id)},{'null' if named is None else quote(named)},"
    )
    tails.append(memo.report_tail)


def tailed(rows: list[str], tails: list[str | None], start: int, end: int) -> tuple[str, str]:
    """The operation of ``rows[start:end]``, rows that share their tails (see
    ``_sqlite_ops._tails``): each row is completed with the position of its tail among the
    run's distinct tails (in place: ``rows`` then holds the whole rows). Returns the rows and
    the distinct tails, as JSON arrays. Tails are told apart by identity (one text per run of
    equal fields: :class:`Fragments`)."""
    distinct: list[str] = []
    last: str | None = None
    ending = ""
    for i in range(start, end):
        tail = tails[i]
        if tail is not last:
            assert tail is not None
            last = tail
            ending = f"{len(distinct)}]"
            distinct.append(tail)
        rows[i] += ending
    return array(rows[start:end]), array(distinct)


# A report's status -> (the state it leaves an ACCEPTED record in, whether that is final).
_FROM_ACCEPTED = {
    status._value_: (
        TrackedState.ACCEPTED.after_report(status)._value_,
        TrackedState.ACCEPTED.after_report(status).is_final,
    )
    for status in MessageStatus
}


def folded_rows(
    s: Settlement,
    r: DeliveryReport,
    rows: list[str],
    row_tails: list[str | None],
    entries: list[str],
    entry_tails: list[str | None],
    memo: Fragments,
) -> bool:
    """An accepted settlement and its receipt as one ``folded`` row ([client_id, id, tail];
    its tail [parts, cost (the receipt's, else the settlement's), status, error, the state
    after the receipt from ACCEPTED, final then?]) added to ``rows`` / ``row_tails``, and the
    receipt's history entry (op ``entries``: [event_key, message_id, client_id, tail]; its
    tail [status, error, changed_at, cost, parts, raw_status]) to ``entries`` /
    ``entry_tails`` (the rows without their tails' positions: see :func:`tailed`); False
    (nothing added) when the settlement is not the usual shape (one part, its id canonical
    already). (No tuple per message: each container a message makes counts toward the
    collector's next run.)"""
    part_ids = s.part_ids
    first = s.message_id
    if s.state is not TrackedState.ACCEPTED or first is None or not _usual_ids(first, part_ids):
        return False
    key = (r.status, r.error, r.changed_at, r.cost, r.parts, r.raw_status, s.parts, s.cost)
    if not all(map(is_, memo.key, key)):
        status, error, changed, rcost, rparts, raw, parts, cost = key
        value = status._value_
        state, final = _FROM_ACCEPTED[value]
        code = int(error._value_)
        cost_text = "null" if rcost is None else quote(str(rcost))
        parts_text = "null" if rparts is None else str(int(rparts))
        memo.row_tail = (
            f"[{parts_text if rparts is not None or parts is None else int(parts)},"
            f"{cost_text if rcost is not None or cost is None else quote(str(cost))},"
            f'"{value}",{code},"{state}",{1 if final else "null"}]'
        )
        memo.entry_tail = (
            f'["{value}",{code},{"null" if changed is None else to_micros(changed)},'
            f"{cost_text},{parts_text},{quote(raw)}]"
        )
        memo.key = key
    cid, mid = quote(s.client_id), quote(first)
    rows.append(f"[{cid},{mid},")
    row_tails.append(memo.row_tail)
    entries.append(f"[{quote(r.event_key)},{mid},{cid},")
    entry_tails.append(memo.entry_tail)
    return True


def array(texts: Sequence[str]) -> str:
    return "[" + ",".join(texts) + "]"
