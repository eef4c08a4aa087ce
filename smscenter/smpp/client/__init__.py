"""The anyio SMPP client: :class:`~smscenter.smpp.client.pool.SMPPPool` (1..9 binds, reconnected)
and :class:`~smscenter.smpp.client.session.SMPPSession` (one bind) on top of the sans-IO core in
:mod:`smscenter.smpp`.

- ``session.py``: one bind: connect, bind, and its reader, writer and timer tasks;
- ``pool.py``: the binds of one login, supervised, sharing one queue, rate limit and report
  stream; ``send`` / ``send_many`` / ``query``;
- ``_jobs.py``: the work (one message to one recipient, or a query) and the queue binds pull it
  from; ``_ratelimit.py``: the pool-wide send rate;
- ``reports.py``: delivery reports and incoming messages on their way to the application;
- ``results.py``: :class:`SendOutcome`, :class:`QueryResult`, :class:`SMPPStatistics`;
- ``overdue.py``: requests past their response timeout, and answers that come after all;
- ``reconcile.py``: resending what a dropped bind left unanswered inside the provider's
  duplicate window.
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
