"""SMPP ``command_status`` values as the project's exceptions (SMPP 3.4 §5.1.3): which answers
mean "too fast, try later", which a wrong login, a bad recipient or a bad parameter.

Pure: no I/O. The client uses it for every refused request (bind, submit_sm, query_sm).
"""

from __future__ import annotations

from smscenter._provider import Transport
from smscenter.exceptions import (
    APIError,
    AuthenticationError,
    InvalidRecipientError,
    ParameterError,
    SMPPStatusError,
    ThrottledError,
)
from smscenter.smpp.constants import CommandStatus

__all__ = ("THROTTLE_STATUSES", "status_error")

#: command_status values that mean "too fast, try again" (SMPP 3.4 §5.1.3; smscentre.com/api/smpp).
THROTTLE_STATUSES = frozenset({CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL})

_AUTH = frozenset(
    {CommandStatus.ESME_RBINDFAIL, CommandStatus.ESME_RINVPASWD, CommandStatus.ESME_RINVSYSID}
)
_RECIPIENT = frozenset(
    {CommandStatus.ESME_RINVDSTADR, CommandStatus.ESME_RINVDSTTON, CommandStatus.ESME_RINVDSTNPI}
)
_PARAMETER = frozenset(
    {
        CommandStatus.ESME_RINVMSGLEN,
        CommandStatus.ESME_RINVSRCADR,
        CommandStatus.ESME_RINVSRCTON,
        CommandStatus.ESME_RINVSRCNPI,
        CommandStatus.ESME_RINVESMCLASS,
        CommandStatus.ESME_RINVSCHED,
        CommandStatus.ESME_RINVEXPIRY,
        CommandStatus.ESME_RINVSERTYP,
        CommandStatus.ESME_RINVREGDLVFLG,
        CommandStatus.ESME_RINVPRTFLG,
        CommandStatus.ESME_RINVOPTPARAMVAL,
        CommandStatus.ESME_RINVPARLEN,
    }
)


def status_error(status: int, endpoint: str, *, message_id: str | None = None) -> APIError:
    """The exception for a non-zero ``command_status`` answering ``endpoint`` (a PDU name)."""
    try:
        name = CommandStatus(status).name
    except ValueError:  # pragma: no cover - _WireEnum keeps unknown values
        name = f"0x{status:02X}"
    if status in THROTTLE_STATUSES:
        cls: type[APIError] = ThrottledError
    elif status in _AUTH:
        cls = AuthenticationError
    elif status in _RECIPIENT:
        cls = InvalidRecipientError
    elif status in _PARAMETER:
        cls = ParameterError
    else:
        cls = SMPPStatusError
    return cls(status, name, message_id=message_id, endpoint=endpoint, transport=Transport.SMPP)
