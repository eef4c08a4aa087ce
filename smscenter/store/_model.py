"""The values a message store keeps and hands back, shared by every store backend.

A record follows one message to one recipient, keyed by the caller's
:attr:`Message.client_id <smscenter.Message.client_id>`::

    QUEUED -> SENDING -> ACCEPTED | REFUSED | FAILED | UNKNOWN
    ACCEPTED (or UNKNOWN) -> DELIVERED | READ | EXPIRED | UNDELIVERABLE   (by reports)

``FAILED`` means a definite local failure before the provider had it (never written, refused by
validation, gave up on throttling): safe to send again. ``UNKNOWN`` means it was written but
never answered: it may have gone out, so it is reported and resent only when the caller asks.
A record found in ``SENDING`` when a store is opened again belongs to a process that stopped
mid-send: it is read as ``UNKNOWN``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import attrs

from smscenter._fastinit import fast_init, positional
from smscenter._provider import Transport
from smscenter.exceptions import (
    APIError,
    AuthenticationError,
    DuplicateRequestError,
    InsufficientFundsError,
    IPBlockedError,
    RateLimitError,
    SMSCenterError,
    UnknownOutcomeError,
)
from smscenter.models import DeliveryError, MessageStatus, SendResult

__all__ = (
    "NotTrackedError",
    "PlannedSend",
    "ReportEntry",
    "Settlement",
    "StoreError",
    "TrackedMessage",
    "TrackedState",
    "store_key",
)


class StoreError(SMSCenterError):
    """The message store could not read or write (a read-only file, a full disk, a lost
    connection to the store's server). What was being recorded is not taken as recorded: a send
    is not started, a receipt is not acknowledged to the SMSC (it comes again)."""


class NotTrackedError(SMSCenterError, LookupError):
    """The store holds no record for that client id."""


class TrackedState(enum.Enum):
    """Where a tracked message is (the ``state`` of a :class:`TrackedMessage`)."""

    QUEUED = "queued"  #: recorded, not yet handed to a transport
    SENDING = "sending"  #: handed to a transport: its bytes may be on the wire
    ACCEPTED = "accepted"  #: the provider took it and gave its id(s)
    REFUSED = "refused"  #: the provider refused it (a definite answer)
    FAILED = "failed"  #: a local, definite failure before the provider had it: safe to resend
    UNKNOWN = "unknown"  #: written, never answered: it may have been sent
    DELIVERED = "delivered"  #: a report said delivered
    READ = "read"  #: a report said read (messengers) or the link was clicked
    EXPIRED = "expired"  #: a report said the operator gave up (validity ran out)
    UNDELIVERABLE = "undeliverable"  #: a report said it could not be delivered

    @property
    def is_final(self) -> bool:
        """True when no report is expected to change it any more (READ aside)."""
        return self in _FINAL

    @property
    def was_accepted(self) -> bool:
        """True when the provider is known to have the message (accepted, or reported on)."""
        return self in _ACCEPTED_OR_LATER

    @property
    def may_send(self) -> bool:
        """True when sending it (again) cannot send it twice: nothing went out yet."""
        return self in (TrackedState.QUEUED, TrackedState.FAILED)

    @classmethod
    def for_report(cls, status: MessageStatus) -> TrackedState:
        """The state a report with ``status`` moves an accepted message to (``ACCEPTED`` for the
        statuses on the way: queued, transmitted, accepted, unknown)."""
        if status in (MessageStatus.READ, MessageStatus.LINK_CLICKED):
            return cls.READ
        if status is MessageStatus.DELIVERED:
            return cls.DELIVERED
        if status is MessageStatus.EXPIRED:
            return cls.EXPIRED
        if status.is_failure:
            return cls.UNDELIVERABLE
        return cls.ACCEPTED

    def after_report(self, status: MessageStatus) -> TrackedState:
        """The state once a report with ``status`` is applied: reports only move a message
        forward (a late "transmitted" does not undo "delivered"; "read" follows "delivered")."""
        new = TrackedState.for_report(status)
        return new if _RANK[new] > _RANK.get(self, 0) else self


_FINAL = frozenset(
    {
        TrackedState.REFUSED,
        TrackedState.DELIVERED,
        TrackedState.READ,
        TrackedState.EXPIRED,
        TrackedState.UNDELIVERABLE,
    }
)
_ACCEPTED_OR_LATER = frozenset(
    {
        TrackedState.ACCEPTED,
        TrackedState.DELIVERED,
        TrackedState.READ,
        TrackedState.EXPIRED,
        TrackedState.UNDELIVERABLE,
    }
)
# Order in which reports may move a record: a report on a message that was QUEUED, SENDING or
# UNKNOWN shows that the provider has it.
_RANK: Mapping[TrackedState, int] = {
    TrackedState.QUEUED: 0,
    TrackedState.SENDING: 0,
    TrackedState.UNKNOWN: 0,
    TrackedState.FAILED: 0,
    TrackedState.REFUSED: 0,
    TrackedState.ACCEPTED: 1,
    TrackedState.EXPIRED: 2,
    TrackedState.UNDELIVERABLE: 2,
    TrackedState.DELIVERED: 3,
    TrackedState.READ: 4,
}


# Refusals of the account, not of the message: the message itself may go once the account is
# put right (or the rate allows), so a resume sends it.
_ACCOUNT_REFUSALS = (AuthenticationError, InsufficientFundsError, IPBlockedError, RateLimitError)


def store_key(client_id: int | str) -> str:
    """The key a record is stored under: the client id as text (``5`` and ``"5"`` are one
    record, as they are one ``id`` for the provider's HTTP API)."""
    if type(client_id) is str:  # the common case, first: one call per record written
        return client_id
    if isinstance(client_id, bool) or not isinstance(client_id, int | str):
        raise TypeError("client_id must be an int or a str")
    return str(client_id)


@attrs.frozen(kw_only=True)
class ReportEntry:
    """One report in a record's history (an SMPP receipt, a callback, a status lookup)."""

    status: MessageStatus
    error: DeliveryError = DeliveryError.NO_ERROR
    changed_at: datetime | None = None  #: when the provider says the status changed
    received_at: datetime  #: when the store recorded it
    transport: Transport = Transport.SMPP
    message_id: str = ""  #: the canonical id the report was for
    event_key: str = ""  #: :attr:`DeliveryReport.event_key <smscenter.DeliveryReport.event_key>`
    cost: Decimal | None = None
    raw_status: str = ""


@attrs.frozen(kw_only=True)
class TrackedMessage:
    """What a store knows about one message (one recipient), keyed by its client id.

    :ivar client_id: the :attr:`Message.client_id <smscenter.Message.client_id>`, as text.
    :ivar recipient: the phone (or address) it went to.
    :ivar state: the :class:`TrackedState`.
    :ivar transport: the channel it was sent through.
    :ivar message_id: the provider's id (the first part's, canonical), once accepted.
    :ivar part_ids: every part's id, canonical.
    :ivar parts: SMS parts (as sent, or as a report billed them).
    :ivar status: the last report's status, if any report came.
    :ivar error: why it failed, was refused or is unknown (the error's text), if so.
    :ivar error_code: the provider's error code or SMPP command_status, if there was one.
    :ivar delivery_error: the delivery error of the last report.
    :ivar cost: the cost, when a report or the send's answer said it.
    :ivar attempts: how many times it was handed to a transport.
    :ivar created_at: / :ivar updated_at: / :ivar accepted_at: / :ivar finished_at: when it
        was first recorded, last changed, accepted, and reached a final state (aware, UTC).
    :ivar reports: the report history, oldest first (filled by ``get`` and ``find``; may be
        empty in listings and change feeds).
    :ivar version: a number that grows with every change in the store (the change feed's
        cursor).
    """

    client_id: str
    recipient: str
    state: TrackedState
    transport: Transport | None = None
    message_id: str | None = None
    part_ids: tuple[str, ...] = ()
    parts: int | None = None
    status: MessageStatus | None = None
    error: str | None = None
    error_code: int | None = None
    delivery_error: DeliveryError | None = None
    cost: Decimal | None = None
    attempts: int = 0
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    finished_at: datetime | None = None
    reports: tuple[ReportEntry, ...] = ()
    version: int = 0


# fast_init: a transport makes one PlannedSend and one Settlement per message it sends.
@fast_init
@attrs.frozen(kw_only=True)
class PlannedSend:
    """A message a transport is about to hand over, as the store first records it."""

    client_id: str = attrs.field(converter=store_key)
    recipient: str
    transport: Transport


@fast_init
@attrs.frozen(kw_only=True)
class Settlement:
    """How a send ended, as a transport tells the store (one per client id).

    Build it with :meth:`accepted` or :meth:`failed`; they decide the state in one place for
    every transport.
    """

    client_id: str = attrs.field(converter=store_key)
    state: TrackedState
    message_id: str | None = None
    part_ids: tuple[str, ...] = ()
    parts: int | None = None
    cost: Decimal | None = None
    error: str | None = None
    error_code: int | None = None

    @classmethod
    def accepted(cls, client_id: int | str, result: SendResult) -> Settlement:
        """The provider accepted it, with ``result``'s ids."""
        if cls is not Settlement:  # a subclass: through its own __init__
            return cls(
                client_id=client_id,
                state=TrackedState.ACCEPTED,
                message_id=result.message_id,
                part_ids=result.part_ids,
                parts=result.parts,
                cost=result.cost,
            )
        return make_settlement(
            client_id if type(client_id) is str else store_key(client_id),
            _ACCEPTED,
            result.message_id,
            result.part_ids,
            result.parts,
            result.cost,
        )

    @classmethod
    def failed(cls, client_id: int | str, error: BaseException) -> Settlement:
        """It did not end with ids. The state, decided here for every transport:

        - ``UNKNOWN`` when it may have gone out: :class:`~smscenter.exceptions.
          UnknownOutcomeError`, and a duplicate refusal
          (:class:`~smscenter.exceptions.DuplicateRequestError`: the provider holds an equal
          message from the last minute, maybe this one).
        - ``FAILED`` (safe to send again) when nothing reached the provider, or the provider
          refused the *account* rather than the message: not written, invalid, throttled until
          the client gave up, a wrong password, a blocked IP, no money left (a resume after a
          top-up sends it).
        - ``REFUSED`` (final) for the provider's refusal of this message: a bad number, a
          forbidden text, a blacklisted recipient, a bad parameter or time.
        """
        code = getattr(error, "code", None)
        if isinstance(error, UnknownOutcomeError | DuplicateRequestError):
            state = TrackedState.UNKNOWN
        elif isinstance(error, APIError) and not isinstance(error, _ACCOUNT_REFUSALS):
            state = TrackedState.REFUSED
        else:
            state = TrackedState.FAILED
        return cls(
            client_id=client_id,
            state=state,
            error=f"{type(error).__name__}: {error}",
            error_code=code if isinstance(code, int) else None,
        )


# A transport makes one PlannedSend and one Settlement per message it sends: positional
# constructors (smscenter._fastinit) for the library's own hot paths, fed a client id already
# through store_key (the only converter). Their field order is checked here.
#: ``make_planned(key, recipient, transport)``: a PlannedSend (``key``: a store_key result).
make_planned = positional(PlannedSend, converted=True)
#: ``make_settlement(key, state, message_id, part_ids, parts, cost, error, error_code)``.
make_settlement = positional(Settlement, converted=True)
_ACCEPTED = TrackedState.ACCEPTED
if tuple(f.name for f in attrs.fields(PlannedSend)) != (
    "client_id",
    "recipient",
    "transport",
) or tuple(f.name for f in attrs.fields(Settlement)) != (
    "client_id",
    "state",
    "message_id",
    "part_ids",
    "parts",
    "cost",
    "error",
    "error_code",
):  # pragma: no cover
    raise ImportError("PlannedSend's or Settlement's fields changed: update their makers")
