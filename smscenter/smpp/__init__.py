"""SMPP 3.4 for smscenter.

The sans-IO core (no sockets, no clock, no tasks) lives in :mod:`smscenter.smpp.constants`,
:mod:`smscenter.smpp.pdu` (PDUs, codec, framer), :mod:`smscenter.smpp.events` and
:mod:`smscenter.smpp.connection` (the session state machine for both ESME and SMSC roles).
"""

from __future__ import annotations
