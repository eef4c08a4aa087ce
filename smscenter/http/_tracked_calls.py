"""``HTTPClient(..., store=store)``: a send recorded before its request and settled after it.

One message, one record keyed by its client id (send.php's ``id``, which the provider also
gives the message, smscentre.com/api/http): ``prepare`` marks it ``sending`` durably before the
request can go out; the answer settles it (accepted with its id, refused, failed before it was
written, or unknown when it was written and never answered). ``HTTPClient.settle`` settles an
unknown one once status.php tells.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from smscenter._provider import Transport
from smscenter.exceptions import SMSCenterError, UnknownOutcomeError
from smscenter.models import Message, SendResult
from smscenter.store._model import NotTrackedError, PlannedSend, Settlement, StoreError
from smscenter.store._outcome import check_tracked, error_from_record, result_from_record
from smscenter.store._protocol import MessageStore

__all__ = ("send_tracked", "settle_tracked")

logger = logging.getLogger(__name__)

_HTTP = Transport.HTTP


async def send_tracked(
    store: MessageStore,
    message: Message,
    send: Callable[[], Awaitable[SendResult]],
    *,
    resend_unknown: bool,
) -> SendResult:
    """Claim ``message`` in ``store``, run ``send`` unless the store says it was sent before,
    settle the record with what ``send`` did, and return or raise that.

    :raises ValidationError: no client id, or several recipients.
    :raises StoreError: not claimed (nothing sent), or its end could not be recorded.
    """
    cid = check_tracked(message)
    planned = PlannedSend(client_id=cid, recipient=message.to[0], transport=_HTTP)
    (record,) = await store.prepare([planned], resend_unknown=resend_unknown)
    if record is not None:  # sent before: report it, do not send it again
        result = result_from_record(record, cid)
        if result is None:
            raise error_from_record(record)
        return result
    try:
        result = await send()
    except anyio.get_cancelled_exc_class():
        # The request may be in flight: the record must not look safe to send again.
        unknown = UnknownOutcomeError(
            f"the send (client id {cid}) was cancelled while its request may have been in "
            "flight; it may have been sent",
            client_id=cid,
            recipients=message.to,
            transport=_HTTP,
        )
        with anyio.CancelScope(shield=True):
            await _settle(store, Settlement.failed(cid, unknown))
        raise
    except Exception as error:
        await _settle(store, Settlement.failed(cid, error))
        raise
    await _settle(store, Settlement.accepted(cid, result))
    return result


async def settle_tracked(
    store: MessageStore, client_id: int | str, result: SendResult | None
) -> None:
    """What ``HTTPClient.settle`` found out about an unknown send: accepted (``result``) or
    never sent (``None``: safe to send again). A client id the store does not track is left
    alone."""
    if result is not None:
        settlement = Settlement.accepted(client_id, result)
    else:
        settlement = Settlement.failed(
            client_id,
            SMSCenterError(
                f"the provider holds no message with client id {client_id}: it was not sent"
            ),
        )
    try:
        await _settle(store, settlement)
    except NotTrackedError:
        return


async def _settle(store: MessageStore, settlement: Settlement) -> None:
    """``store.settle`` for one send; any failure but NotTrackedError becomes a StoreError
    that says what could not be recorded (the ids of an accepted send among it)."""
    try:
        await store.settle([settlement])
    except NotTrackedError:
        raise
    except Exception as error:
        what = (
            f"accepted as {settlement.message_id}"
            if settlement.state.was_accepted
            else f"{settlement.state.value}: {settlement.error}"
        )
        logger.error(
            "http store: could not record how client id %s ended (%s): %s",
            settlement.client_id,
            what,
            error,
        )
        raise StoreError(
            f"the store could not record how client id {settlement.client_id} ended "
            f"({what}): {error}"
        ) from error
