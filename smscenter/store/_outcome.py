"""What a transport tells its caller about a message the store said not to send again.

``MessageStore.prepare`` answers with the record of a message that was sent before (accepted,
refused, or of unknown outcome). The transports do not send it; they report it from the record,
the same way for SMPP and HTTP: the ids of an accepted one as a :class:`~smscenter.SendResult`,
anything else as an error.
"""

from __future__ import annotations

from smscenter._provider import Transport
from smscenter.exceptions import (
    APIError,
    SMSCenterError,
    UnknownOutcomeError,
    ValidationError,
)
from smscenter.models import Message, SendResult
from smscenter.store._model import TrackedMessage, TrackedState

__all__ = ("check_tracked", "error_from_record", "result_from_record")


def check_tracked(message: Message) -> int | str:
    """The client id of a message a store can track: it needs one (the record's key) and one
    recipient (one record per client id).

    :raises ValidationError: either is missing.
    """
    cid = message.client_id
    if cid is None:
        raise ValidationError(
            "with a store, every message needs a client_id (the key of its record)"
        )
    if len(message.to) != 1:
        raise ValidationError(
            f"with a store, every message goes to one recipient (one record per client id); "
            f"client id {cid} has {len(message.to)}"
        )
    return cid


def result_from_record(
    record: TrackedMessage, client_id: int | str | None = None
) -> SendResult | None:
    """The :class:`~smscenter.SendResult` of a record the provider accepted (``None`` for any
    other record): its ids, parts and cost as the store holds them. ``client_id``: the
    message's own (an int stays an int; the record keeps it as text)."""
    if not record.state.was_accepted:
        return None
    return SendResult(
        message_id=record.message_id,
        parts=record.parts or max(1, len(record.part_ids)),
        cost=record.cost,
        part_ids=record.part_ids,
        client_id=record.client_id if client_id is None else client_id,
        transport=record.transport or Transport.HTTP,
        # A record accepted without a known id (confirmed by a duplicate refusal) has none.
        confirmed_by_duplicate=record.message_id is None,
    )


def error_from_record(record: TrackedMessage) -> SMSCenterError:
    """Why a record that was not accepted is not sent again.

    - ``REFUSED``: an :class:`~smscenter.exceptions.APIError` with the refusal's code and text.
    - ``UNKNOWN`` (or ``SENDING`` in another live sender): an
      :class:`~smscenter.exceptions.UnknownOutcomeError`: it may have gone out; send it again
      only with ``resend_unknown=True``.
    """
    cid = record.client_id
    if record.state is TrackedState.REFUSED:
        return APIError(
            record.error_code if record.error_code is not None else -1,
            f"refused when it was sent before (client id {cid}): {record.error or 'no reason'}",
            endpoint="send",
            transport=record.transport or Transport.HTTP,
        )
    if record.state is TrackedState.SENDING:
        why = (
            "is being sent right now (by another sender, or as an earlier message with the "
            "same client id: client ids must be unique)"
        )
    else:
        why = "was sent before and its outcome is unknown: it may have gone out"
    return UnknownOutcomeError(
        f"not sent again: client id {cid} {why}; pass resend_unknown=True to send it anyway "
        "(it may then arrive twice)",
        client_id=cid,
        recipients=(record.recipient,),
        transport=record.transport,
    )
