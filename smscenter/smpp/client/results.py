"""The values the SMPP client hands back: :class:`SendOutcome` (one per message and recipient of
``send_many``), :class:`QueryResult` (``query_sm``) and :class:`SMPPStatistics` (counters)."""

from __future__ import annotations

import attrs

from smscenter._fastinit import fast_init, positional
from smscenter.ids import canonical_message_id
from smscenter.models import Message, MessageStatus, SendResult
from smscenter.store._model import TrackedMessage

__all__ = ("QueryResult", "SMPPStatistics", "SendOutcome")


@attrs.frozen(kw_only=True)
class SendOutcome:
    """How one message (to one recipient) ended, as :meth:`SMPPPool.send_many
    <smscenter.smpp.client.pool.SMPPPool.send_many>` reports it.

    :ivar index: the message's position in the input (0-based); a message with several
        recipients yields one outcome per recipient, all with the same index.
    :ivar message: the message as given.
    :ivar recipient: the recipient this outcome is for.
    :ivar result: the ids, when the SMSC accepted it.
    :ivar error: why not: an :class:`~smscenter.exceptions.APIError` (refused),
        :class:`~smscenter.exceptions.PoolTimeout` / :class:`~smscenter.exceptions.ConnectionLost`
        (never written: safe to resend), :class:`~smscenter.exceptions.UnknownOutcomeError`
        (written, never answered: it may have been sent), or a ``ValueError`` (SMPP cannot
        carry it). With a store: a :class:`~smscenter.exceptions.ValidationError` (no client id,
        or several recipients), a :class:`~smscenter.store.StoreError` (accepted, see
        ``result``, but the store could not record it), or the error rebuilt from ``tracked``.
    :ivar tracked: with a store (``SMPPPool(..., store=)``): the record of a message the store
        said not to send again, because an earlier run sent it; it was not sent this time.
        ``result`` then holds its ids if it was accepted before (not sent twice), and ``error``
        says why not otherwise: an :class:`~smscenter.exceptions.UnknownOutcomeError` for a
        record whose outcome is unknown (send it again with ``resend_unknown=True``), an
        :class:`~smscenter.exceptions.APIError` for one refused before. ``None`` for a message
        sent now.
    """

    index: int
    message: Message
    recipient: str
    result: SendResult | None = None
    error: BaseException | None = None
    tracked: TrackedMessage | None = None

    @property
    def ok(self) -> bool:
        """True when the SMSC accepted the message."""
        return self.error is None

    @property
    def message_id(self) -> str | None:
        """The (first part's) message id, when accepted."""
        return self.result.message_id if self.result is not None else None


# One SendOutcome per message: the cheaper constructors of smscenter._fastinit.
fast_init(SendOutcome)
#: ``make_outcome(index, message, recipient, result, error)``, positional (pool.send_many).
make_outcome = positional(SendOutcome)
if tuple(f.name for f in attrs.fields(SendOutcome)) != (
    "index",
    "message",
    "recipient",
    "result",
    "error",
    "tracked",
):  # pragma: no cover
    raise ImportError("SendOutcome's fields changed: update make_outcome's callers")


@attrs.frozen(kw_only=True)
class QueryResult:
    """The answer to ``query_sm`` (SMPP 3.4 §4.8.2).

    :ivar message_id: the id asked about, canonical
        (:func:`~smscenter.ids.canonical_message_id`, as on :class:`~smscenter.SendResult`).
    :ivar status: the state as a :class:`~smscenter.models.MessageStatus`.
    :ivar message_state: the raw ``message_state`` number.
    :ivar final_date: when it reached a final state, as the SMSC wrote it (empty if not final).
    :ivar error_code: the network error code (0: none).
    :ivar raw_message_id: the id as ``query_sm_resp`` carried it.
    """

    message_id: str
    status: MessageStatus
    message_state: int
    final_date: str = ""
    error_code: int = 0
    raw_message_id: str = ""

    def __attrs_post_init__(self) -> None:
        raw = self.message_id
        if not self.raw_message_id:
            object.__setattr__(self, "raw_message_id", raw)
        object.__setattr__(self, "message_id", canonical_message_id(raw))


