"""The SMPP client's configuration: the rarely changed knobs in one frozen ``SMPPOptions``, the
pool's dozen parameters, and one backoff formula for ``RetryPolicy`` and ``ReconnectPolicy``."""

from __future__ import annotations

import inspect

import attrs
import pytest

import smscenter
from smscenter import (
    Credentials,
    Limits,
    ReconnectPolicy,
    RetryPolicy,
    SMPPOptions,
    SMPPPool,
    ValidationError,
)
from smscenter.config import Backoff
from smscenter.ids import ReceiptIdStyle
from smscenter.smpp import SMPPSession

CREDS = Credentials("acme", "secret")


def test_options_are_one_frozen_value_with_checked_fields() -> None:
    options = SMPPOptions(throttle_pause=0.5, receipt_ids="decimal-text")
    assert options.receipt_ids is ReceiptIdStyle.DECIMAL_TEXT
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.throttle_pause = 2.0  # type: ignore[misc]
    assert attrs.evolve(options, throttle_retries=3).throttle_retries == 3
    for bad in ({"read_ahead": 0}, {"read_ahead": True}, {"report_buffer": 0}):
        with pytest.raises(ValidationError):
            SMPPOptions(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="octal"):
        SMPPOptions(receipt_ids="octal")
    assert smscenter.SMPPOptions is SMPPOptions


def test_the_pool_takes_about_a_dozen_parameters() -> None:
    params = inspect.signature(SMPPPool.__init__).parameters
    # self aside; the two plug-ins of many-process setups (store=, fleet=) on top of 13
    assert len(params) - 1 <= 15, list(params)
    for gone in ("connections", "window", "throttle_pause", "read_ahead", "receipt_ids"):
        assert gone not in params
    with pytest.raises(TypeError, match="connections"):
        SMPPPool("127.0.0.1", 1, CREDS, connections=2)  # type: ignore[call-arg]
    # No private plumbing type on the session's public signature either.
    session = inspect.signature(SMPPSession.__init__).parameters
    assert not {"queue", "limiter", "reports", "counters", "reassembler"} & set(session)


def test_the_pool_reads_limits_and_options() -> None:
    pool = SMPPPool(
        "127.0.0.1",
        1,
        CREDS,
        limits=Limits(connections=3, window=10),
        options=SMPPOptions(report_buffer=7, read_ahead=33, receipt_ids="hex-text"),
    )
    assert pool.system_type.connections == 3  # MCON3 from limits.connections
    assert pool._reports.capacity == 7 and pool._read_ahead == 33
    assert pool.receipt_id_style is ReceiptIdStyle.HEX_TEXT
    assert "window=10" in repr(pool) and "binds=0/3" in repr(pool)
    default = SMPPPool("127.0.0.1", 1, CREDS, limits=Limits(connections=2, window=1000))
    assert default._reports.capacity == 4000 and default._read_ahead == 4000


def test_one_backoff_formula_for_http_retries_and_smpp_reconnects() -> None:
    retry = RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=0.5)
    reconnect = ReconnectPolicy(initial=1.0, maximum=5.0, jitter=0.5, refused=0.0)
    assert isinstance(retry, Backoff) and isinstance(reconnect, Backoff)
    for n in range(1, 8):
        for fraction in (0.0, 0.3, 0.99):
            assert retry.delay(n, fraction) == reconnect.delay(n, fraction)
    assert retry.backoff == retry.initial == 1.0 and retry.max_backoff == retry.maximum == 5.0
    assert ReconnectPolicy(refused=10.0).delay(1, 0.0, refused=True) == 10.0
    for bad in ({"jitter": 2.0}, {"initial": -1.0}):
        with pytest.raises(ValidationError):
            ReconnectPolicy(**bad)  # type: ignore[arg-type]


def test_a_report_stream_comes_from_the_pool_only() -> None:
    from smscenter.smpp import ReportStream

    with pytest.raises(TypeError, match="no public constructor"):
        ReportStream()
    pool = SMPPPool("127.0.0.1", 1, CREDS)
    assert isinstance(pool.reports(), ReportStream)
