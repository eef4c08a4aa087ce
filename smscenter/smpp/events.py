"""What :meth:`SMPPConnection.receive_data <smscenter.smpp.connection.SMPPConnection.receive_data>`
and :meth:`~smscenter.smpp.connection.SMPPConnection.expire` report.

Events are frozen values. The I/O layer reacts to them (resolve a waiter, hand a deliver_sm to the
application, close the socket); the connection has already queued every automatic answer
(enquire_link_resp, unbind_resp, generic_nack, error responses to illegal PDUs).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from smscenter._fastinit import positional
from smscenter.exceptions import RemoteProtocolError
from smscenter.smpp.constants import BindMode, CommandId, CommandStatus
from smscenter.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    Outbind,
    Pdu,
    SubmitSm,
    UnbindResp,
)

__all__ = (
    "BindComplete",
    "BindRefused",
    "BindRequested",
    "ConnectionClosed",
    "DataSmReceived",
    "DeliverSmReceived",
    "EnquireLinkReceived",
    "Event",
    "LateResponse",
    "OutbindReceived",
    "PendingRequest",
    "ProtocolViolation",
    "RequestExpired",
    "RequestReceived",
    "ResponseReceived",
    "SubmitSmReceived",
    "SubmitsAccepted",
    "UnbindComplete",
    "UnbindReceived",
)


@attrs.frozen(kw_only=True)
class Event:
    """Base of every connection event."""


@attrs.frozen(kw_only=True)
class PendingRequest:
    """A request we sent that has no response yet (reported when the connection closes)."""

    sequence_number: int
    command_id: CommandId


@attrs.frozen(kw_only=True)
class BindRequested(Event):
    """(SMSC role) The ESME asks to bind; answer with ``accept_bind`` or ``reject_bind``."""

    pdu: BindTransmitter | BindReceiver | BindTransceiver
    mode: BindMode


@attrs.frozen(kw_only=True)
class BindComplete(Event):
    """The bind succeeded: the connection is now bound in ``mode``.

    :ivar system_id: the SMSC's system_id from the bind response (ESME role) or the ESME's
        from its bind request (SMSC role).
    :ivar pdu: the bind response (ESME role) or the bind request (SMSC role).
    """

    mode: BindMode
    system_id: str
    pdu: Pdu


@attrs.frozen(kw_only=True)
class BindRefused(Event):
    """(ESME role) The SMSC refused the bind; the connection is still OPEN."""

    command_status: int
    pdu: Pdu


@attrs.frozen(kw_only=True)
class OutbindReceived(Event):
    """(ESME role) The SMSC asks us to bind (SMPP 3.4 §2.2.1)."""

    pdu: Outbind


@attrs.frozen(kw_only=True)
class RequestReceived(Event):
    """The peer sent a request the application must answer (``SMPPConnection.respond``).

    alert_notification has no response; it is reported here too.
    """

    pdu: Pdu


@attrs.frozen(kw_only=True)
class DeliverSmReceived(RequestReceived):
    """(ESME role) A deliver_sm: an incoming message or a delivery receipt. Answer it with
    deliver_sm_resp once it is safely handed over (at-least-once)."""

    pdu: DeliverSm


@attrs.frozen(kw_only=True)
class DataSmReceived(RequestReceived):
    """A data_sm from the peer."""

    pdu: DataSm


@attrs.frozen(kw_only=True)
class SubmitSmReceived(RequestReceived):
    """(SMSC role) A submit_sm from the ESME."""

    pdu: SubmitSm


@attrs.frozen(kw_only=True)
class ResponseReceived(Event):
    """The response to one of our requests (generic_nack included: check ``command_status``).

    :ivar request_seq: the sequence number of the request it answers.
    :ivar request_command_id: what that request was.
    """

    request_seq: int
    request_command_id: CommandId
    pdu: Pdu

    @property
    def command_status(self) -> int:
        """The response's command_status (0 is success)."""
        return self.pdu.command_status

    @property
    def ok(self) -> bool:
        """True when the request succeeded."""
        return self.pdu.command_status == CommandStatus.ESME_ROK


