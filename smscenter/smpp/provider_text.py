"""The provider's special ``short_message`` texts (smscentre.com/api/smpp), both ways, and
what its SMPP interface cannot carry (pure).

Over SMPP the provider reads the kind of a message from its text: ``__MAIL__``, ``__CALL__``,
``__VIBER__``, ``__SOC__``, ``__TGM__``, ``__BOT__``, ``__HLR__``, ``__PING__``, and a comment
kept in its history after ``\\n~~~\\n``. :func:`provider_text` writes such a text for a
:class:`~smscenter.models.Message`; :func:`parse_provider_text` reads one (the SMSC side of the
simulator).
"""

from __future__ import annotations

import attrs

from smscenter._provider import COMMENT_SEPARATOR
from smscenter.exceptions import ValidationError
from smscenter.models import Message, MessageKind, Translit

__all__ = (
    "ProviderText",
    "parse_provider_text",
    "provider_text",
    "refuse_unsupported",
    "text_affixes",
)

_REFUSED_KINDS = {
    MessageKind.MMS: "MMS cannot be sent over SMPP (the provider's SMPP interface has no MMS); "
    "send it over HTTP",
    MessageKind.WAP_PUSH: "WAP-push cannot be sent over SMPP (the provider documents no way to); "
    "send it over HTTP",
}
_NO_COMMENT_KINDS = frozenset(
    {MessageKind.HLR, MessageKind.PING, MessageKind.BINARY, MessageKind.BINARY_HEX}
)


def refuse_unsupported(message: Message) -> None:
    """Raise the reason SMPP cannot carry ``message``, if there is one: MMS and WAP-push, the
    HTTP API's own options (attachments, translit, tinyurl, extra parameters, ``options``), a
    comment on a kind whose text is fixed or binary.

    :raises ValueError: saying what to do instead (mostly: send it over HTTP).
    """
    if message.kind in _REFUSED_KINDS:
        raise ValidationError(_REFUSED_KINDS[message.kind])
    if message.attachments:
        raise ValidationError("attachments cannot be sent over SMPP; send this message over HTTP")
    if message.translit is not Translit.NONE:
        raise ValidationError("translit is an HTTP API option; SMPP has no way to ask for it")
    if message.tinyurl:
        raise ValidationError("tinyurl is an HTTP API option; SMPP has no way to ask for it")
    if message.extra:
        names = ", ".join(key for key, _ in message.extra)
        raise ValidationError(f"extra HTTP parameters ({names}) cannot travel over SMPP")
    if message.options is not None:
        names = ", ".join(message.options.names) or "options"
        raise ValidationError(
            f"HTTP-only options ({names}) cannot travel over SMPP; use HTTPClient"
        )
    if message.comment and message.kind in _NO_COMMENT_KINDS:
        raise ValidationError(f"a {message.kind.value} message cannot carry a comment over SMPP")


def text_affixes(message: Message) -> tuple[str, str] | None:
    """What goes before and after the message's text in its ``short_message`` text, or ``None``
    when the text is not part of it (HLR and ping requests are fixed texts): the special text's
    prefix, and its subject / voice / bot line and the comment.

    ``provider_text(message)`` is ``prefix + message.text + suffix``, or the fixed text.

    :raises ValueError: for kinds that have no text form over SMPP.
    """
    kind = message.kind
    if kind in _REFUSED_KINDS:
        raise ValidationError(_REFUSED_KINDS[kind])
    comment = COMMENT_SEPARATOR + message.comment if message.comment else ""
    if kind is MessageKind.HLR or kind is MessageKind.PING:
        return None
    if kind is MessageKind.EMAIL:
        return "__MAIL__: ", f"\nsubj:{message.subject or ''}{comment}"
    if kind is MessageKind.CALL:
        return "__CALL__: ", (f"\nvoice:{message.voice}" if message.voice else "") + comment
    if kind is MessageKind.VIBER:
        return "__VIBER__: ", comment
    if kind is MessageKind.SOCIAL:
        return "__SOC__: ", comment
    if kind is MessageKind.TELEGRAM:
        return "__TGM__: ", comment
    if kind is MessageKind.BOT:
        return "__BOT__: ", f"\nbot:{message.bot}{comment}"
    return "", comment


