"""Whether a send went out: retries inside the provider's duplicate window, and settling an
open outcome by client id.

A send request that failed on the wire ended in one of two ways:

- **never written**: the connection could not be made, or the request could not be written in
  full (the provider cannot act on half a request). Sending it again is safe.
- **written, no answer**: the request reached the server and the connection broke (or timed
  out, or answered empty) before the answer. The provider may have sent the message.

The provider refuses a send identical to one it accepted within the last minute (error 9,
https://smscentre.com/api/http/ "more than one identical request within a minute"), so a
retry of a written send made *inside that minute* cannot be sent twice: it is accepted (the
first never arrived) or refused as a duplicate (the first did, which status.php then
confirms). A retry after the minute has no such protection, so none is started then; when
the attempts run out with a written one among them, the send ends with
:class:`~smscenter.exceptions.UnknownOutcomeError` carrying the client id, and
:func:`settle` asks status.php about it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import httpx

from smscenter import exceptions as exc
from smscenter._provider import Transport
from smscenter.models import MessageStatus, SendResult

if TYPE_CHECKING:
    from smscenter.http._core_calls import CoreCalls

__all__ = ("DUPLICATE_WINDOW", "RETRY_MARGIN", "SendAttempts", "lookup", "maybe_written")

logger = logging.getLogger(__name__)

#: Seconds within which the provider refuses an identical send request (error 9).
DUPLICATE_WINDOW: Final = 60.0
#: A retry must start this long before the window closes (clock skew, a slow write).
RETRY_MARGIN: Final = 5.0
#: Assumed time to connect when ``Timeouts.connect`` is None (no bound of its own).
_CONNECT_ALLOWANCE: Final = 10.0

#: At most this many recipients are looked up when settling a send.
LOOKUP_PHONES: Final = 50

# Failures that happen before the request was written in full: the server cannot have acted
# on it. (A write that fails part-way leaves the server with half a request, which it drops.)
_NEVER_WRITTEN: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
    httpx.LocalProtocolError,
    httpx.InvalidURL,
)


def maybe_written(error: httpx.HTTPError) -> bool:
    """Whether the request of a failed attempt may have reached the server whole (a read that
    failed or timed out, a connection closed before the answer, anything unclassified)."""
    return not isinstance(error, _NEVER_WRITTEN)


class SendAttempts:
    """The attempts of one send request: when the first one that may have reached the
    provider started, and whether a further attempt may still start.

    :param connect: ``Timeouts.connect``: how long an attempt may take before it writes.
    :param window: how long after a written attempt the provider refuses a repeat (default: its
        one-minute duplicate window); 0 for a call no refusal protects, so no attempt starts
        after one that may have been written.
    """

    __slots__ = ("attempts", "connect", "first_written", "window")

    def __init__(self, connect: float | None, *, window: float | None = None) -> None:
        self.connect = _CONNECT_ALLOWANCE if connect is None else connect
        self.window = DUPLICATE_WINDOW if window is None else window
        #: When the first attempt that may have been written started (None: none was).
        self.first_written: float | None = None
        self.attempts = 0

    @property
    def written(self) -> bool:
        """Whether any attempt may have reached the provider."""
        return self.first_written is not None

    def failed(self, started: float, *, written: bool) -> None:
        """An attempt that started at ``started`` failed (``written``: after the request may
        have reached the server)."""
        if written and self.first_written is None:
            self.first_written = started

    def may_start(self, now: float) -> bool:
        """Whether an attempt starting now still reaches the provider inside its duplicate
        window of the first written attempt (so it cannot be sent twice)."""
        if self.first_written is None:
            return True
        if self.window <= 0:
            return False
        closes = self.first_written + self.window - RETRY_MARGIN
        return now + self.connect <= closes

    def too_late(self) -> exc.PoolTimeout:
        """The error that ends the attempts when the window would be over."""
        if self.window <= 0:
            return exc.PoolTimeout(
                "no further attempt: an earlier one may have reached the provider, and a "
                "repeat could act twice"
            )
        return exc.PoolTimeout(
            "no further attempt: it could reach the provider after its one-minute duplicate "
            "window, where a repeat is no longer refused"
        )

    def unknown(
        self,
        error: BaseException,
        client_id: int | str | None,
        phones: Sequence[str],
    ) -> exc.UnknownOutcomeError:
        """The send's outcome is open: it was written at least once and never answered."""
        settle = (
            "; HTTPClient.settle(error) asks the provider by that id"
            if client_id is not None
            else ""
        )
        return exc.UnknownOutcomeError(
            f"the send request (client id {client_id}) was written but no answer came "
            f"after {self.attempts} attempt(s); the message may have been sent{settle}",
            cause=error,
            client_id=client_id,
            recipients=tuple(phones),
            transport=Transport.HTTP,
        )


async def lookup(
    client: CoreCalls, client_id: int | str, phones: Sequence[str]
) -> SendResult | None:
    """Ask status.php whether a send with this client id went out: its result
    (``confirmed_by_status``), or None when the provider holds no such message.

    status.php finds a message by id *and* phone, so each recipient (the first
    ``LOOKUP_PHONES``) is asked with the client id; a send request is accepted or refused as a
    whole, so any one found answers for all.

    :raises smscenter.UnknownOutcomeError: only contact groups (``G<n>``) to look up by.
    :raises smscenter.SMSCenterError: the status request itself failed.
    """
    # A contact group ("G<n>") has no phone to look the message up by.
    lookups = [p for p in phones if not (p.startswith("G") and p[1:].isdigit())]
    if not lookups:
        raise exc.UnknownOutcomeError(
            "a send to a contact group cannot be looked up by status: whether it went out "
            f"is unknown (client id {client_id})",
            client_id=client_id,
            recipients=tuple(phones),
            transport=Transport.HTTP,
        )
    logger.info("http.send.lookup client_id=%s", client_id)
    pairs = [(str(client_id), p) for p in lookups[:LOOKUP_PHONES]]
    try:
        # The list form answers "not found" as a row (status -3) instead of an error, and
        # names the provider's own message id.
        reports = await client.status_many(pairs, detail=1)
    except exc.NotFoundError:
        reports = []
    found = [r for r in reports if r.status is not MessageStatus.NOT_FOUND]
    if not found:
        return None
    # Totals only when every recipient was seen; otherwise they would understate.
    complete = len(found) == len(phones)
    costs = [r.cost for r in found if r.cost is not None]
    return SendResult(
        message_id=found[0].message_id,
        parts=sum(r.parts or 1 for r in found) if complete else found[0].parts or 1,
        cost=sum(costs, Decimal(0)) if complete and len(costs) == len(found) else None,
        client_id=client_id,
        confirmed_by_status=True,
    )