@attrs.frozen(kw_only=True)
class SubmitsAccepted(Event):
    """(ESME role) The success event for ``submit_sm``: every successful ``submit_sm_resp``
    (status 0, a message id) to our ``submit_sm`` in one ``receive_data`` call, as one event
    placed where the first of them arrived: ``accepted`` holds ``(request_seq, message_id)``
    pairs in arrival order. (So an acceptance may be reported before other events that arrived
    ahead of it in the same read, never after.) Any other response, and any ``submit_sm_resp``
    with an error status or answering nothing of ours, comes as its usual event in its place.

    Why: a bulk sender reads back one response per message; one event per read instead of a
    PDU and an event per message is a good share of its CPU.
    """

    accepted: tuple[tuple[int, str], ...]


@attrs.frozen(kw_only=True)
class RequestExpired(Event):
    """A request got no response before its deadline; its outcome is unknown."""

    request_seq: int
    request_command_id: CommandId


@attrs.frozen(kw_only=True)
class LateResponse(Event):
    """A response arrived for a request already reported as :class:`RequestExpired`."""

    request_seq: int
    request_command_id: CommandId
    pdu: Pdu


@attrs.frozen(kw_only=True)
class EnquireLinkReceived(Event):
    """The peer checked the link; enquire_link_resp has already been queued."""

    sequence_number: int


@attrs.frozen(kw_only=True)
class UnbindReceived(Event):
    """The peer unbound; unbind_resp has been queued. The connection is CLOSED, except for an
    ESME with requests in flight: it stays UNBINDING, still taking their responses, and closes
    (:class:`ConnectionClosed`, ``"unbound by peer"``) once none is outstanding."""

    sequence_number: int


@attrs.frozen(kw_only=True)
class UnbindComplete(Event):
    """Our unbind was answered; the connection is CLOSED."""

    pdu: UnbindResp


@attrs.frozen(kw_only=True)
class ConnectionClosed(Event):
    """The connection reached CLOSED (unbind, EOF or a framing error).

    :ivar reason: ``"unbind"``, ``"unbound by peer"``, ``"eof"`` or ``"protocol error"``.
    :ivar unanswered: requests still waiting for a response: their outcome is unknown.
    """

    reason: str
    unanswered: tuple[PendingRequest, ...] = ()


@attrs.frozen(kw_only=True)
class ProtocolViolation(Event):
    """The peer broke the protocol; the connection answered as the spec says (if at all).

    :ivar error: what went wrong, and where.
    :ivar pdu: the offending PDU when it could be decoded.
    :ivar answered_with: the command_status sent back (generic_nack or response), if any.
    :ivar request_seq: when the broken PDU was the response to one of our requests: that
        request's sequence number (it is no longer pending).
    """

    error: RemoteProtocolError
    pdu: Pdu | None = None
    answered_with: int | None = None
    request_seq: int | None = None


# Positional constructors (smscenter._fastinit.positional): the connection makes one event per
# PDU, and the frozen __init__ with keyword matching costs about three times as much.
new_response_received: Callable[[int, CommandId, Pdu], ResponseReceived] = positional(
    ResponseReceived
)
new_request_received: Callable[[Pdu], RequestReceived] = positional(RequestReceived)
new_deliver_sm_received: Callable[[DeliverSm], DeliverSmReceived] = positional(DeliverSmReceived)
new_submit_sm_received: Callable[[SubmitSm], SubmitSmReceived] = positional(SubmitSmReceived)
new_data_sm_received: Callable[[DataSm], DataSmReceived] = positional(DataSmReceived)
new_enquire_link_received: Callable[[int], EnquireLinkReceived] = positional(EnquireLinkReceived)
new_submits_accepted: Callable[[tuple[tuple[int, str], ...]], SubmitsAccepted] = positional(
    SubmitsAccepted
)
