"""The :class:`MessageStore` protocol: what the transports write and what applications read.

Every backend (:class:`~smscenter.store.SQLiteStore` embedded, ``RedisStore`` for a fleet)
implements it, and one conformance suite (``tests/store/``) runs against each.

Durability contract, the same for every backend:

- :meth:`MessageStore.prepare` returns only once the records it moved to ``SENDING`` are
  durable: a transport calls it before any byte of those messages goes out.
- :meth:`MessageStore.settle` and :meth:`MessageStore.record` return only once what they were
  given is durable: an SMPP receipt is acknowledged to the SMSC, and ``send_many`` yields an
  outcome, only after that.
- All three take batches, and a backend commits a batch in one transaction, so a store costs a
  commit per batch, not per message.
- Writes are idempotent: settling or recording the same thing twice changes nothing the second
  time (a repeated receipt adds no history entry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from smscenter.models import DeliveryReport
from smscenter.store._model import PlannedSend, Settlement, TrackedMessage, TrackedState

__all__ = ("MessageStore",)


@runtime_checkable
class MessageStore(Protocol):
    """Where tracked messages live (see the module docstring for the durability contract).

    A store is an async context manager (``async with SQLiteStore(path) as store``); the
    transports given ``store=`` use it but do not open or close it.
    """

    async def __aenter__(self) -> MessageStore: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def aclose(self) -> None:
        """Flush what is buffered and close (idempotent)."""

    # --- written by the transports --------------------------------------------------------

    async def prepare(
        self, sends: Sequence[PlannedSend], *, resend_unknown: bool = False
    ) -> list[TrackedMessage | None]:
        """Claim ``sends`` for sending, in one transaction; one answer per send, in order.

        ``None``: go ahead. The record is new, or was ``QUEUED``/``FAILED`` (or ``UNKNOWN`` and
        ``resend_unknown``); it is now ``SENDING`` with one more attempt, durably.
        A :class:`TrackedMessage`: do not send. The record is accepted or later, refused,
        unknown (without ``resend_unknown``), or ``SENDING`` in a live sender; the caller reports
        the record instead of sending.

        :raises StoreError: nothing could be recorded; nothing may be sent.
        """
        ...

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        """Record how sends ended (ids, refusal, failure, unknown), durably, then match any
        receipts that came for those ids before the send's answer did.

        :raises StoreError: not recorded (the caller must not treat them as recorded).
        """
        ...

    async def record(self, *reports: DeliveryReport) -> None:
        """Record delivery reports, durably and idempotently (by ``event_key``).

        A report is matched by its canonical message id (any part's) or, failing that, by its
        ``client_id``; one the store cannot match yet (it came before its send's answer, or
        from another process's send not settled yet) is kept and matched when the id is
        settled: never dropped.

        :raises StoreError: not recorded: the caller must not acknowledge the reports.
        """
        ...

    # --- read by applications --------------------------------------------------------------

    async def get(self, client_id: int | str) -> TrackedMessage:
        """The record of ``client_id``, with its report history.

        :raises NotTrackedError: no such record.
        """
        ...

    async def find(self, message_id: str) -> TrackedMessage | None:
        """The record that a provider message id (any part's, any id style) belongs to."""
        ...

    def changes(self, *, since: int = 0) -> AsyncIterator[TrackedMessage]:
        """Records as they change, forever (until the store closes), in the order of their
        :attr:`TrackedMessage.version`, starting after version ``since``: resume a feed from
        the last version seen. Includes changes made by other processes on the same store."""
        ...

    async def counts(self) -> Mapping[TrackedState, int]:
        """How many records are in each state (for progress); states with none are left out."""
        ...

    def records(
        self, *, states: Iterable[TrackedState] | None = None, limit: int | None = None
    ) -> AsyncIterator[TrackedMessage]:
        """Records (without history), optionally only those in ``states``, oldest first."""
        ...

    async def purge(self, *, older_than: timedelta) -> int:
        """Delete records (and their history and id index) that have not changed for
        ``older_than``, and unmatched reports as old; return how many records went."""
        ...
