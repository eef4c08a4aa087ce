""":class:`HTTPClient` sends and their settling: send.php, kept out of the transport module.

:class:`SendCalls` is a base class of :class:`~smscenter.http.client.HTTPClient`: it gives every
send a client id, turns a send written but never answered into
:class:`~smscenter.UnknownOutcomeError`, reconciles a retry refused as a duplicate (error 9)
by asking status.php, settles an unknown outcome on request (:meth:`SendCalls.settle`) and
records each send in the message store when the client has one (see
:mod:`smscenter.http._outcome` and :mod:`smscenter.http._tracked_calls`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from smscenter import exceptions as exc
from smscenter._provider import Transport
from smscenter._scrub import scrub_error
from smscenter.config import Timeouts
from smscenter.http import _protocol as proto
from smscenter.http._core_calls import CoreCalls
from smscenter.http._outcome import SendAttempts, lookup
from smscenter.http._tracked_calls import send_tracked, settle_tracked
from smscenter.models import (
    Cost,
    Message,
    SendResult,
)
from smscenter.store._protocol import MessageStore

__all__ = ("SendCalls",)

# The client's logger: these records are the client's, whichever module writes them.
logger = logging.getLogger("smscenter.http.client")


class SendCalls(CoreCalls):
    """send.php: send, send a list, price, and settle a send of unknown outcome."""

    __slots__ = ()

    if TYPE_CHECKING:
        _store: MessageStore | None
        _timeouts: Timeouts

        def _secrets(self, request: proto.Request) -> tuple[str, ...]: ...

        async def _call_with_attempts(
            self, request: proto.Request, sends: SendAttempts | None = None
        ) -> tuple[Any, int]: ...

    def _new_client_id(self) -> str:
        # A string id (up to 40 of [A-Za-z0-9._-], send.php on smscentre.com/api/http) with 128
        # random bits: unlike a random int it cannot collide with the account's other messages.
        return f"r{secrets.token_hex(16)}"

    def _with_client_id(self, message: Message) -> Message:
        # A retry may resend a request whose first copy was accepted, and an answer may be lost
        # for good; a client id lets status.php tell what happened (see settle()).
        if message.client_id is not None:
            return message
        return attrs.evolve(message, client_id=self._new_client_id())

    async def send(
        self, message: Message, *, per_recipient: bool = False, resend_unknown: bool = False
    ) -> SendResult:
        """Send a message (send.php with ``cost=3``, so the result has cost and balance).

        Every send carries a client id (yours, or a random one added here). A retried send is
        never billed twice: retries start only inside the provider's one-minute duplicate window
        of the first attempt that may have reached it, and if a retry is refused as a duplicate
        (error 9), status.php is asked by client id whether the first attempt got through; if it
        did, the result has :attr:`SendResult.confirmed_by_status` set.

        With a store (``HTTPClient(..., store=)``), the message needs a ``client_id`` and one
        recipient; it is recorded before the request and settled with its outcome. One the
        store holds as sent before is not sent again: an accepted one returns its stored ids, a
        refused one raises its :class:`~smscenter.APIError`, one of unknown outcome raises
        :class:`~smscenter.UnknownOutcomeError` unless ``resend_unknown``.

        :param per_recipient: ask for each recipient's status, operator and cost (``op=1``).
        :param resend_unknown: (with a store) send it even if the store holds it as
            ``unknown`` (written before and never answered: it may then arrive twice).
        :raises TypeError: the message is not a :class:`Message` (its own validation happens
            when it is built, before any request).
        :raises smscenter.ValidationError: (with a store) no ``client_id``, or several
            recipients.
        :raises smscenter.store.StoreError: (with a store) it could not be recorded, so it was
            not sent; or its outcome could not be recorded (the error says it).
        :raises smscenter.APIError: the provider refused (a subclass per error code).
        :raises smscenter.TransportError: the request never reached the provider whole (no
            connection, not written): nothing was sent, and sending again is safe.
        :raises smscenter.UnknownOutcomeError: the request was written and no answer came (or a
            retry was refused as a duplicate and the status check failed): it may have been
            sent. The error carries the client id; :meth:`settle` asks the provider.
        """
        if not isinstance(message, Message):
            raise TypeError("send() takes a smscenter.Message")
        if self._store is not None:
            tracked = message
            request = proto.send_request(tracked, per_recipient=per_recipient)
            return await send_tracked(
                self._store,
                tracked,
                lambda: self._send(request, tracked.client_id, tracked.to),
                resend_unknown=resend_unknown,
            )
        message = self._with_client_id(message)
        request = proto.send_request(message, per_recipient=per_recipient)
        return await self._send(request, message.client_id, message.to)

    async def send_list(
        self, messages: Sequence[Message], *, per_recipient: bool = False
    ) -> SendResult:
        """Send a different text to each recipient in one request (send.php ``list=``).

        All messages share kind, sender and options; only recipients, text and comment differ.

        :raises ValueError: for an empty list or messages whose options differ; with a store
            (a list send goes out under one client id, and a store keeps one record per client
            id and recipient: use :meth:`send` per message).
        """
        if self._store is not None:
            raise exc.ValidationError(
                "send_list() cannot be tracked by a store: the whole list goes out under one "
                "client id; send each message with send()"
            )
        messages = list(messages)
        if not messages or not all(isinstance(m, Message) for m in messages):
            raise exc.ValidationError("send_list() takes a non-empty sequence of smscenter.Message")
        if messages[0].client_id is None:
            cid = self._new_client_id()
            messages = [attrs.evolve(m, client_id=cid) for m in messages]
        request = proto.list_send_request(messages, per_recipient=per_recipient)
        return await self._send(request, messages[0].client_id, [p for m in messages for p in m.to])

    async def _send(
        self, request: proto.Request, client_id: int | str | None, phones: Sequence[str]
    ) -> SendResult:
        sends = SendAttempts(self._timeouts.connect)
        try:
            data, attempt = await self._call_with_attempts(request, sends)
        except (exc.TransportError, exc.RemoteProtocolError) as error:
            if sends.written:
                logger.warning("http.send.unknown client_id=%s", client_id)
                raise sends.unknown(error, client_id, phones) from None
            raise  # never written: nothing was sent
        try:
            proto.check_answer(request, data)
        except exc.DuplicateRequestError as error:
            scrub_error(error, self._secrets(request))
            # Error 9 on the first attempt is a real duplicate of an earlier call. On a retry it
            # usually means the attempt whose answer was lost did reach the provider.
            if attempt == 1 or client_id is None:
                raise
            return await self._reconcile(error, client_id, phones)
        except exc.SMSCenterError as error:
            scrub_error(error, self._secrets(request))
            raise
        return proto.parse_send(data, client_id=client_id)

    async def _reconcile(
        self, error: exc.DuplicateRequestError, client_id: int | str, phones: Sequence[str]
    ) -> SendResult:
        """After a retried send was refused as a duplicate: did the first attempt go out?"""
        logger.info("http.send.reconcile client_id=%s", client_id)
        try:
            result = await lookup(self, client_id, phones)
        except exc.UnknownOutcomeError as unknown:
            unknown.cause = error
            raise
        except (exc.TransportError, exc.RemoteProtocolError, exc.APIError) as failure:
            raise exc.UnknownOutcomeError(
                "a retried send was refused as a duplicate and the status check failed: the "
                f"first attempt (client id {client_id}) may or may not have gone out",
                cause=failure,
                client_id=client_id,
                recipients=tuple(phones),
                transport=Transport.HTTP,
            ) from None
        if result is None:
            raise exc.DuplicateRequestError(
                error.code,
                error.description
                + "; the retried send was refused as a duplicate and no message with client id "
                f"{client_id} exists, so nothing was sent",
                endpoint="send",
            ) from None
        return result

    async def settle(self, error: exc.UnknownOutcomeError) -> SendResult | None:
        """Settle a send whose outcome is unknown by asking the provider about its client id
        (status.php with each recipient).

        Returns the send's :class:`SendResult` (with :attr:`SendResult.confirmed_by_status`)
        when the provider holds the message, or None when it holds no message with that client
        id: it was not sent, and sending it again is safe. Ask once the connection trouble is
        over; the error's ``client_id`` and ``recipients`` say what is looked up::

            try:
                result = await api.send(message)
            except UnknownOutcomeError as unknown:
                result = await api.settle(unknown)
                if result is None:
                    result = await api.send(message)   # it never went out

        :raises ValueError: the error carries no client id (it did not come from an HTTP send).
        :raises smscenter.UnknownOutcomeError: the send went to contact groups only, which
            status.php cannot look up.
        With a store, the record of that client id is settled with what the provider said
        (accepted, or failed and safe to send again); a lookup that fails leaves it unknown.

        :raises smscenter.SMSCenterError: the status request failed; the outcome stays open.
        :raises smscenter.store.StoreError: (with a store) the answer could not be recorded.
        """
        if error.client_id is None or not error.recipients:
            raise exc.ValidationError(
                "this unknown outcome carries no client id and recipients to look up"
            )
        result = await lookup(self, error.client_id, error.recipients)
        if self._store is not None:
            await settle_tracked(self._store, error.client_id, result)
        return result

    async def cost(self, message: Message, *, per_recipient: bool = False) -> Cost:
        """What sending ``message`` would cost (send.php ``cost=1``); nothing is sent."""
        if not isinstance(message, Message):
            raise TypeError("cost() takes a smscenter.Message")
        return proto.parse_cost(
            await self._call(
                proto.send_request(message, price_only=True, per_recipient=per_recipient)
            )
        )

    async def cost_list(self, messages: Sequence[Message]) -> Cost:
        """What a :meth:`send_list` would cost; nothing is sent."""
        request = proto.list_send_request(list(messages), price_only=True)
        return proto.parse_cost(await self._call(request))
