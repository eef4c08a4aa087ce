"""How a queued :class:`~smscenter.Message` is written into a stream entry, and read back.

An entry carries one message to one recipient as compact JSON (only the fields set). The work
queue carries what a worker's SMPP pool can send: files, send.php-only options and extra HTTP
parameters are refused when the message is enqueued, before anything is queued.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from smscenter.exceptions import ValidationError
from smscenter.models import Message, MessageKind, Translit

__all__ = ("decode_message", "encode_message")


def encode_message(message: Message) -> str:
    """The JSON of ``message`` (one recipient, a client id, nothing HTTP-only).

    :raises ValidationError: it cannot go through the queue (why is in the message).
    """
    if message.client_id is None:
        raise ValidationError("a queued message needs a client_id (the campaign's key)")
    if len(message.to) != 1:
        raise ValidationError(
            f"a queued message has one recipient (client_id {message.client_id!r} has "
            f"{len(message.to)}): give each recipient its own message and client_id"
        )
    if message.attachments or message.options is not None or message.extra:
        raise ValidationError(
            "attachments, send options and extra parameters are HTTP-only: "
            "the work queue feeds SMPP workers"
        )
    entry: dict[str, Any] = {"c": message.client_id, "to": message.to[0], "t": message.text}
    if message.kind is not MessageKind.SMS:
        entry["k"] = message.kind.value
    if message.sender is not None:
        entry["s"] = message.sender
    if message.translit is not Translit.NONE:
        entry["tl"] = int(message.translit)
    if message.validity is not None:
        entry["v"] = message.validity.total_seconds()
    if message.send_at is not None:
        if not isinstance(message.send_at, datetime) or message.send_at.tzinfo is None:
            raise ValidationError("a queued message is scheduled by an aware datetime only")
        entry["at"] = message.send_at.isoformat()
    if message.max_parts is not None:
        entry["mp"] = message.max_parts
    if message.comment is not None:
        entry["cm"] = message.comment
    if not message.report:
        entry["r"] = 0
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def decode_message(payload: str) -> Message:
    """The :class:`~smscenter.Message` of :func:`encode_message`'s JSON."""
    entry = json.loads(payload)
    validity = entry.get("v")
    send_at = entry.get("at")
    return Message(
        to=entry["to"],
        text=entry["t"],
        kind=MessageKind(entry.get("k", MessageKind.SMS.value)),
        sender=entry.get("s"),
        translit=Translit(entry.get("tl", 0)),
        validity=timedelta(seconds=validity) if validity is not None else None,
        send_at=datetime.fromisoformat(send_at) if send_at is not None else None,
        client_id=entry["c"],
        max_parts=entry.get("mp"),
        comment=entry.get("cm"),
        report=bool(entry.get("r", 1)),
    )
