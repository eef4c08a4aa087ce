"""HTTPClient under failure, against the simulator on 127.0.0.1: every provider error code, httpx
error mapping, mirror failover, the concurrency cap, duplicate-safe retries, and credentials that
never leak into logs, reprs or errors."""

from __future__ import annotations

import logging
from decimal import Decimal

import anyio
import httpx
import pytest

from smscenter import (
    APIError,
    AuthenticationError,
    ConnectError,
    ConnectionLost,
    ConnectTimeout,
    Credentials,
    DuplicateRequestError,
    HTTPClient,
    InsufficientFundsError,
    InvalidRecipientError,
    InvalidTimeError,
    IPBlockedError,
    Limits,
    LocalProtocolError,
    Message,
    MessageForbiddenError,
    NotFoundError,
    OperationFailedError,
    ParameterError,
    PoolTimeout,
    RemoteProtocolError,
    ResponseTimeout,
    RetryPolicy,
    SMSCenterError,
    Timeouts,
    TransportError,
    UndeliverableError,
    UnknownOutcomeError,
    VerificationCodeError,
)
from smscenter.http._httpx_errors import _HTTPX_ERRORS
from smscenter.http.client import map_httpx_error
from smscenter.testing.simulator import SMSCSimulator

from .conftest import FAST_RETRY, dead_base_url

PHONE = "79991234567"

SEND_ERRORS: list[tuple[int, type[APIError]]] = [
    (1, ParameterError),
    (2, AuthenticationError),
    (3, InsufficientFundsError),
    (4, IPBlockedError),
    (5, InvalidTimeError),
    (6, MessageForbiddenError),
    (7, InvalidRecipientError),
    (8, UndeliverableError),
    (9, DuplicateRequestError),
    (10, VerificationCodeError),
]


# --- provider error codes ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "cls"), SEND_ERRORS)
async def test_every_send_error_code(
    sim: SMSCSimulator, client: HTTPClient, code: int, cls: type[APIError]
) -> None:
    sim.behaviour.fail_next("send", code)
    with pytest.raises(cls) as info:
        await client.send(Message(to=PHONE, text="x"))
    err = info.value
    assert type(err) is cls
    assert err.code == code
    assert err.endpoint == "send"
    assert err.description
    assert sim.requests["send"] == 1, "a provider error is an answer: no retry"


@pytest.mark.parametrize(
    ("endpoint", "code", "cls", "call"),
    [
        ("status", 3, NotFoundError, "status"),
        ("status", 5, OperationFailedError, "delete"),
        ("balance", 9, DuplicateRequestError, "balance"),
        ("balance", 4, IPBlockedError, "balance"),
        ("send", 1, ParameterError, "cost"),
        ("send", 9, DuplicateRequestError, "cost"),
    ],
)
async def test_endpoint_specific_meanings(
    sim: SMSCSimulator,
    client: HTTPClient,
    endpoint: str,
    code: int,
    cls: type[APIError],
    call: str,
) -> None:
    sim.behaviour.fail_next(endpoint, code)
    with pytest.raises(cls) as info:
        if call == "status":
            await client.status("1", PHONE)
        elif call == "delete":
            await client.delete("1", PHONE)
        elif call == "balance":
            await client.balance()
        else:
            await client.cost(Message(to=PHONE, text="x"))
    assert info.value.code == code
    assert info.value.endpoint == call


