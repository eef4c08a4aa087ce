"""The transports of a bulk job: :class:`BulkSender` and its two kinds, over HTTP
(:class:`HTTPBulkSender`) and over SMPP (:class:`SMPPBulkSender`), and what a failed send means
for the result file (:func:`http_outcome`, :func:`smpp_outcome`).
:func:`~smscenter.cli.bulk.run_bulk` drives them; :mod:`smscenter.cli.bulk` also exports every
name here.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Protocol, cast

import anyio
import attrs

from smscenter import exceptions as exc
from smscenter.cli.bulk_files import Outcome, Recipient, ResultRow
from smscenter.http.client import HTTPClient
from smscenter.models import Message
from smscenter.smpp.client.pool import SMPPPool
from smscenter.smpp.client.results import SendOutcome

__all__ = (
    "BulkSender",
    "HTTPBulkSender",
    "Item",
    "NotSent",
    "OnResult",
    "SMPPBulkSender",
    "http_outcome",
    "smpp_outcome",
)


class NotSent(exc.SMSCenterError):
    """The job stopped (Ctrl-C, a fatal error) before this message was written: it did not go
    out, and the next run sends it."""


Item = tuple[Recipient, Message]
OnResult = Callable[[Recipient, ResultRow, BaseException | None], None]


class BulkSender(Protocol):
    """A transport for :func:`~smscenter.cli.bulk.run_bulk`: sends the items, reports each
    one's outcome."""

    def client_id(self, recipient: Recipient) -> str | None:
        """The client id to send ``recipient``'s message with (``None``: none)."""
        ...

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item, calling ``on_result`` once per item handed over. Once ``stop`` is
        set, items taken but not yet written may be given back with a :class:`NotSent`
        error."""
        ...


def _describe(error: BaseException) -> str:
    text = str(error).replace("\n", " ").strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _row(recipient: Recipient, outcome: Outcome, **kw: object) -> ResultRow:
    return ResultRow(row=recipient.row, phone=recipient.phone, outcome=outcome, **kw)  # type: ignore[arg-type]


def http_outcome(error: BaseException) -> Outcome:
    """Whether an HTTP send that raised may have gone out.

    A connection never made or a request slot never got means nothing was sent; an answer lost
    on the wire (timeout after sending, connection dropped, garbage back) may hide an accepted
    send.
    """
    if isinstance(error, exc.ConnectError | exc.ConnectTimeout | exc.PoolTimeout):
        return Outcome.FAILED
    if isinstance(error, exc.UnknownOutcomeError | exc.TransportError | exc.RemoteProtocolError):
        return Outcome.UNKNOWN
    return Outcome.FAILED


def smpp_outcome(error: BaseException) -> Outcome:
    """Whether an SMPP send that failed may have gone out (see :class:`SMPPPool`): only an
    :class:`~smscenter.exceptions.UnknownOutcomeError` may hide an accepted message."""
    return Outcome.UNKNOWN if isinstance(error, exc.UnknownOutcomeError) else Outcome.FAILED


@attrs.define
class HTTPBulkSender:
    """Sends over :class:`HTTPClient`, ``concurrency`` requests at a time (one message each)."""

    client: HTTPClient
    concurrency: int = 5
    #: With a store: send messages the store has as of unknown outcome again (the client's
    #: store refuses them otherwise).
    resend_unknown: bool = False
    #: Makes this run's client ids unique: ``b<tag>-<row>`` (send.php ``id``: up to 40 of
    #: ``[A-Za-z0-9._-]``).
    tag: str = attrs.field(factory=lambda: secrets.token_hex(4))

    def client_id(self, recipient: Recipient) -> str:
        """``b<run tag>-<row>``: lets a later run find the message by status.php."""
        return f"b{self.tag}-{recipient.row}"

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item; see :class:`BulkSender` (a request is written as soon as a worker
        takes its item, so there is nothing to give back on ``stop``)."""
        send, receive = anyio.create_memory_object_stream[Item](0)

        async def feed() -> None:
            async with send:
                async for item in items:
                    await send.send(item)

        async def worker(inbox: anyio.abc.ObjectReceiveStream[Item]) -> None:
            async with inbox:
                async for recipient, message in inbox:
                    try:
                        result = await self.client.send(message, resend_unknown=self.resend_unknown)
                    except (exc.SMSCenterError, ValueError) as error:
                        failed = _row(recipient, http_outcome(error), error=_describe(error))
                        on_result(recipient, failed, error)
                        continue
                    row = _row(
                        recipient,
                        Outcome.SENT,
                        message_id=result.message_id,
                        parts=result.parts,
                    )
                    on_result(recipient, row, None)

        async with anyio.create_task_group() as group, receive:
            for _ in range(self.concurrency):
                group.start_soon(worker, receive.clone())
            group.start_soon(feed)


