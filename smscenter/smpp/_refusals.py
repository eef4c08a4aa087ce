"""What a connection says about a PDU it cannot take, sans-IO: the answer the spec asks for
(if any) and the :class:`~smscenter.smpp.events.ProtocolViolation` to report. Never raises:
the peer's mistakes are events, not exceptions (SMPP 3.4 §2.3, §4.3, §5.1.3)."""

from __future__ import annotations

from smscenter.exceptions import RemoteProtocolError
from smscenter.smpp._state import Role, State
from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.events import ProtocolViolation
from smscenter.smpp.pdu import GenericNack, Pdu, PduDecodeError

__all__ = ("broken_answer", "cut_short", "illegal", "malformed", "nack", "unsolicited")

_BIND_REQUESTS = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
# Responses whose OK answer must carry the message id the SMSC assigned (SMPP 3.4 §4.4.2,
# §4.5.2, §4.7.2).
_ID_RESPONSES = frozenset(
    {CommandId.SUBMIT_SM_RESP, CommandId.SUBMIT_MULTI_RESP, CommandId.DATA_SM_RESP}
)


def nack(seq: int, status: int) -> bytes:
    """An encoded generic_nack (SMPP 3.4 §4.3)."""
    return GenericNack(sequence_number=seq, command_status=status).encode()


def illegal(pdu: Pdu, state: State, sender: Role) -> tuple[bytes | None, ProtocolViolation]:
    """A request ``sender`` may not send in ``state``: answered with its own response (a
    generic_nack when it has none; nothing once closed) with ``ESME_RINVBNDSTS``, or
    ``ESME_RALYBND`` for a second bind."""
    cid = pdu.command_id
    seq = pdu.sequence_number
    bound_again = cid in _BIND_REQUESTS and state is not State.OPEN
    status = CommandStatus.ESME_RALYBND if bound_again else CommandStatus.ESME_RINVBNDSTS
    cls = pdu.response_class
    answer: bytes | None = None
    if cls is not None:
        answer = cls(sequence_number=seq, command_status=status).encode()
    elif state is not State.CLOSED:
        answer = nack(seq, status)
    error = RemoteProtocolError(
        f"{sender.name} sent {cid.name.lower()} (sequence {seq}) in state {state.name}"
    )
    answered = status if answer is not None else None
    return answer, ProtocolViolation(error=error, pdu=pdu, answered_with=answered)


def malformed(
    exc: PduDecodeError, request_seq: int | None
) -> tuple[bytes | None, ProtocolViolation]:
    """A PDU that does not decode. A request is answered with a generic_nack carrying the
    decoder's status; a response never is (``request_seq``: the request it ended, if ours)."""
    cid = exc.command_id
    seq = exc.sequence_number or 0
    answer: bytes | None = None
    if not (cid is not None and cid & 0x80000000) and seq <= 0xFFFFFFFF:
        answer = nack(seq, exc.status)
    answered = exc.status if answer is not None else None
    return answer, ProtocolViolation(error=exc, answered_with=answered, request_seq=request_seq)


def cut_short(buffered: int) -> ProtocolViolation:
    """The peer closed the link in the middle of a PDU (``buffered`` bytes of it read)."""
    error = RemoteProtocolError(
        f"connection closed in the middle of a PDU ({buffered} bytes buffered)"
    )
    return ProtocolViolation(error=error)


def unsolicited(pdu: Pdu) -> ProtocolViolation:
    """A response whose sequence number belongs to no request of ours."""
    error = RemoteProtocolError(
        f"{pdu.command_id.name.lower()} (sequence {pdu.sequence_number}) answers no request of ours"
    )
    return ProtocolViolation(error=error, pdu=pdu)


def broken_answer(pdu: Pdu, request_cid: CommandId) -> ProtocolViolation | None:
    """Whether a response cannot settle the request under its number: a response to another
    kind of request (the request still waits), or an OK answer without the id it must carry
    (the request is over, its outcome unknown). None: a fine answer."""
    cid = pdu.command_id
    seq = pdu.sequence_number
    if cid != (request_cid | 0x80000000) and cid != CommandId.GENERIC_NACK:
        error = RemoteProtocolError(
            f"{cid.name.lower()} (sequence {seq}) cannot answer {request_cid.name.lower()}"
        )
        return ProtocolViolation(error=error, pdu=pdu)
    if (
        pdu.command_status == CommandStatus.ESME_ROK
        and (request_cid | 0x80000000) in _ID_RESPONSES
        and (cid == CommandId.GENERIC_NACK or not getattr(pdu, "message_id", ""))
    ):
        # Neither is an acceptance with an id: a generic_nack is a negative answer whatever its
        # status (SMPP 3.4 §4.3.1), and an OK submit_sm_resp carries the id the SMSC assigned
        # (§4.4.2).
        what = (
            "generic_nack with status 0" if cid == CommandId.GENERIC_NACK else "an empty message_id"
        )
        error = RemoteProtocolError(
            f"{request_cid.name.lower()} (sequence {seq}) was answered with {what}"
        )
        return ProtocolViolation(error=error, pdu=pdu, request_seq=seq)
    return None
