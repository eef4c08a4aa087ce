"""What ``on_late_answer`` is given: a ``submit_sm_resp`` that came after its request timed out
(smpp/client/overdue.py matches it to its message).

On the ground floor, beside the configuration: :class:`~smscenter.config.SMPPOptions` names
the handler's type, so it must resolve (``typing.get_type_hints``, cattrs, FastAPI) without
importing the SMPP client. Public as ``smscenter.smpp.LateAnswer``.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from smscenter.models import Message

__all__ = ("LateAnswer", "LateAnswerHandler")


@attrs.frozen(kw_only=True)
class LateAnswer:
    """A ``submit_sm_resp`` that arrived after its request had timed out.

    The message's caller already got :class:`~smscenter.exceptions.UnknownOutcomeError` for
    it; this says how that outcome really ended for this part: accepted with ``message_id``,
    or refused with ``command_status``.

    :ivar message: the message as given to ``send`` / ``send_many`` (None if not known).
    :ivar recipient: the recipient this answer is for.
    :ivar index: the message's position in ``send_many``'s input (0 for ``send``).
    :ivar part: which part (0-based) of the message this answers; :ivar parts: how many it has.
    :ivar message_id: the id the SMSC gave the part, canonical as on
        :class:`~smscenter.models.SendResult` (empty when refused).
    :ivar command_status: 0 when accepted, else the SMSC's refusal (SMPP 3.4 §5.1.3).
    :ivar sequence_number: the request's sequence number on its bind.
    :ivar bind: which bind (``host:port#n``) it came on.
    """

    message: Message | None
    recipient: str | None
    index: int
    part: int
    parts: int
    message_id: str
    command_status: int
    sequence_number: int
    bind: str

    @property
    def accepted(self) -> bool:
        """True when the SMSC accepted the part after all."""
        return self.command_status == 0  # ESME_ROK (SMPP 3.4 §5.1.3)

    @property
    def client_id(self) -> int | str | None:
        """The message's ``client_id``, if it has one."""
        return self.message.client_id if self.message is not None else None


#: A callable given ``on_late_answer``: called on the bind's reader, so it must not block (put
#: the answer on a queue or in a store; an exception it raises is logged and ignored).
LateAnswerHandler = Callable[[LateAnswer], object]
