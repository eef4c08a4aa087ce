"""A small cache in front of :func:`~smscenter.smpp.outgoing.build_submit_sm` (pure).

A bulk mailing sends the same text to many recipients, and everything in its ``submit_sm``
except the destination is the same each time. Building it (text checks, encoding choice,
segmentation, addressing) is most of the client's CPU per message, so the first build of a
content is kept as a template, and the next recipient gets a copy with only the three
destination fields replaced (``_destination`` is the same function ``build_submit_sm`` uses, so
the result is byte for byte what it would have built).

Only single-part messages are cached: a multi-part message also carries a per-message
concatenation reference. The key is every :class:`~smscenter.models.Message` field except
``to`` and ``client_id`` (which never reaches the PDU), read generically, so a field added to
the model later is part of the key without anyone having to remember this cache.
"""

from __future__ import annotations

import operator
from typing import Any

import attrs

from smscenter.models import Message
from smscenter.smpp.outgoing import SubmitOptions, _destination, build_submit_sm
from smscenter.smpp.pdu import SubmitSm

__all__ = ("SubmitBuilder",)

_KEY_FIELDS = tuple(f.name for f in attrs.fields(Message) if f.name not in ("to", "client_id"))
_content_key = operator.attrgetter(*_KEY_FIELDS)
_MAX_TEMPLATES = 256
_new = object.__new__
_osa = object.__setattr__


class SubmitBuilder:
    """``build_submit_sm`` with a bounded template cache for repeated single-part contents.

    :param options: the submit options every PDU is built with.
    """

    __slots__ = ("_reference", "_templates", "options")

    def __init__(self, options: SubmitOptions) -> None:
        self.options = options
        self._templates: dict[Any, SubmitSm] = {}
        self._reference = 0

    def build(self, message: Message, recipient: str) -> tuple[SubmitSm, ...]:
        """The ``submit_sm`` PDUs for ``message`` to ``recipient`` (see ``build_submit_sm``).

        :raises ValueError: as ``build_submit_sm`` does.
        """
        key: Any
        try:
            key = _content_key(message)
            template = self._templates.get(key)
        except TypeError:  # an unhashable field value: no caching for this one
            key = template = None
        if template is not None:
            dest, ton, npi = _destination(recipient, self.options)
            return (_with_destination(template, dest, ton, npi),)
        # A fresh concatenation reference per message, so two long messages to one recipient
        # never share one.
        self._reference = reference = (self._reference + 1) & 0xFF
        pdus = build_submit_sm(message, recipient, options=self.options, reference=reference)
        if key is not None and len(pdus) == 1:
            if len(self._templates) >= _MAX_TEMPLATES:
                self._templates.clear()
            self._templates[key] = pdus[0]
        return pdus


def _with_destination(template: SubmitSm, dest: str, ton: int, npi: int) -> SubmitSm:
    fields = getattr(template, "__dict__", None)
    if fields is None:  # pragma: no cover - PDUs with slots: the slower public way
        return attrs.evolve(template, destination_addr=dest, dest_addr_ton=ton, dest_addr_npi=npi)
    # PDUs are frozen attrs classes without validators; filling __dict__ in one step is what
    # their own constructor does (pdu._replace_init).
    pdu = _new(SubmitSm)
    _osa(
        pdu,
        "__dict__",
        {**fields, "destination_addr": dest, "dest_addr_ton": ton, "dest_addr_npi": npi},
    )
    return pdu
