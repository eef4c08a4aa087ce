"""Every error smscenter raises, in one hierarchy.

::

    SMSCenterError
    ├── TransportError                  the bytes did not get through (retry may help)
    │   ├── ConnectError                no connection could be made (refused, DNS, TLS)
    │   ├── ConnectionLost              an open connection/bind went away
    │   └── OperationTimeout            (also a builtin TimeoutError)
    │       ├── ConnectTimeout
    │       ├── BindTimeout
    │       ├── ResponseTimeout         a request was sent, no answer in time
    │       └── PoolTimeout             waited too long for a free slot (window, request cap)
    ├── ProtocolError                   the conversation broke the rules
    │   ├── LocalProtocolError          we were about to break them (bad PDU to encode, wrong state)
    │   └── RemoteProtocolError         the peer broke them (malformed bytes, unexpected reply)
    ├── APIError                        the provider answered with an error code
    │   ├── ParameterError              HTTP error 1, SMPP invalid-field statuses
    │   ├── AuthenticationError         HTTP error 2, SMPP bind refused (0x0D, 0x0E, 0x0F)
    │   ├── InsufficientFundsError      HTTP error 3 on send / rent / wait_call
    │   ├── NotFoundError               HTTP error 3 on status / get / info, 5 on downloads
    │   ├── IPBlockedError              HTTP error 4
    │   ├── InvalidTimeError            HTTP error 5 on send / jobs (bad `time`)
    │   ├── OperationFailedError        HTTP error 5 "could not delete/save", jobs 3, ...
    │   ├── MessageForbiddenError       HTTP error 6 on send (text or sender refused)
    │   ├── InvalidRecipientError       HTTP error 7, SMPP invalid destination
    │   ├── UndeliverableError          HTTP error 8
    │   ├── BlacklistedError            HTTP error 5 on wait_call (number blacklisted)
    │   ├── VerificationCodeError       HTTP error 10 (captcha), senders 10/11 (codes)
    │   ├── RateLimitError              retryable later
    │   │   ├── DuplicateRequestError   HTTP error 9 (duplicate within a minute, >=15 concurrent)
    │   │   └── ThrottledError          SMPP ESME_RTHROTTLED (0x58) / queue full (0x14)
    │   └── SMPPStatusError             any other non-zero SMPP command_status
    ├── UnknownOutcomeError             a send was written but never answered: it may have gone out
    ├── ValidationError                 an invalid argument, refused before anything is sent
    │                                   (also a builtin ValueError)
    └── WebhookError                    a callback request could not be accepted
        ├── SignatureMismatch           missing or wrong md5/sha1/crc32
        └── MalformedCallback           body or fields not as the provider sends them

Bad arguments to our own API raise :class:`ValidationError` (a :class:`ValueError` too) or the
builtin :class:`TypeError` before anything is sent. Errors carry their facts as attributes (never
only in ``args``), and no message ever contains a password or API key.
"""

from __future__ import annotations

from smscenter._provider import Transport

__all__ = (
    "APIError",
    "AuthenticationError",
    "BindTimeout",
    "BlacklistedError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLost",
    "DuplicateRequestError",
    "IPBlockedError",
    "InsufficientFundsError",
    "InvalidRecipientError",
    "InvalidTimeError",
    "LocalProtocolError",
    "MalformedCallback",
    "MessageForbiddenError",
    "NotFoundError",
    "OperationFailedError",
    "OperationTimeout",
    "ParameterError",
    "PoolTimeout",
    "ProtocolError",
    "RateLimitError",
    "RemoteProtocolError",
    "ResponseTimeout",
    "SMPPStatusError",
    "SMSCenterError",
    "SignatureMismatch",
    "ThrottledError",
    "TransportError",
    "UndeliverableError",
    "UnknownOutcomeError",
    "ValidationError",
    "VerificationCodeError",
    "WebhookError",
)


class SMSCenterError(Exception):
    """Root of every error raised by smscenter."""


class ValidationError(SMSCenterError, ValueError):
    """An argument to smscenter's own API is invalid (a phone number, a sender, a window...).

    Raised before anything is sent. It is also a builtin :class:`ValueError`, so code written
    for either keeps catching it.
    """


# --- transport ---------------------------------------------------------------------------------


class TransportError(SMSCenterError):
    """The request or PDU did not get through; nothing is known to have been accepted.

    :ivar host: the host (or ``host:port``) the failure happened on, when known.
    """

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.host = host


class ConnectError(TransportError):
    """No connection could be made (refused, unreachable, DNS or TLS failure)."""


class ConnectionLost(TransportError):
    """An established connection or SMPP bind closed while work was outstanding."""


class OperationTimeout(TransportError, TimeoutError):
    """A deadline passed. Also an instance of the builtin :class:`TimeoutError`."""


class ConnectTimeout(OperationTimeout):
    """Opening the connection took too long."""


class BindTimeout(OperationTimeout):
    """The SMSC did not answer the bind request in time."""


class ResponseTimeout(OperationTimeout):
    """A request was sent but its response did not arrive in time."""


class PoolTimeout(OperationTimeout):
    """Waiting for a free slot (SMPP window, HTTP concurrency cap) took too long.

    Nothing was sent: the request never left the client.
    """


# --- protocol ----------------------------------------------------------------------------------


