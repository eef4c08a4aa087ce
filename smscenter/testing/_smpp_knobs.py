"""The SMPP half's knobs and what it counts: :class:`SMPPBehaviour`, :class:`SMPPCounters`,
:class:`SMPPSessionInfo`.

A test turns the knobs (``sim.behaviour.smpp``: limits, faults, the provider's error statuses)
and asserts on the counters (``sim.smpp.counters``) and the bound sessions
(``sim.smpp.sessions()``); :class:`~smscenter.testing._smpp_server.SMPPServer` reads them.
"""

from __future__ import annotations

import time
from collections import Counter

import attrs

from smscenter.smpp.constants import BindMode, CommandStatus
from smscenter.smpp.system_type import SystemType

__all__ = ("DEFAULT_ERROR_STATUSES", "SMPPBehaviour", "SMPPCounters", "SMPPSessionInfo")

S = CommandStatus

#: Provider error codes (what :meth:`SimulatorState.send` raises) -> submit_sm_resp status.
DEFAULT_ERROR_STATUSES: dict[int, int] = {
    1: S.ESME_RSUBMITFAIL,  # bad parameters / empty message
    3: S.ESME_RSUBMITFAIL,  # not enough money
    6: S.ESME_RSUBMITFAIL,  # forbidden text or sender
    7: S.ESME_RINVDSTADR,  # invalid number
    8: S.ESME_RINVDSTADR,  # undeliverable number
    9: S.ESME_RSUBMITFAIL,  # identical message within a minute
}


@attrs.define
class SMPPBehaviour:
    """Knobs of the SMPP half (``sim.behaviour.smpp``); change them at any time.

    Limits and timing:

    :ivar throughput: submit_sm PDUs per second allowed per account (smscentre.com/api/smpp: 30 by
    default);
        beyond it the answer is ESME_RTHROTTLED (0x58). ``None`` turns the limit off.
    :ivar throughput_by_login: per-account overrides of :attr:`throughput` (the provider raises
        an account's limit on request), ``None`` values switching it off for that login.
    :ivar idle_timeout: seconds without anything received after which a connection is cut
        (smscentre.com/api/smpp: 2 minutes). ``None`` never cuts.
    :ivar receipts: send receipts (deliver_sm) at all.
    :ivar intermediate_receipts: also report the move to "transmitted" (ENROUTE); the provider
        reports final statuses only.
    :ivar deliver_incoming: deliver incoming messages (``sim.inject_incoming``) as deliver_sm to
        a receiving bind (smscentre.com/api/smpp: "Send incoming SMS via SMPP connection" is
        ticked).
    :ivar record: store, bill and check each message (the default). ``False`` is a benchmark
        mode: submits get fresh ids and an immediate DELIVRD receipt when one is asked for;
        nothing is stored or billed and no duplicate or funds check runs.
    :ivar receipt_window: deliver_sm PDUs awaiting deliver_sm_resp per connection; the rest
        wait in the account's queue.
    :ivar error_statuses: provider error code -> submit_sm_resp status for refused submits.
        ``error_statuses[9]`` is the duplicate refusal's status (ESME_RSUBMITFAIL by default;
        the provider does not document the one it uses): a ``submit_sm`` identical to one
        accepted within ``sim.behaviour.duplicate_window`` seconds (the provider: a minute;
        0 turns the check off) is refused with it.
    :ivar duplicate_with_id: a duplicate refusal carries the first message's id in its
        ``message_id`` (SMPP 3.4 leaves the body out of an error response; some SMSCs fill it).
    :ivar system_id: the SMSC's system_id in bind responses.

    Faults:

    :ivar response_delay: write every answer this many seconds late (the link keeps reading).
    :ivar stop_answering: read everything and answer nothing (enquire_link included): the link
        looks dead. Nothing read meanwhile is stored.
    :ivar swallow_submits: submit_sm PDUs are read and dropped unanswered (not stored); other
        PDUs are answered as usual.
    :ivar drop_after_pdus: close each connection once it has received this many PDUs (the bind
        included): the last one and anything after it in the same read are neither handled nor
        answered. ``None``: never.
    :ivar drop_loses_answers: with :attr:`drop_after_pdus`, the connection is cut without
        writing the answers still queued, those of the PDUs handled in the dropping read
        included: those submits were stored and billed, and the client cannot know it (the
        rest of the read was never received). ``False``: the answers go out before the cut.
    :ivar malformed: answer the next ``malformed`` submit_sm with a broken PDU instead of their
        submit_sm_resp (see :attr:`malformed_kind`).
    :ivar malformed_kind: ``"response"``: a submit_sm_resp whose message_id lacks its NUL (a
        decode error the client can attribute to the request); ``"frame"``: a header claiming a
        command_length of 8, which breaks the framing (the client must close the link).
    :ivar throttle_every: answer every n-th submit_sm (counted per server) with
        ESME_RTHROTTLED whatever the rate: ``2`` throttles half of them. ``None``: off. With
        ``n > 1`` a message throttled on its last attempt is let through on the next, so a
        resend cannot fall in step with the count and be throttled forever.
    :ivar refuse_binds: refuse the next this-many bind attempts with
        :attr:`bind_refusal_status`.
    :ivar refuse_binds_until: refuse binds until this :func:`time.monotonic` instant (see
        :meth:`refuse_binds_for`).
    :ivar bind_refusal_status: the status of refused binds (ESME_RBINDFAIL).
    :ivar mcon_refusal_status: the status of a bind beyond its MCONn allowance (ESME_RALYBND).
    """

    throughput: float | None = 30.0
    throughput_by_login: dict[str, float | None] = attrs.field(factory=dict)
    idle_timeout: float | None = 120.0
    receipts: bool = True
    intermediate_receipts: bool = False
    deliver_incoming: bool = True
    record: bool = True
    receipt_window: int = 1000
    error_statuses: dict[int, int] = attrs.field(factory=lambda: dict(DEFAULT_ERROR_STATUSES))
    duplicate_with_id: bool = False
    system_id: str = "smscenter"
    response_delay: float = 0.0
    stop_answering: bool = False
    swallow_submits: bool = False
    drop_after_pdus: int | None = None
    drop_loses_answers: bool = False
    malformed: int = 0
    malformed_kind: str = "response"
    throttle_every: int | None = None
    refuse_binds: int = 0
    refuse_binds_until: float | None = None
    bind_refusal_status: int = S.ESME_RBINDFAIL
    mcon_refusal_status: int = S.ESME_RALYBND

    def refuse_binds_for(self, seconds: float) -> None:
        """Refuse every bind for the next ``seconds`` (real time)."""
        self.refuse_binds_until = time.monotonic() + seconds


