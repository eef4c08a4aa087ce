"""What the binds of one pool share: one queue, one rate limit, one report buffer, one set of
counters, one reassembler, one way to read receipts. A lone session has its own."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from smscenter.models import DeliveryReport
from smscenter.smpp.client._jobs import JobQueue
from smscenter.smpp.client._ratelimit import SendRate
from smscenter.smpp.client.reports import ReportBuffer
from smscenter.smpp.client.results import Counters
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.reassembly import Reassembler
from smscenter.smpp.receipts import ReceiptReader

__all__ = ("Shared",)


@attrs.frozen(kw_only=True)
class Shared:
    """The pool's plumbing handed to each of its binds (``SMPPSession._create``; how they bind is
    ``BindSettings``, _bind.py).

    :ivar queue: the jobs the binds pull from.
    :ivar limiter: the pool-wide send rate (fleet-wide with a ``Fleet``).
    :ivar reports: the hand-off to the one report stream.
    :ivar counters: the pool's counters.
    :ivar reassembler: joins multi-part incoming messages whose parts arrive on different binds
        (after a reconnect, or with ``MCONn``).
    :ivar read_receipt: turns a receipt ``deliver_sm`` into a report (the pool's id-style
        matcher).
    :ivar owned: True for a lone session: it closes the queue and the buffer when it ends.
    """

    queue: JobQueue
    limiter: SendRate
    reports: ReportBuffer
    counters: Counters = attrs.field(factory=Counters)
    reassembler: Reassembler = attrs.field(factory=Reassembler)
    read_receipt: Callable[[DeliverSm], DeliveryReport] = attrs.field(
        factory=lambda: ReceiptReader().report
    )
    owned: bool = False