def provider_text(message: Message, *, text: str | None = None) -> str:
    """The ``short_message`` text the provider expects for ``message`` (smscentre.com/api/smpp).

    ``__MAIL__: <text>\\nsubj:<subject>``, ``__CALL__: <text>\\nvoice:<voice>``,
    ``__VIBER__: <text>``, ``__SOC__: <text>``, ``__TGM__: <code>``,
    ``__BOT__: <text>\\nbot:<bot>``, ``__HLR__``, ``__PING__``; plain text for SMS and flash. The
    comment follows as ``\\n~~~\\n<comment>`` (for a call this is where its parameters go).

    :param text: use this instead of :attr:`Message.text` (e.g. after cutting to max_parts).
    :raises ValueError: for kinds that have no text form over SMPP.
    """
    affixes = text_affixes(message)
    if affixes is None:
        fixed = "__HLR__" if message.kind is MessageKind.HLR else "__PING__"
        return fixed + (COMMENT_SEPARATOR + message.comment if message.comment else "")
    body = message.text if text is None else text
    return affixes[0] + body + affixes[1]


@attrs.frozen(kw_only=True)
class ProviderText:
    """A ``short_message`` text read the way the provider reads it (the inverse of
    :func:`provider_text`; the SMSC side of the simulator uses it).

    :ivar kind: :attr:`MessageKind.SMS` for plain text, else the special text's kind.
    :ivar text: the message text without prefix, subject/voice/bot line or comment.
    :ivar subject: ``subj:`` of ``__MAIL__``; :ivar voice: ``voice:`` of ``__CALL__``;
        :ivar bot: ``bot:`` of ``__BOT__``.
    :ivar comment: what followed ``\\n~~~\\n``, if anything.
    """

    kind: MessageKind
    text: str
    subject: str | None = None
    voice: str | None = None
    bot: str | None = None
    comment: str | None = None


_PREFIXES = (
    ("__MAIL__: ", MessageKind.EMAIL, "\nsubj:"),
    ("__CALL__: ", MessageKind.CALL, "\nvoice:"),
    ("__VIBER__: ", MessageKind.VIBER, None),
    ("__SOC__: ", MessageKind.SOCIAL, None),
    ("__TGM__: ", MessageKind.TELEGRAM, None),
    ("__BOT__: ", MessageKind.BOT, "\nbot:"),
)


def parse_provider_text(wire: str) -> ProviderText:
    """Split a ``short_message`` text into kind, text, extra line and comment
    (smscentre.com/api/smpp).

    Anything without a known prefix is a plain SMS text; this never raises.
    """
    comment = None
    body, sep, rest = wire.partition(COMMENT_SEPARATOR)
    if sep:
        comment = rest
    if body == "__HLR__":
        return ProviderText(kind=MessageKind.HLR, text="", comment=comment)
    if body == "__PING__":
        return ProviderText(kind=MessageKind.PING, text="", comment=comment)
    for prefix, kind, line in _PREFIXES:
        if body.startswith(prefix):
            text = body[len(prefix) :]
            extra = None
            if line is not None:
                text, found, value = text.rpartition(line)
                if found:
                    extra = value
                else:
                    text = value  # no extra line: rpartition put everything in the tail
            return ProviderText(
                kind=kind,
                text=text,
                subject=extra if kind is MessageKind.EMAIL else None,
                voice=extra if kind is MessageKind.CALL else None,
                bot=extra if kind is MessageKind.BOT else None,
                comment=comment,
            )
    return ProviderText(kind=MessageKind.SMS, text=body, comment=comment)
