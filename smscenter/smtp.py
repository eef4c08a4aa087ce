"""Send messages by e-mail: the provider's SMTP gateway (``send@send.<host>``).

The provider reads one plain-text line from the mail body (the provider's official libraries,
``send_sms_mail``; https://smscentre.com/api/)::

    <login>:<password>:<id>:<time>:<translit>,<format>[,<sender>]:<phones>:<text>

Empty fields are allowed; an empty login makes the password field an API key. ``<format>`` is the
official libraries' numeric message format (:attr:`MessageKind.library_format`). The mail goes to
SMTP server ``send.<host>`` port 25 without authentication; the charset comes from the
``Content-Type`` header (we always send UTF-8).

The gateway answers nothing: a send over SMTP returns no message id or cost. Use it where HTTP is
blocked; use :class:`~smscenter.HTTPClient` otherwise. Requires the ``smtp`` extra
(``aiosmtplib``), which runs on asyncio.

The body holds the password (or API key) in clear, as the provider requires; it is never logged,
and errors never quote the body. So the connection must be encrypted: STARTTLS is required by
default and the mail is not sent when the server does not offer it (``start_tls=False`` opts out,
explicitly).
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from typing import Any

import attrs

from smscenter import exceptions as exc
from smscenter._provider import Transport
from smscenter._scrub import scrub_error
from smscenter.config import Credentials
from smscenter.http._request import encode_time
from smscenter.models import Message

__all__ = ("SMTPSender", "smtp_body")

logger = logging.getLogger(__name__)

#: Fields the one-line SMTP body has no place for.
_UNSUPPORTED = (
    "validity",
    "max_parts",
    "subject",
    "voice",
    "bot",
    "attachments",
    "options",
    "extra",
)


def smtp_body(credentials: Credentials, message: Message) -> str:
    """The mail body that sends ``message`` through the SMTP gateway.

    :raises ValueError: the message uses a field the SMTP form cannot carry (validity, max parts,
        subject, voice, bot, attachments, extra parameters, link shortening), a kind without a
        format number, or a credential containing ``:``.
    """
    if not isinstance(message, Message):
        raise TypeError("smtp_body() takes a smscenter.Message")
    for name in _UNSUPPORTED:
        if getattr(message, name):
            raise exc.ValidationError(f"{name} cannot be sent over SMTP; use the HTTP client")
    if message.tinyurl:
        raise exc.ValidationError("tinyurl cannot be sent over SMTP; use the HTTP client")
    fmt = message.kind.library_format
    if fmt is None:
        raise exc.ValidationError(f"a {message.kind.value} message cannot be sent over SMTP")
    if credentials.api_key is not None:
        login, secret = "", credentials.api_key  # empty login: the password field is an API key
    else:
        params = credentials.http_params()
        login, secret = params["login"], params["psw"]
    if ":" in login or ":" in secret:
        raise exc.ValidationError("a login or password containing ':' cannot be sent over SMTP")
    if message.sender is not None and ":" in message.sender:
        raise exc.ValidationError("a sender containing ':' cannot be sent over SMTP")
    client_id = "" if message.client_id is None else str(message.client_id)
    when = "" if message.send_at is None else encode_time(message.send_at)
    options = f"{int(message.translit)},{fmt}"
    if message.sender is not None:
        options += f",{message.sender}"
    phones = ",".join(message.to)
    return f"{login}:{secret}:{client_id}:{when}:{options}:{phones}:{message.full_text}"


def _default_host(domain: str) -> str:
    return f"send.{domain}"


@attrs.define(eq=False, repr=False, init=False)
class SMTPSender:
    """Send messages through the provider's SMTP gateway, asynchronously (aiosmtplib).

    ::

        sender = SMTPSender(Credentials("acme", "s3cret"), from_address="app@acme.example")
        await sender.send(Message(to="+79991234567", text="Your code: 123"))

    :param credentials: login + password, login + MD5, or API key (sent as the empty-login form).
    :param domain: the provider site the account lives on (``smsc.ru``, ``smscentre.com``...).
    :param host: SMTP server; ``send.<domain>`` by default.
    :param port: SMTP port, 25 by default.
    :param from_address: the envelope and ``From`` address.
    :param to_address: the gateway's address, ``send@send.<domain>`` by default.
    :param timeout: seconds for connecting and for each SMTP command.
    :param start_tls: upgrade with STARTTLS, **required by default**: the mail body carries the
        login and password, so a server that does not offer STARTTLS (or an attacker who strips
        the offer) gets nothing and :class:`~smscenter.ConnectError` is raised. ``False`` sends
        in clear, explicitly (a relay on localhost, a test server).
    :param use_tls: implicit TLS from the first byte (SMTPS, usually port 465) instead of
        STARTTLS.
    :param tls_context: the :class:`ssl.SSLContext` for either (default: the system's trusted
        CAs, hostname checked).
    :param username: SMTP authentication, if your relay needs it (the provider's does not).
    :param password: SMTP authentication password.
    """

    _credentials: Credentials
    host: str
    port: int
    from_address: str
    to_address: str
    timeout: float | None
    start_tls: bool
    use_tls: bool
    _tls_context: ssl.SSLContext | None
    _username: str | None
    _password: str | None

    def __init__(
        self,
        credentials: Credentials,
        *,
        domain: str = "smsc.ru",
        host: str | None = None,
        port: int = 25,
        from_address: str | None = None,
        to_address: str | None = None,
        timeout: float | None = 30.0,
        start_tls: bool = True,
        use_tls: bool = False,
        tls_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError("credentials must be a smscenter.Credentials")
        if not isinstance(start_tls, bool) or not isinstance(use_tls, bool):
            # None once meant "STARTTLS when offered": the password went out in clear when the
            # offer was stripped. Say True (required) or False (clear) explicitly.
            raise exc.ValidationError("start_tls and use_tls must be True or False")
        self._credentials = credentials
        self.host = host if host is not None else _default_host(domain)
        self.port = port
        self.from_address = from_address if from_address is not None else f"api@{domain}"
        self.to_address = to_address if to_address is not None else f"send@send.{domain}"
        self.timeout = timeout
        self.start_tls = start_tls and not use_tls
        self.use_tls = use_tls
        self._tls_context = tls_context
        self._username = username
        self._password = password

    def __repr__(self) -> str:
        tls = "tls" if self.use_tls else "starttls" if self.start_tls else "CLEAR"
        return (
            f"<SMTPSender {self.host}:{self.port} {tls} to={self.to_address!r} "
            f"login={self._credentials.login!r} auth={self._credentials.auth!r}>"
        )

    def build(self, message: Message) -> EmailMessage:
        """The e-mail that carries ``message`` (not sent)."""
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = self.to_address
        mail["Subject"] = "sms"
        # 8bit keeps the body readable to the gateway's one-line parser; the charset header
        # tells it the text is UTF-8 (its default is koi8-r).
        mail.set_content(smtp_body(self._credentials, message), charset="utf-8", cte="8bit")
        return mail

    async def send(self, message: Message) -> None:
        """Send one message through the gateway.

        :raises ValueError: the message cannot be expressed in the SMTP form.
        :raises smscenter.ConnectError: the SMTP server could not be reached.
        :raises smscenter.OperationTimeout: a timeout while connecting or talking.
        :raises smscenter.ConnectionLost: the server closed the connection.
        :raises smscenter.APIError: the server refused the mail (``code`` is the SMTP reply
            code, ``transport`` is SMTP).
        """
        mail = self.build(message)
        try:
            import aiosmtplib
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "sending over SMTP needs the 'smtp' extra: pip install 'smscenter[smtp]'"
            ) from error
        options: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "timeout": self.timeout,
            "start_tls": self.start_tls,
            "use_tls": self.use_tls,
        }
        if self._tls_context is not None:
            options["tls_context"] = self._tls_context
        if self._username is not None:
            options["username"] = self._username
            options["password"] = self._password
        where = f"{self.host}:{self.port}"
        logger.debug("smtp.send.started host=%s recipients=%d", where, len(message.to))
        failure: exc.SMSCenterError | None = None
        try:
            await aiosmtplib.send(
                mail, sender=self.from_address, recipients=[self.to_address], **options
            )
        except aiosmtplib.SMTPException as error:
            failure = self._map_error(error, where, aiosmtplib)
        if failure is not None:
            # Raised here, outside the except block, so no aiosmtplib exception (which may quote
            # the body, password included) is attached as its context.
            secrets = (*self._credentials.secrets(), self._password or "")
            raise scrub_error(failure, secrets)
        logger.debug("smtp.send.complete host=%s", where)

    def _map_error(self, error: Exception, where: str, aiosmtplib: Any) -> exc.SMSCenterError:
        if isinstance(error, aiosmtplib.SMTPConnectTimeoutError):
            return exc.ConnectTimeout(f"SMTP connect to {where} timed out", host=where)
        if isinstance(error, aiosmtplib.SMTPTimeoutError):
            return exc.ResponseTimeout(f"SMTP server {where} did not answer", host=where)
        if isinstance(error, aiosmtplib.SMTPConnectError):
            return exc.ConnectError(f"cannot connect to SMTP server {where}", host=where)
        if isinstance(error, aiosmtplib.SMTPServerDisconnected):
            return exc.ConnectionLost(f"SMTP server {where} disconnected", host=where)
        if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
            first = error.recipients[0] if error.recipients else None
            code = first.code if first is not None else 0
            return exc.APIError(
                code, "recipient refused", endpoint="smtp", transport=Transport.SMTP
            )
        if isinstance(error, aiosmtplib.SMTPResponseException):
            # A server might echo a line of the body back in its refusal (scrubbed by send).
            return exc.APIError(
                error.code, error.message, endpoint="smtp", transport=Transport.SMTP
            )
        if self.start_tls and "STARTTLS" in str(error):
            # RFC 3207 §4: STARTTLS is offered in the EHLO answer; a server (or a man in the
            # middle stripping it) that does not offer it gets no mail, since the body holds
            # the password.
            return exc.ConnectError(
                f"SMTP server {where} does not offer STARTTLS; the mail carries the password, "
                "so it is not sent in clear (start_tls=False allows that explicitly)",
                host=where,
            )
        return exc.ConnectionLost(f"SMTP failure with {where}: {type(error).__name__}", host=where)