@attrs.frozen(kw_only=True)
class SMPPStatistics:
    """Counters of a session or pool, at one moment. ``submitted`` ... ``unknown`` count
    ``submit_sm`` PDUs (a long message counts once per part).

    :ivar submitted: submit_sm written to the wire (resends included).
    :ivar acknowledged: submit_sm accepted (submit_sm_resp with status 0).
    :ivar rejected: submit_sm refused for good (non-zero status other than throttling).
    :ivar throttled: throttle answers (0x58, 0x14); those parts were resent.
    :ivar unknown: written but never answered (response timeout or link lost); a message put
        back for a resend after a drop that ends in the queue instead counts once.
    :ivar in_flight: requests awaiting their response now.
    :ivar queued: messages waiting for a bind.
    :ivar binds_up: binds bound now; :ivar binds: binds configured.
    :ivar reconnects: binds re-established after a drop.
    :ivar reports: delivery reports and incoming messages handed to the stream.
    :ivar reports_deferred: deliver_sm answered "try later" because the stream was full (with
        a store: because the receipts waiting to be recorded filled ``report_buffer``, or the
        store failed a moment ago).
    :ivar reports_recorded: (with a store) receipts written to the store, then acknowledged.
    :ivar store_errors: (with a store) batches the store failed to write: receipts left
        unacknowledged (the SMSC delivers them again), sends whose settlement was not recorded
        (their outcomes carry a :class:`~smscenter.store.StoreError`). Each is logged.
    :ivar rate: the send rate limit in force (messages per second; None: none).
    :ivar late_accepted: / :ivar late_refused: submit_sm answered after their response
        timeout (their callers got ``UnknownOutcomeError``), accepted / refused after all
        (see :class:`~smscenter.smpp.LateAnswer`).
    """

    submitted: int = 0
    acknowledged: int = 0
    rejected: int = 0
    throttled: int = 0
    unknown: int = 0
    in_flight: int = 0
    queued: int = 0
    binds_up: int = 0
    binds: int = 1
    reconnects: int = 0
    reports: int = 0
    reports_deferred: int = 0
    rate: float | None = None
    late_accepted: int = 0
    late_refused: int = 0
    reports_recorded: int = 0
    store_errors: int = 0


class Counters:
    """The running counts behind :class:`SMPPStatistics` (shared by a pool's binds)."""

    __slots__ = (
        "acknowledged",
        "late_accepted",
        "late_refused",
        "rejected",
        "reports",
        "reports_deferred",
        "reports_recorded",
        "store_errors",
        "submitted",
        "throttled",
        "unknown",
    )

    def __init__(self) -> None:
        self.submitted = self.acknowledged = self.rejected = self.throttled = 0
        self.unknown = self.reports = self.reports_deferred = 0
        self.late_accepted = self.late_refused = 0
        self.reports_recorded = self.store_errors = 0

    def snapshot(
        self,
        *,
        unknown: int,
        in_flight: int,
        queued: int,
        binds_up: int,
        binds: int,
        rate: float | None,
        reconnects: int = 0,
    ) -> SMPPStatistics:
        """These counts now, with ``unknown`` more unknown outcomes (counted by the queue) and
        what the session or pool knows (``in_flight`` ... ``reconnects``)."""
        return SMPPStatistics(
            submitted=self.submitted,
            acknowledged=self.acknowledged,
            rejected=self.rejected,
            throttled=self.throttled,
            unknown=self.unknown + unknown,
            in_flight=in_flight,
            queued=queued,
            binds_up=binds_up,
            binds=binds,
            reconnects=reconnects,
            reports=self.reports,
            reports_deferred=self.reports_deferred,
            rate=rate,
            late_accepted=self.late_accepted,
            late_refused=self.late_refused,
            reports_recorded=self.reports_recorded,
            store_errors=self.store_errors,
        )
