"""The files of a bulk job: the recipients CSV in, the result CSV out, and what a resumed run
sends given the results so far (:func:`plan`). The formats are described in
:mod:`smscenter.cli.bulk`, which also exports every name here.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Final, Protocol, TextIO

import attrs

__all__ = (
    "ID_COLUMNS",
    "RESULT_HEADER",
    "BulkError",
    "Outcome",
    "Plan",
    "Recipient",
    "ResultFile",
    "ResultRow",
    "plan",
    "read_recipients",
)

# The logger of the bulk job as a whole (these records were logged under this name before the
# files had a module of their own; a logging setup may name it).
logger = logging.getLogger("smscenter.cli.bulk")

RESULT_HEADER: Final = ("row", "phone", "outcome", "message_id", "parts", "client_id", "error")
#: Header names of an input column holding each row's own client id.
ID_COLUMNS: Final = ("client_id", "id")


class BulkError(Exception):
    """The input or the result file cannot be used (the message says where and why)."""


class Outcome(enum.Enum):
    """What is known about one message (the result file's ``outcome`` column)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class Recipient:
    """One input row: its 1-based data row number, the phone and the text to send, and its
    own client id when the input has an ``id`` (or ``client_id``) column."""

    row: int
    phone: str
    text: str
    client_id: str | None = None


@attrs.frozen(kw_only=True)
class ResultRow:
    """One line of the result file."""

    row: int
    phone: str
    outcome: Outcome
    message_id: str = ""
    parts: int | None = None
    client_id: str = ""
    error: str = ""


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise BulkError(f"the text template uses {{{key}}}, which is not a column of the input")


def _looks_like_header(cells: list[str]) -> bool:
    return bool(cells) and not any(c.isdigit() for c in cells[0])


def read_recipients(source: TextIO | Iterable[str], *, template: str | None) -> list[Recipient]:
    """Read the recipients CSV.

    :param template: the text for rows that have none; ``{phone}`` and, with a header row,
        ``{<column>}`` are filled in (``{{`` and ``}}`` for literal braces).
    :raises BulkError: a row has no text and there is no template, or the template names an
        unknown column.
    """
    reader = csv.reader(source)
    phone_col, text_col, id_col = 0, 1, -1
    names: list[str] | None = None
    out: list[Recipient] = []
    number = 0
    for line, cells in enumerate(reader, start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if names is None and number == 0 and _looks_like_header(cells):
            names = [c.lower() for c in cells]
            phone_col = names.index("phone") if "phone" in names else 0
            text_col = next((names.index(n) for n in ("text", "message") if n in names), -1)
            id_col = next((names.index(n) for n in ID_COLUMNS if n in names), -1)
            continue
        number += 1
        phone = cells[phone_col] if phone_col < len(cells) else ""
        client_id = cells[id_col] if 0 <= id_col < len(cells) and cells[id_col] else None
        text = cells[text_col] if 0 <= text_col < len(cells) else ""
        if not text:
            if template is None:
                raise BulkError(
                    f"line {line}: no text for {phone or 'this row'}; give a text column or "
                    "--text TEMPLATE"
                )
            fields = _Fields({"phone": phone})
            if names is not None:
                fields.update({n: c for n, c in zip(names, cells, strict=False) if n})
            try:
                text = template.format_map(fields)
            except (ValueError, IndexError) as error:
                raise BulkError(f"the text template is malformed: {error}") from None
        out.append(Recipient(row=number, phone=phone, text=text, client_id=client_id))
    return out


class _CSVWriter(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


class ResultFile:
    """The result CSV: read what an earlier run recorded, append what this run learns.

    Every row is flushed at once, so an interrupted run leaves a complete record.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._csv: _CSVWriter | None = None

    def read(self) -> dict[int, ResultRow]:
        """The last recorded row per input row (empty when the file does not exist).

        :raises BulkError: the file is not a result file.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        rows: dict[int, ResultRow] = {}
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            return rows
        if tuple(header) != RESULT_HEADER:
            raise BulkError(
                f"{self.path} is not a bulk result file (its header is not "
                f"{','.join(RESULT_HEADER)}); choose another --out"
            )
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(RESULT_HEADER):
                # The last line of a killed run may be cut short: it recorded nothing usable.
                logger.warning("bulk.result.skipped_line path=%s line=%d", self.path, line)
                continue
            try:
                row = ResultRow(
                    row=int(cells[0]),
                    phone=cells[1],
                    outcome=Outcome(cells[2]),
                    message_id=cells[3],
                    parts=int(cells[4]) if cells[4] else None,
                    client_id=cells[5],
                    error=cells[6],
                )
            except ValueError:
                raise BulkError(f"{self.path}, line {line}: not a result row") from None
            rows[row.row] = row
        return rows

    def open(self) -> None:
        """Open for appending (writing the header to a new or empty file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        file = self.path.open("a", encoding="utf-8", newline="")
        if not new:
            # A killed run may have left half a line: start ours on a fresh one.
            with self.path.open("rb") as check:
                check.seek(-1, 2)
                if check.read(1) not in (b"\n", b"\r"):
                    file.write("\r\n")
        self._file = file
        self._csv = csv.writer(file)
        if new:
            self._csv.writerow(RESULT_HEADER)
            file.flush()

    def write(self, row: ResultRow) -> None:
        """Append one row and flush it."""
        assert self._csv is not None and self._file is not None, "open() first"
        parts = "" if row.parts is None else str(row.parts)
        self._csv.writerow(
            (row.row, row.phone, row.outcome.value, row.message_id, parts, row.client_id, row.error)
        )
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._csv = None


@attrs.frozen(kw_only=True)
class Plan:
    """What a (resumed) run will do: the recipients to send and what it skips."""

    todo: list[Recipient]
    already_sent: int = 0
    skipped_unknown: int = 0


def plan(
    recipients: list[Recipient], previous: dict[int, ResultRow], *, resend_unknown: bool
) -> Plan:
    """Decide which recipients a run sends, given the earlier results.

    :raises BulkError: the result file belongs to another input (a row's phone differs).
    """
    todo: list[Recipient] = []
    already = unknown = 0
    for recipient in recipients:
        done = previous.get(recipient.row)
        if done is None:
            todo.append(recipient)
            continue
        if done.phone != recipient.phone:
            raise BulkError(
                f"the result file does not match this input: row {recipient.row} was "
                f"{done.phone}, now {recipient.phone}; use another --out for another list"
            )
        if done.outcome is Outcome.SENT:
            already += 1
        elif done.outcome in (Outcome.PENDING, Outcome.UNKNOWN) and not resend_unknown:
            unknown += 1
        else:
            todo.append(recipient)
    return Plan(todo=todo, already_sent=already, skipped_unknown=unknown)
