"""Settling unknown outcomes by resending inside the provider's duplicate window.

When a bind drops, the ``submit_sm`` written on it and not yet answered have an unknown
outcome: the SMSC may have accepted them (the answer was lost) or never received them. The
provider "does not accept more than one identical request to send SMS messages within a
minute" (https://smscentre.com/api/smpp/), and that refusal settles the question: the same
``submit_sm`` written again on another bind *within that minute* is either

- **accepted**: the first never arrived, and this one is the message (its id is the id); or
- **refused as a duplicate**: the first did arrive and was accepted; the message went out
  once, under an id the lost answer carried (the refusal's ``message_id`` when it has one).

Past the minute the refusal no longer protects, and a resend could deliver the message twice,
so none is written then: the outcome stays unknown. :class:`ReconcilePolicy` is the opt-in;
``SMPPPool(resend_unknown=True)`` remains the blunt resend without this protection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smscenter._provider import Transport
from smscenter.config import ReconcilePolicy
from smscenter.exceptions import UnknownOutcomeError
from smscenter.smpp.statuses import THROTTLE_STATUSES

if TYPE_CHECKING:
    from smscenter.smpp.client._jobs import Job
    from smscenter.smpp.pdu import Pdu

__all__ = ("ReconcilePolicy",)


class Resent:
    """What a job (``Job.context``) carries once some of its parts were resent."""

    __slots__ = ("confirmed", "parts", "policy")

    def __init__(self, policy: ReconcilePolicy) -> None:
        self.policy = policy
        #: part index -> how often it was resent
        self.parts: dict[int, int] = {}
        #: a resent part was refused as a duplicate: the message went out the first time
        self.confirmed = False


def take_back(setting: bool | ReconcilePolicy, job: Job, index: int, now: float) -> bool:
    """A bind dropped with part ``index`` of ``job`` written and unanswered: whether to write
    it again on another bind (the caller puts it back in the queue)."""
    if setting is True:  # the blunt resend: it may deliver twice
        return job.attempts < 3
    if not isinstance(setting, ReconcilePolicy) or job.taken_at is None:
        return False
    record = job.context
    if record is None:
        record = job.context = Resent(setting)
    elif type(record) is not Resent:
        return False
    closes = job.taken_at + setting.window - setting.margin
    if now >= closes or record.parts.get(index, 0) >= setting.resends:
        return False
    record.parts[index] = record.parts.get(index, 0) + 1
    # Waiting for a bind past this would write it where the refusal no longer protects: the
    # queue then ends it as unknown (it was written before).
    job.deadline = closes
    return True


def settle_refusal(job: Job, index: int, pdu: Pdu, now: float) -> bool | None:
    """A resent part was refused (non-zero ``command_status``): True when that means it was
    accepted the first time (a duplicate refusal), False when the job is now failed as
    unknown (throttled past the window: writing it yet again could deliver twice), None when
    the refusal is an ordinary one for the caller to handle."""
    record = job.context
    if type(record) is not Resent or index not in record.parts:
        return None
    status = pdu.command_status
    if status == record.policy.duplicate_status:
        record.confirmed = True
        message_id = getattr(pdu, "message_id", "")
        if message_id and job.error is None:
            job.responses[index] = message_id
        return True
    if status in THROTTLE_STATUSES and job.deadline is not None and now >= job.deadline:
        job.fail(
            UnknownOutcomeError(
                "a resend of a message whose answer was lost was throttled, and the "
                "provider's duplicate window is over: it may have been sent",
                transport=Transport.SMPP,
            )
        )
        job.todo.clear()
        return False
    return None


def resend_refused(job: Job, index: int, error: BaseException) -> BaseException:
    """The error for part ``index`` of ``job`` refused for good (or for speed once too often):
    ``error``, unless the part is a resend. A refusal of a resend other than the duplicate one
    says nothing about the first write, which may have gone out: then UnknownOutcomeError."""
    record = job.context
    if type(record) is not Resent or index not in record.parts:
        return error
    return UnknownOutcomeError(
        "a resend of a message whose answer was lost was refused, not as a duplicate; the "
        "first may have been sent",
        cause=error,
        transport=Transport.SMPP,
    )


def too_late(job: Job, now: float) -> bool:
    """Whether a resent job is about to be written after its window (less the margin) closed
    (a throttle pause or a rate-limit wait on its bind outlasted it): then it is failed as
    unknown, unwritten, for writing it could deliver the message twice."""
    record = job.context
    if type(record) is not Resent or job.deadline is None or now < job.deadline:
        return False
    job.fail(
        UnknownOutcomeError(
            "a message whose answer was lost waited past the provider's duplicate window for "
            "its resend; it may have been sent",
            transport=Transport.SMPP,
        )
    )
    job.todo.clear()
    return True


def confirmed(job: Job) -> bool:
    """Whether the job's message went out as shown by a duplicate refusal."""
    record = job.context
    return type(record) is Resent and record.confirmed
