"""Credentials, timeouts, limits, retry policy, and the error hierarchy."""

from __future__ import annotations

import hashlib
import pickle

import pytest

import smscenter
from smscenter import (
    APIError,
    Credentials,
    DuplicateRequestError,
    Limits,
    LocalProtocolError,
    OperationTimeout,
    ProtocolError,
    RateLimitError,
    ResponseTimeout,
    RetryPolicy,
    SMSCenterError,
    Timeouts,
    Transport,
)


def test_credentials_forms_and_http_params() -> None:
    assert Credentials("acme", "pw").http_params() == {"login": "acme", "psw": "pw"}
    digest = hashlib.md5(b"pw").hexdigest()
    assert Credentials.hashed("acme", "pw").http_params() == {"login": "acme", "psw": digest}
    assert Credentials.from_md5("acme", digest.upper()).password_md5 == digest
    assert Credentials.from_api_key("k-1").http_params() == {"apikey": "k-1"}
    assert Credentials("acme", "pw").auth == "password"
    assert Credentials.hashed("acme", "pw").auth == "md5"
    assert Credentials.from_api_key("k").auth == "api_key"


def test_credentials_never_show_secrets() -> None:
    for creds in (
        Credentials("acme", "TopSecret1"),
        Credentials.from_md5("acme", hashlib.md5(b"TopSecret1").hexdigest()),
        Credentials.from_api_key("TopSecret1"),
    ):
        text = repr(creds) + str(creds)
        for secret in creds.secrets():
            assert secret not in text
        assert "TopSecret1" not in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: Credentials("acme"),
        lambda: Credentials("acme", "pw", api_key="k"),
        lambda: Credentials(None, "pw"),
        lambda: Credentials("", "pw"),
        lambda: Credentials("acme", ""),
        lambda: Credentials("acme", api_key="k"),
        lambda: Credentials.from_api_key(""),
        lambda: Credentials.from_md5("acme", "not-a-digest"),
        lambda: Credentials("логин", "pw"),
    ],
)
def test_bad_credentials(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_timeouts_shorthand_and_overrides() -> None:
    t = Timeouts(5)
    assert (t.connect, t.http, t.bind, t.response, t.pool, t.unbind) == (5, 5, 5, 5, 5, 5)
    assert t.enquire_link == 30.0
    t2 = Timeouts(5, response=None, enquire_link=20)
    assert t2.response is None and t2.connect == 5 and t2.enquire_link == 20
    d = Timeouts()
    assert d.connect == 10.0 and d.response == 30.0
    assert Timeouts(None).connect is None
    with pytest.raises(ValueError):
        Timeouts(-1)
    with pytest.raises(ValueError, match="2-minute"):
        Timeouts(enquire_link=150)


def test_limits_validation() -> None:
    assert Limits().max_concurrent_requests < 15
    with pytest.raises(ValueError):
        Limits(max_concurrent_requests=15)
    with pytest.raises(ValueError):
        Limits(connections=10)
    with pytest.raises(ValueError):
        Limits(window=0)
    with pytest.raises(ValueError):
        Limits(max_rate=0)
    assert Limits(max_rate=None).max_rate is None


def test_retry_delay_grows_and_jitters() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=0.5)
    assert policy.delay(1, 0.0) == 1.0
    assert policy.delay(2, 0.0) == 2.0
    assert policy.delay(5, 0.0) == 5.0  # capped
    assert policy.delay(2, 1.0) == 1.0  # jitter takes off up to half
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


def test_error_hierarchy() -> None:
    assert issubclass(ResponseTimeout, OperationTimeout)
    assert issubclass(ResponseTimeout, TimeoutError)
    assert issubclass(DuplicateRequestError, RateLimitError)
    assert DuplicateRequestError.retryable
    with pytest.raises(TypeError, match="abstract"):
        ProtocolError("x")
    assert isinstance(LocalProtocolError("x"), SMSCenterError)
    for name in smscenter.__all__:
        obj = getattr(smscenter, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, SMSCenterError), name


def test_api_error_carries_facts_and_pickles() -> None:
    err = DuplicateRequestError(
        9, "duplicate request, wait a minute", message_id="42", endpoint="send"
    )
    assert (err.code, err.message_id, err.endpoint, err.transport) == (
        9,
        "42",
        "send",
        Transport.HTTP,
    )
    assert "error 9" in str(err) and "42" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is DuplicateRequestError and copy.code == 9 and copy.message_id == "42"
    assert isinstance(APIError(1, transport=Transport.SMPP), SMSCenterError)