@attrs.define
class SMPPBulkSender:
    """Sends over an open :class:`SMPPPool` (its window, binds and rate limit apply).

    The pool takes messages ahead of the binds (its read-ahead), so a job that stops must give
    back what is still queued: :meth:`withdraw` does it at once, and :meth:`run` calls it when
    ``stop`` is set. If ``run`` is cancelled (a second Ctrl-C), whatever a bind had taken is
    recorded as of unknown outcome: it may have gone out.
    """

    pool: SMPPPool
    #: With a store: send messages the store has as of unknown outcome again (the pool's
    #: store skips them otherwise).
    resend_unknown: bool = False
    # send_many numbers the messages it takes from its input 0, 1, 2 ...: index -> the row
    # and the message handed over, until its outcome is recorded.
    _waiting: dict[int, tuple[Recipient, Message]] = attrs.field(factory=dict, init=False)
    _on_result: OnResult | None = attrs.field(default=None, init=False)

    def client_id(self, recipient: Recipient) -> None:
        """SMPP carries no client id."""
        return None

    def _settle(self, outcome: SendOutcome) -> None:
        entry = self._waiting.get(outcome.index)
        if entry is None or entry[1] is not outcome.message or self._on_result is None:
            return  # recorded already (withdrawn), or not this run's
        del self._waiting[outcome.index]
        recipient = entry[0]
        if outcome.result is not None:
            row = _row(
                recipient,
                Outcome.SENT,
                message_id=outcome.result.message_id,
                parts=len(outcome.result.part_ids) or outcome.result.parts,
            )
            self._on_result(recipient, row, None)
        else:
            error = outcome.error or exc.SMSCenterError("no result")
            row = _row(recipient, smpp_outcome(error), error=_describe(error))
            self._on_result(recipient, row, error)

    def withdraw(self) -> None:
        """Take back every message still queued in the pool (none of it written) and record
        it as :class:`NotSent`, now; what the binds took finishes as usual."""
        error = NotSent("the job stopped before this message was written; it was not sent")
        for outcome in self.pool.withdraw_queued(error):
            self._settle(outcome)

    async def run(
        self, items: AsyncIterator[Item], on_result: OnResult, stop: anyio.Event | None = None
    ) -> None:
        """Send every item; see :class:`BulkSender`."""
        waiting = self._waiting
        self._on_result = on_result
        counter = 0

        async def messages() -> AsyncIterator[Message]:
            nonlocal counter
            async for recipient, message in items:
                waiting[counter] = (recipient, message)
                counter += 1
                yield message

        async def withdraw_on_stop(event: anyio.Event) -> None:
            await event.wait()
            self.withdraw()

        try:
            async with anyio.create_task_group() as group:
                if stop is not None:
                    group.start_soon(withdraw_on_stop, stop)
                # send_many is an async generator: closed here, not whenever it is collected.
                sending = cast(
                    AsyncGenerator[SendOutcome, None],
                    self.pool.send_many(messages(), resend_unknown=self.resend_unknown),
                )
                async with aclosing(sending) as outcomes:
                    async for outcome in outcomes:
                        self._settle(outcome)
                group.cancel_scope.cancel()
        finally:
            # Cancelled (a second Ctrl-C) or failed: a bind had taken these, so they may have
            # gone out, and their answers will not be waited for.
            for recipient, _ in waiting.values():
                error = "interrupted before its answer arrived: it may have gone out"
                on_result(recipient, _row(recipient, Outcome.UNKNOWN, error=error), None)
            waiting.clear()
            self._on_result = None
