"""Turn the provider's callback request into a model event (pure: no web framework needed).

The provider calls one handler URL for three kinds of event (smscentre.com/api/http, "Transmitting
statuses and messages to the Client handler"): a delivery status, an incoming SMS and a call to
confirm a number. This module decodes the request (form POST, ``fmt=2`` XML or ``fmt=3`` JSON body,
any GET parameters after ``!`` in the handler URL), checks the md5/sha1/crc32 control value when a
secret is configured, and builds :class:`~smscenter.models.DeliveryReport`,
:class:`~smscenter.models.IncomingMessage` or :class:`~smscenter.models.CallConfirmation`.

What smscentre.com/api/http leaves open, and what we accept (see also ``docs/webhooks.md``):

* **Charset.** The handler URL's ``charset`` option picks windows-1251 (the default), utf-8 or
  koi8-r. We take the charset from, in order: the ``Content-Type`` ``charset`` parameter, a
  ``charset`` field echoed in the request (the provider POSTs back every option of the handler
  URL, so ``?charset=utf-8`` comes back as a field), else windows-1251. JSON and XML bodies
  without a declared charset are read as UTF-8, falling back to windows-1251 when the bytes are
  not UTF-8 (an XML declaration's ``encoding`` is honoured).
* **Digest form.** md5 and sha1 are compared as hex in either case; crc32 as unsigned decimal,
  signed decimal (PHP ``crc32()`` on 32-bit builds) or hex (with or without leading zeros).
* **Bytes hashed.** The documented string (``id:phone:status:<secret>``...) is hashed as the
  request's charset bytes and as UTF-8; either matching is accepted.

The steps live in their own modules: decoding the request (:mod:`smscenter.webhook._body`), the
control value (:mod:`smscenter.webhook._signature`) and building the event
(:mod:`smscenter.webhook._events`); this module holds the entry point and the public names.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import tzinfo

from smscenter._provider import MOSCOW as MOSCOW
from smscenter.webhook._body import DEFAULT_CHARSET, decode_callback
from smscenter.webhook._events import (
    CallbackEvent,
    _build_call,
    _build_incoming,
    _build_status,
    _Fields,
)
from smscenter.webhook._signature import (
    ALGORITHMS,
    DEFAULT_ALGORITHMS,
    CallbackKind,
    SignatureAlgorithm,
    _check_secret,
    callback_kind,
    sign_callback,
    signature_base,
    verify_signature,
)

__all__ = (
    "ALGORITHMS",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_CHARSET",
    "MOSCOW",
    "CallbackEvent",
    "CallbackKind",
    "SignatureAlgorithm",
    "callback_kind",
    "decode_callback",
    "parse_callback",
    "sign_callback",
    "signature_base",
    "verify_signature",
)

logger = logging.getLogger(__name__)


def parse_callback(
    body: bytes,
    *,
    content_type: str,
    secret: str | None = None,
    query: str | bytes | Mapping[str, str] | None = None,
    algorithms: Collection[SignatureAlgorithm] = DEFAULT_ALGORITHMS,
    account_tz: tzinfo = MOSCOW,
) -> CallbackEvent:
    """Parse (and, with ``secret``, verify) one callback request from the provider.

    The request is decoded as described in the module docstring, classified by the provider's
    documented rule (``mes`` present: incoming SMS; ``waitcall`` present: call confirmation;
    otherwise a status), verified, then converted. The signature is checked before any field is
    validated, so a forged request fails with :class:`SignatureMismatch` whatever else is wrong with
    it.

    Every event carries :attr:`~smscenter.Transport.WEBHOOK` and an ``event_key``:
    the provider re-sends a callback (every 4 minutes, up to 50 times) until the handler answers
    200 or 404, so drop events whose key you have already processed (see
    :class:`smscenter.webhook.RecentEvents`).

    :param body: the raw request body (empty for a GET carrying everything in ``query``).
    :param content_type: the request's ``Content-Type``: form-urlencoded (the provider's
        default), ``multipart/form-data``, JSON (handler URL ``fmt=3``) or XML (``fmt=2``).
    :param secret: the secret string from the handler URL's ``md5=``/``sha1=``/``crc32=``
        option. When given, a missing or wrong control value raises :class:`SignatureMismatch`.
        ``None`` skips the check (only for handlers reachable by the provider alone).
    :param query: the request's query string (GET parameters put after ``!`` in the handler
        URL), raw or as a mapping; merged under the body's fields.
    :param algorithms: the control-value algorithms to accept (sha1 and md5 by default; the
        weak ``"crc32"`` only when named, see :func:`verify_signature`).
    :param account_tz: the account's time zone, used only for a ``time`` given as
        ``DD.MM.YY hh:mm:ss`` without a ``ts`` stamp. Defaults to Moscow time (the provider's
        default for new accounts).
    :returns: a :class:`~smscenter.models.DeliveryReport`,
        :class:`~smscenter.models.IncomingMessage` or :class:`~smscenter.models.CallConfirmation`.
    :raises SignatureMismatch: ``secret`` given and the control value is missing or wrong.
    :raises MalformedCallback: unknown content type, undecodable body, a required field
        (``id``, ``phone``, ``status``, ``ts``) missing, or a field that should be a number
        and is not. The message says which.
    :raises ValueError: ``secret`` contains characters the provider does not allow.
    """
    if secret is not None:
        _check_secret(secret)
    fields, codec = decode_callback(body, content_type=content_type, query=query)
    kind = callback_kind(fields)
    if secret is not None:
        verify_signature(fields, secret, codec=codec, algorithms=algorithms)
    accessor = _Fields(fields, kind, account_tz)
    event: CallbackEvent
    if kind == "incoming":
        event = _build_incoming(accessor)
    elif kind == "call":
        event = _build_call(accessor)
    else:
        event = _build_status(accessor)
    logger.debug("webhook.parsed kind=%s key=%s", kind, event.event_key)
    return event