@attrs.define
class SMPPCounters:
    """What the SMPP half has seen, for assertions (``sim.smpp.counters``).

    :ivar bind_attempts: bind requests per login; :ivar binds: successful ones per login;
        :ivar bind_refusals: refused ones per login; :ivar kicked: binds closed because a newer
        bind of the same login came without MCON.
    :ivar submits: submit_sm PDUs received; :ivar accepted: answered with ESME_ROK;
        :ivar refused: answered with an error other than throttling; :ivar throttled: answered
        with ESME_RTHROTTLED; :ivar swallowed: dropped unanswered by a fault knob.
    :ivar max_in_flight: the most submit_sm of one connection received and not yet answered.
    :ivar receipts_sent: / :ivar receipts_acked: receipt deliver_sm written / answered ROK.
    :ivar incoming_sent: / :ivar incoming_acked: the same for incoming (MO) messages.
    :ivar queries: query_sm received; :ivar enquire_links: enquire_link received;
        :ivar unbinds: unbind received; :ivar idle_cuts: connections cut for idleness;
        :ivar drops: connections closed by ``drop_after_pdus``.
    :ivar duplicates: submit_sm refused as identical to one accepted within the duplicate
        window (also counted in ``refused``).
    """

    bind_attempts: Counter[str] = attrs.field(factory=Counter)
    binds: Counter[str] = attrs.field(factory=Counter)
    bind_refusals: Counter[str] = attrs.field(factory=Counter)
    kicked: Counter[str] = attrs.field(factory=Counter)
    submits: int = 0
    accepted: int = 0
    refused: int = 0
    throttled: int = 0
    swallowed: int = 0
    max_in_flight: int = 0
    receipts_sent: int = 0
    receipts_acked: int = 0
    incoming_sent: int = 0
    incoming_acked: int = 0
    queries: int = 0
    enquire_links: int = 0
    unbinds: int = 0
    idle_cuts: int = 0
    drops: int = 0
    duplicates: int = 0


@attrs.frozen(kw_only=True)
class SMPPSessionInfo:
    """A bound SMPP connection as tests see it (``sim.smpp.sessions()``)."""

    login: str
    mode: BindMode
    system_type: SystemType