class ProtocolError(SMSCenterError):
    """The conversation broke the protocol's rules. Not instantiated directly."""

    def __new__(cls, *args: object, **kwargs: object) -> ProtocolError:
        if cls is ProtocolError:
            raise TypeError(
                "ProtocolError is abstract: raise LocalProtocolError or RemoteProtocolError"
            )
        return super().__new__(cls)


class LocalProtocolError(ProtocolError):
    """We were about to break the protocol (a field over its limit, a PDU illegal in this state)."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol (malformed bytes, an answer that makes no sense)."""


# --- provider answers ------------------------------------------------------------------------


class APIError(SMSCenterError):
    """The provider refused a request and said why.

    :ivar code: the provider's number: HTTP ``error_code`` or SMPP ``command_status``.
    :ivar description: the provider's own text for it (or ours when it sent none).
    :ivar message_id: the message id the provider assigned anyway (HTTP send errors 3, 6, 7, 8).
    :ivar endpoint: the HTTP command (``"send"``, ``"status"``...) or SMPP PDU name.
    :ivar transport: which channel the answer came through.
    """

    #: Whether the same request may succeed if simply tried again later.
    retryable: bool = False

    def __init__(
        self,
        code: int,
        description: str = "",
        *,
        message_id: str | None = None,
        endpoint: str | None = None,
        transport: Transport = Transport.HTTP,
    ) -> None:
        self.code = code
        self.description = description
        self.message_id = message_id
        self.endpoint = endpoint
        self.transport = transport
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.transport.value} {self.endpoint}" if self.endpoint else self.transport.value
        text = f"{where}: error {self.code}"
        if self.description:
            text += f" ({self.description})"
        if self.message_id is not None:
            text += f", message id {self.message_id}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (
                type(self),
                self.code,
                self.description,
                self.message_id,
                self.endpoint,
                self.transport,
            ),
        )


def _rebuild_api_error(
    cls: type[APIError],
    code: int,
    description: str,
    message_id: str | None,
    endpoint: str | None,
    transport: Transport,
) -> APIError:
    return cls(code, description, message_id=message_id, endpoint=endpoint, transport=transport)


class ParameterError(APIError):
    """The provider found a parameter invalid (HTTP error 1)."""


class AuthenticationError(APIError):
    """Wrong login, password or API key, or a request from an IP outside the allow-list."""


class InsufficientFundsError(APIError):
    """Not enough money on the account for this operation."""


class NotFoundError(APIError):
    """The message, operator, task or record asked about does not exist."""


class IPBlockedError(APIError):
    """The client's IP is temporarily blocked after frequent erroneous requests (HTTP error 4)."""

    retryable = True


class InvalidTimeError(APIError):
    """The scheduled-send ``time`` was not accepted (HTTP error 5 on send)."""


class OperationFailedError(APIError):
    """The provider could not carry out a valid request (delete, save)."""


class MessageForbiddenError(APIError):
    """The message was refused for its text or sender name (HTTP error 6)."""


class InvalidRecipientError(APIError):
    """A phone number or address has a wrong format (HTTP error 7)."""


class UndeliverableError(APIError):
    """The message cannot be delivered to the recipient (HTTP error 8)."""


class BlacklistedError(APIError):
    """The phone is in the account's blacklist (HTTP error 5 on wait_call)."""


class VerificationCodeError(APIError):
    """A captcha or confirmation code was wrong, or a code was already sent recently."""


class RateLimitError(APIError):
    """The provider refuses for now because of frequency or concurrency; retry later."""

    retryable = True


class DuplicateRequestError(RateLimitError):
    """HTTP error 9: the identical request was already made within a minute, or 15 or more
    requests of this login were in flight at once.

    After a retried send this usually means the *first* attempt was accepted; the HTTP client
    checks that by client id before raising this (see :meth:`smscenter.HTTPClient.send`).
    """


class ThrottledError(RateLimitError):
    """SMPP ``ESME_RTHROTTLED`` (0x58) or message-queue-full (0x14): slow down and resend."""


class SMPPStatusError(APIError):
    """An SMPP response with a non-zero ``command_status`` not covered by a narrower class."""


# --- outcome and webhooks ---------------------------------------------------------------------


class UnknownOutcomeError(SMSCenterError):
    """A send was written to the wire but never answered (the link dropped or timed out).

    The provider may or may not have accepted it. It is reported, not silently resent, because a
    resend could deliver (and bill) the message twice. Its counterpart is a
    :class:`TransportError` from a send, which means the request never reached the provider
    whole (a connection that could not be made, a request not written): safe to send again.

    Over HTTP the send carries a client id, and
    :meth:`HTTPClient.settle <smscenter.HTTPClient.settle>` asks the provider by that id
    whether it went out.

    :ivar cause: the transport failure that cut the wait short.
    :ivar client_id: the client id (send.php ``id``) the send went out with, when it had one.
    :ivar recipients: the recipients of the send (what a status lookup by client id needs).
    :ivar transport: the channel the send went through, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: BaseException | None = None,
        client_id: int | str | None = None,
        recipients: tuple[str, ...] = (),
        transport: Transport | None = None,
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.client_id = client_id
        self.recipients = tuple(recipients)
        self.transport = transport


class WebhookError(SMSCenterError):
    """A callback request from the provider could not be accepted."""


class SignatureMismatch(WebhookError):
    """The callback's md5/sha1/crc32 control value is missing or does not match the secret."""


class MalformedCallback(WebhookError):
    """The callback body or its fields are not in a form the provider sends."""
