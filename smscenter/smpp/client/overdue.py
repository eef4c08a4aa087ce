"""What one bind does when answers are overdue: a slow SMSC, or one that fell silent with its
socket still open.

- **Stop feeding.** Once a request on a bind times out, the bind takes no new work until an
  ``enquire_link`` (SMPP 3.4 §4.11) is answered on it. A link that stopped answering then
  risks only the window already written on it; the queue's work goes to the other binds, or
  waits for this one to prove it is alive.
- **One probe at a time, spaced.** At most one ``enquire_link`` is outstanding per bind. Besides
  the keepalive after ``Timeouts.enquire_link`` of silence, an overdue answer sends a probe at
  once, but while answers stay overdue probes are at least ``min(Timeouts.response,
  Timeouts.enquire_link)`` apart (an SMSC that answers every submit late is not flooded with
  probes). The probe's own timeout (the same value) decides the link's fate: unanswered, the
  link is declared dead.
- **Late answers reported.** A ``submit_sm_resp`` that arrives after its request timed out is
  matched to the message it answers (a bounded memory of expired requests) and reported as a
  :class:`LateAnswer`: in the statistics (``late_accepted`` / ``late_refused``), in the log with
  its message id, and to ``on_late_answer`` when you give one, so an unknown outcome that the
  SMSC did in fact accept can be settled.

Pure bookkeeping: no I/O; the session passes ``now``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from smscenter._late import LateAnswer, LateAnswerHandler
from smscenter.ids import canonical_message_id
from smscenter.smpp.constants import CommandId, CommandStatus

if TYPE_CHECKING:
    from smscenter.smpp.client._jobs import Job
    from smscenter.smpp.events import LateResponse

__all__ = ("LateAnswer", "LateAnswerHandler")

logger = logging.getLogger(__name__)

#: Expired requests remembered per bind for matching late answers (the connection's window
#: remembers as many sequence numbers, so an older late answer is not recognised anyway).
REMEMBER_EXPIRED = 4096


class Overdue:
    """One bind's state about overdue answers (see the module docstring).

    :param spacing: the shortest time between two probes while answers are overdue.
    :param remember: how many expired requests to remember for late answers.
    """

    __slots__ = ("_expired", "last_probe", "probe_seq", "remember", "spacing", "stalled")

    def __init__(self, spacing: float, *, remember: int = REMEMBER_EXPIRED) -> None:
        self.spacing = spacing
        self.remember = max(1, remember)
        #: A request timed out and no probe has been answered since: take no new work.
        self.stalled = False
        #: The outstanding enquire_link's sequence number (at most one).
        self.probe_seq: int | None = None
        #: When the last probe was sent (None: never).
        self.last_probe: float | None = None
        self._expired: OrderedDict[int, tuple[Job, int]] = OrderedDict()

    def expired(self, seq: int, job: Job, index: int) -> None:
        """A request of ``job`` (its part ``index``) timed out: stop feeding, remember it."""
        self.stalled = True
        expired = self._expired
        expired[seq] = (job, index)
        if len(expired) > self.remember:
            expired.popitem(last=False)

    def probe_due(self, now: float) -> bool:
        """Whether an overdue answer calls for a probe now."""
        return (
            self.stalled
            and self.probe_seq is None
            and (self.last_probe is None or now >= self.last_probe + self.spacing)
        )

    def next_probe(self) -> float | None:
        """When the next overdue probe may go (None: none is waiting to go)."""
        if not self.stalled or self.probe_seq is not None or self.last_probe is None:
            return None
        return self.last_probe + self.spacing

    def probe_sent(self, seq: int, now: float) -> None:
        self.probe_seq = seq
        self.last_probe = now

    def answered(self, seq: int) -> bool:
        """A response that matched no job arrived: True if it answered the probe (and the bind
        was stalled: it may take work again)."""
        if seq != self.probe_seq:
            return False
        self.probe_seq = None
        was, self.stalled = self.stalled, False
        return was

    def late(self, event: LateResponse, bind: str) -> LateAnswer | None:
        """The :class:`LateAnswer` for a late ``submit_sm_resp`` (None for other answers, or
        when the request is no longer remembered)."""
        entry = self._expired.pop(event.request_seq, None)
        if entry is None or event.request_command_id != CommandId.SUBMIT_SM:
            return None
        job, part = entry
        pdu = event.pdu
        status = pdu.command_status
        return LateAnswer(
            message=job.message,
            recipient=job.recipient,
            index=job.index,
            part=part,
            parts=len(job.parts),
            message_id=canonical_message_id(getattr(pdu, "message_id", ""))
            if status == CommandStatus.ESME_ROK
            else "",
            command_status=status,
            sequence_number=event.request_seq,
            bind=bind,
        )