async def test_real_send_refusals_carry_the_message_id(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    sim.set_balance(None, "0")
    with pytest.raises(InsufficientFundsError) as funds:
        await client.send(Message(to=PHONE, text="x"))
    sim.set_balance(None, "100")
    sim.behaviour.undeliverable_phones.add("79990000008")
    with pytest.raises(UndeliverableError) as undeliverable:
        await client.send(Message(to="79990000008", text="x"))
    sim.behaviour.forbidden_words.add("casino")
    with pytest.raises(MessageForbiddenError) as forbidden:
        await client.send(Message(to=PHONE, text="best casino"))
    for info in (funds, undeliverable, forbidden):
        assert info.value.message_id is not None
        assert info.value.message_id in str(info.value)


async def test_status_of_unknown_message_is_not_found(client: HTTPClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.status("424242", PHONE)
    assert info.value.code == 3
    with pytest.raises(NotFoundError):
        await client.delete("424242", PHONE)


# --- httpx error mapping ------------------------------------------------------------------------


def _httpx_exception_classes() -> list[type[Exception]]:
    return sorted(
        (
            obj
            for obj in vars(httpx).values()
            if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ != "builtins"
        ),
        key=lambda c: c.__name__,
    )


def test_every_httpx_exception_class_is_mapped() -> None:
    classes = _httpx_exception_classes()
    assert len(classes) >= 25
    missing = [cls.__name__ for cls in classes if cls not in _HTTPX_ERRORS]
    assert missing == []
    for cls in classes:
        assert issubclass(_HTTPX_ERRORS[cls], SMSCenterError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("refused"), ConnectError),
        (httpx.ConnectTimeout("slow"), ConnectTimeout),
        (httpx.ReadTimeout("slow"), ResponseTimeout),
        (httpx.WriteTimeout("slow"), ResponseTimeout),
        (httpx.PoolTimeout("full"), PoolTimeout),
        (httpx.ReadError("reset"), ConnectionLost),
        (httpx.WriteError("reset"), ConnectionLost),
        (httpx.RemoteProtocolError("malformed status line"), RemoteProtocolError),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            ConnectionLost,
        ),
        (httpx.LocalProtocolError("bad"), LocalProtocolError),
        (httpx.UnsupportedProtocol("gopher"), ConnectError),
    ],
)
def test_map_httpx_error_picks_the_specific_class(
    error: Exception, expected: type[SMSCenterError]
) -> None:
    mapped = map_httpx_error(error, host="smsc.ru")
    assert type(mapped) is expected
    if isinstance(mapped, TransportError):
        assert mapped.host == "smsc.ru"


def test_map_httpx_error_scrubs_secrets() -> None:
    error = httpx.ConnectError("cannot reach https://smsc.ru/sys/send.php?login=a&psw=TOPSECRET")
    mapped = map_httpx_error(error, host="smsc.ru", secrets=("TOPSECRET",))
    assert "TOPSECRET" not in str(mapped)
    assert "***" in str(mapped)


# --- mirrors ---------------------------------------------------------------------------------


async def test_failover_from_a_refusing_host_to_a_mirror(sim: SMSCSimulator) -> None:
    dead = dead_base_url()
    async with HTTPClient(
        sim.credentials, base_url=dead, mirrors=[sim.base_url], retry=FAST_RETRY
    ) as api:
        assert api.hosts == (dead, sim.base_url)
        result = await api.send(Message(to=PHONE, text="through the mirror"))
    assert sim.requests["send"] == 1
    (stored,) = sim.sent
    assert str(stored.id) == result.message_id
    assert not result.confirmed_by_status


async def test_all_hosts_down_raises_connect_error() -> None:
    creds = Credentials("acme", "pw-never-shown")
    async with HTTPClient(
        creds,
        base_url=dead_base_url(),
        mirrors=[dead_base_url()],
        retry=RetryPolicy(attempts=4, backoff=0.0),
    ) as api:
        with pytest.raises(ConnectError) as info:
            await api.balance()
    assert info.value.host is not None and info.value.host.startswith("127.0.0.1:")


