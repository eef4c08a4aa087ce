"""Receive the provider's callbacks: delivery statuses, incoming SMS and call confirmations.

:func:`parse_callback` is pure and needs no web framework; :mod:`smscenter.webhook.fastapi`
(the ``fastapi`` extra) wraps it in a ready router. Nothing here is imported by
``import smscenter``.
"""

from __future__ import annotations

from smscenter import _exports
from smscenter.webhook.dedupe import DEFAULT_TTL as DEFAULT_TTL
from smscenter.webhook.dedupe import RecentEvents as RecentEvents
from smscenter.webhook.dedupe import callback_key as callback_key
from smscenter.webhook.parse import ALGORITHMS as ALGORITHMS
from smscenter.webhook.parse import DEFAULT_ALGORITHMS as DEFAULT_ALGORITHMS
from smscenter.webhook.parse import DEFAULT_CHARSET as DEFAULT_CHARSET
from smscenter.webhook.parse import MOSCOW as MOSCOW
from smscenter.webhook.parse import CallbackEvent as CallbackEvent
from smscenter.webhook.parse import CallbackKind as CallbackKind
from smscenter.webhook.parse import SignatureAlgorithm as SignatureAlgorithm
from smscenter.webhook.parse import callback_kind as callback_kind
from smscenter.webhook.parse import decode_callback as decode_callback
from smscenter.webhook.parse import parse_callback as parse_callback
from smscenter.webhook.parse import sign_callback as sign_callback
from smscenter.webhook.parse import signature_base as signature_base
from smscenter.webhook.parse import verify_signature as verify_signature

__all__ = (
    "ALGORITHMS",
    "DEFAULT_ALGORITHMS",
    "DEFAULT_CHARSET",
    "DEFAULT_TTL",
    "MOSCOW",
    "CallbackEvent",
    "CallbackKind",
    "RecentEvents",
    "SignatureAlgorithm",
    "callback_key",
    "callback_kind",
    "decode_callback",
    "parse_callback",
    "sign_callback",
    "signature_base",
    "verify_signature",
)

_exports.publish(__name__, globals(), __all__)
