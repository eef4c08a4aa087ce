"""The anyio SMPP client: :class:`~smscenter.smpp.client.pool.SMPPPool` (1..9 binds, reconnected)
and :class:`~smscenter.smpp.client.session.SMPPSession` (one bind) on top of the sans-IO core in
:mod:`smscenter.smpp`.

- ``session.py``: one bind, its public constructor and operations; ``_bind.py`` its base class:
  connect, bind, unbind, and its reader, writer and timer tasks (started with ``tg.start`` in an
  ``AsyncExitStack``), whose decisions are ``_pump.py``'s and ``_dispatch.py``'s;
- ``_stream.py``: connecting (TCP/TLS, ``TCP_NODELAY``), the ``connect=`` seam, and the one place
  where the stream's errors become the library's;
- ``_inflight.py``: pure settlement: what each answer, expiry or lost link does to the jobs;
- ``pool.py``: the binds of one login sharing one queue, rate limit and report stream;
  ``send`` / ``send_many`` / ``query``; ``_binds.py`` keeps the binds up (backoff, fail-over),
  ``_bulk.py`` is ``send_many``'s bounded read-ahead, ``_shared.py`` what the binds share;
- ``_jobs.py``: the work (one message to one recipient, or a query) and the queue binds pull it
  from; ``_ratelimit.py``: the pool-wide send rate and a bind's throttle pause;
- ``reports.py``: delivery reports and incoming messages on their way to the application;
- ``results.py``: :class:`SendOutcome`, :class:`QueryResult`, :class:`SMPPStatistics`;
- ``overdue.py``: requests past their response timeout, and answers that come after all;
- ``reconcile.py``: resending what a dropped bind left unanswered inside the provider's
  duplicate window;
- ``_tracking.py``: with a message store (``SMPPPool(..., store=)``), sends claimed before they
  are queued and settled before their caller hears of them, receipts recorded before they are
  acknowledged, both in batches.
"""

from __future__ import annotations

from smscenter.config import ReconnectPolicy
from smscenter.smpp.client.overdue import LateAnswer
from smscenter.smpp.client.pool import SMPPPool
from smscenter.smpp.client.reconcile import ReconcilePolicy
from smscenter.smpp.client.reports import ReportStream
from smscenter.smpp.client.results import QueryResult, SendOutcome, SMPPStatistics
from smscenter.smpp.client.session import SMPPSession

__all__ = (
    "LateAnswer",
    "QueryResult",
    "ReconcilePolicy",
    "ReconnectPolicy",
    "ReportStream",
    "SMPPPool",
    "SMPPSession",
    "SMPPStatistics",
    "SendOutcome",
)