async def test_empty_answer_moves_to_the_next_attempt(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    sim.behaviour.empty_responses = 1
    balance = await client.balance()
    assert balance.balance == Decimal("1000")
    assert sim.requests["balance"] == 2


async def test_only_empty_answers_is_a_remote_protocol_error(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    sim.behaviour.empty_responses = 10
    with pytest.raises(RemoteProtocolError, match="empty answer"):
        await client.balance()
    assert sim.requests["balance"] == FAST_RETRY.attempts


async def test_dropped_connection_is_retried(sim: SMSCSimulator, client: HTTPClient) -> None:
    sim.behaviour.drop_connections = 1
    result = await client.send(Message(to=PHONE, text="after a drop"))
    assert len(sim.sent) == 1
    assert str(sim.sent[0].id) == result.message_id


async def test_backoff_uses_the_retry_policy(sim: SMSCSimulator) -> None:
    sim.behaviour.empty_responses = 2
    policy = RetryPolicy(attempts=3, backoff=0.05, jitter=0.0)
    async with HTTPClient(sim.credentials, base_url=sim.base_url, retry=policy) as api:
        start = anyio.current_time()
        await api.balance()
        elapsed = anyio.current_time() - start
    assert elapsed >= 0.05 + 0.1  # 0.05 before attempt 2, 0.1 before attempt 3


# --- duplicate-safe retries ----------------------------------------------------------------


class LoseFirstSendAnswer(httpx.AsyncHTTPTransport):
    """Delivers the first send to the provider, then loses its answer on the way back."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path.endswith("/send.php") and self.lost == 0:
            self.lost += 1
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def test_retried_send_whose_first_try_went_through_is_not_sent_twice(
    sim: SMSCSimulator,
) -> None:
    transport = LoseFirstSendAnswer()
    async with HTTPClient(
        sim.credentials, base_url=sim.base_url, transport=transport, retry=FAST_RETRY
    ) as api:
        result = await api.send(Message(to=PHONE, text="exactly once"))
    assert transport.lost == 1
    assert sim.requests["send"] == 2, "the retry reached the provider"
    assert len(sim.sent) == 1, "and was refused as a duplicate"
    assert result.confirmed_by_status
    assert result.message_id == str(sim.sent[0].id)
    assert result.cost == Decimal("2.5")
    assert sim.balance() == Decimal("997.5")


async def test_lost_answer_in_the_simulator_is_reconciled(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    # The provider stores and bills the send, then the connection dies before the answer.
    sim.behaviour.lose_answers = 1
    sim.behaviour.fault_endpoint = "send"
    result = await client.send(Message(to=PHONE, text="lost answer"))
    assert result.confirmed_by_status
    assert len(sim.sent) == 1
    assert result.message_id == str(sim.sent[0].id)
    assert sim.balance() == Decimal("997.5"), "billed once"


async def test_retried_send_to_many_recipients_reports_totals(sim: SMSCSimulator) -> None:
    async with HTTPClient(
        sim.credentials, base_url=sim.base_url, transport=LoseFirstSendAnswer(), retry=FAST_RETRY
    ) as api:
        result = await api.send(Message(to=[PHONE, "79990000002"], text="both"))
    assert result.confirmed_by_status
    assert len(sim.sent) == 2
    assert (result.parts, result.cost) == (2, Decimal("5"))


async def test_retried_list_send_is_not_sent_twice(sim: SMSCSimulator) -> None:
    async with HTTPClient(
        sim.credentials, base_url=sim.base_url, transport=LoseFirstSendAnswer(), retry=FAST_RETRY
    ) as api:
        result = await api.send_list(
            [Message(to=PHONE, text="code 1"), Message(to="79990000002", text="code 2")]
        )
    assert result.confirmed_by_status
    assert sorted(m.phone for m in sim.sent) == ["79990000002", PHONE]


async def test_retried_send_with_own_int_client_id(sim: SMSCSimulator) -> None:
    async with HTTPClient(
        sim.credentials, base_url=sim.base_url, transport=LoseFirstSendAnswer(), retry=FAST_RETRY
    ) as api:
        result = await api.send(Message(to=PHONE, text="mine", client_id=777))
    assert result.confirmed_by_status
    assert result.client_id == 777
    assert len(sim.sent) == 1


async def test_duplicate_after_retry_with_nothing_sent_is_reported_truthfully(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    # The first attempt is cut before the provider handles it; the retry is refused as a
    # duplicate anyway (say, a concurrent identical request). Nothing was sent: say so.
    sim.behaviour.drop_connections = 1
    sim.behaviour.fail_next("send", 9)
    with pytest.raises(DuplicateRequestError) as info:
        await client.send(Message(to=PHONE, text="never sent"))
    assert sim.sent == []
    assert "nothing was sent" in str(info.value)
    assert info.value.code == 9


async def test_unverifiable_duplicate_is_an_unknown_outcome(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    # The retry is refused as a duplicate, and the status check that should settle it fails.
    sim.behaviour.drop_connections = 1
    sim.behaviour.fail_next("send", 9)
    sim.behaviour.fail_next("status", 4)
    with pytest.raises(UnknownOutcomeError) as info:
        await client.send(Message(to=PHONE, text="who knows"))
    assert isinstance(info.value.cause, IPBlockedError)
    assert "may or may not" in str(info.value)


async def test_duplicate_on_first_attempt_is_raised_as_is(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    await client.send(Message(to=PHONE, text="same", client_id=5))
    with pytest.raises(DuplicateRequestError):
        await client.send(Message(to=PHONE, text="same", client_id=5))
    assert len(sim.sent) == 1
    assert "status" not in sim.requests, "no reconciliation for a first-attempt duplicate"


# --- concurrency cap -----------------------------------------------------------------------


async def test_never_more_than_the_cap_in_flight(sim: SMSCSimulator) -> None:
    sim.behaviour.latency = 0.05
    async with (
        HTTPClient(
            sim.credentials,
            base_url=sim.base_url,
            limits=Limits(max_concurrent_requests=3),
            retry=FAST_RETRY,
        ) as api,
        anyio.create_task_group() as tg,
    ):
        for n in range(12):
            tg.start_soon(api.send, Message(to=f"7999000{n:04d}", text=f"n{n}"))
    assert len(sim.sent) == 12
    assert sim.max_concurrent() == 3


async def test_default_cap_stays_under_the_providers_limit(sim: SMSCSimulator) -> None:
    sim.behaviour.latency = 0.05
    async with (
        HTTPClient(sim.credentials, base_url=sim.base_url, retry=FAST_RETRY) as api,
        anyio.create_task_group() as tg,
    ):
        for n in range(40):
            tg.start_soon(api.send, Message(to=f"7999100{n:04d}", text="burst"))
    assert len(sim.sent) == 40, "no send refused with error 9 (15+ concurrent)"
    assert sim.max_concurrent() == 10


async def test_waiting_for_a_slot_is_bounded_by_the_pool_timeout(sim: SMSCSimulator) -> None:
    sim.behaviour.latency = 0.5
    outcomes: list[object] = []

    async def balance(api: HTTPClient) -> None:
        try:
            outcomes.append(await api.balance())
        except PoolTimeout as error:
            outcomes.append(error)

    async with (
        HTTPClient(
            sim.credentials,
            base_url=sim.base_url,
            limits=Limits(max_concurrent_requests=1),
            timeouts=Timeouts(pool=0.1),
            retry=FAST_RETRY,
        ) as api,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(balance, api)
        tg.start_soon(balance, api)
    assert sum(isinstance(o, PoolTimeout) for o in outcomes) == 1
    assert sim.requests["balance"] == 1, "the request that timed out waiting was never sent"


async def test_response_timeout(sim: SMSCSimulator) -> None:
    sim.behaviour.latency = 1.0
    async with HTTPClient(
        sim.credentials,
        base_url=sim.base_url,
        timeouts=Timeouts(http=0.1),
        retry=RetryPolicy(attempts=1),
    ) as api:
        with pytest.raises(ResponseTimeout) as info:
            await api.balance()
    assert isinstance(info.value, TimeoutError)


# --- credentials never leak --------------------------------------------------------------------

SECRET_PASSWORD = "Pa55-leak-canary-1"
SECRET_KEY = "api-key-leak-canary-2"


async def test_credentials_never_leak(sim: SMSCSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim.add_account("leaky", SECRET_PASSWORD, api_key=SECRET_KEY)
    md5 = Credentials.hashed("leaky", SECRET_PASSWORD)
    forms = [Credentials("leaky", SECRET_PASSWORD), md5, Credentials.from_api_key(SECRET_KEY)]
    secrets = [SECRET_PASSWORD, SECRET_KEY, md5.password_md5 or ""]
    errors: list[BaseException] = []
    texts: list[str] = []
    for creds in forms:
        texts.append(repr(creds))
        async with HTTPClient(
            creds, base_url=sim.base_url, retry=RetryPolicy(attempts=2, backoff=0.0)
        ) as api:
            texts.append(repr(api))
            texts.append(str(await api.send(Message(to=PHONE, text=f"hi {creds.auth}"))))
            for code in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
                sim.behaviour.fail_next("send", code)
                with pytest.raises(APIError) as info:
                    await api.send(Message(to=PHONE, text=f"err {code} {creds.auth}"))
                errors.append(info.value)
            sim.behaviour.empty_responses = 2
            with pytest.raises(RemoteProtocolError) as empty:
                await api.balance()
            errors.append(empty.value)
            sim.behaviour.empty_responses = 0
        # Transport errors: a refused host, and a lost connection.
        async with HTTPClient(
            creds, base_url=dead_base_url(), retry=RetryPolicy(attempts=1)
        ) as dead:
            with pytest.raises(ConnectError) as refused:
                await dead.balance()
            errors.append(refused.value)
        sim.behaviour.drop_connections = 5
        async with HTTPClient(creds, base_url=sim.base_url, retry=RetryPolicy(attempts=1)) as api:
            with pytest.raises(TransportError) as dropped:
                await api.balance()
            errors.append(dropped.value)
        sim.behaviour.drop_connections = 0
    # Wrong credentials are refused without echoing them.
    async with HTTPClient(
        Credentials("leaky", SECRET_PASSWORD + "x"), base_url=sim.base_url, retry=FAST_RETRY
    ) as api:
        with pytest.raises(AuthenticationError) as auth:
            await api.balance()
        errors.append(auth.value)
    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            texts.append(str(chain))
            texts.append(repr(chain))
            chain = chain.__cause__ or chain.__context__
    texts.append(caplog.text)
    assert caplog.records, "DEBUG logging was captured"
    for text in texts:
        for secret in secrets:
            assert secret not in text
