"""HTTPClient end to end against the embedded simulator over a real socket on 127.0.0.1:
sends, costs, statuses, balance, lifecycle, auth forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import httpx
import pytest

from smscenter import (
    AuthenticationError,
    Credentials,
    DeliveryError,
    HTTPClient,
    Limits,
    Message,
    MessageKind,
    MessageStatus,
    SendOptions,
    SendWindow,
    Timeouts,
)
from smscenter.models import Attachment, MessageType
from smscenter.testing.simulator import SMSCSimulator

from .conftest import FAST_RETRY

PHONE = "79991234567"


async def test_send_returns_id_parts_cost_balance(sim: SMSCSimulator, client: HTTPClient) -> None:
    result = await client.send(Message(to="+" + PHONE, text="Hello"))
    assert result.parts == 1
    assert result.cost == Decimal("2.5")
    assert result.balance == Decimal("997.5")
    assert sim.balance() == Decimal("997.5")
    (stored,) = sim.sent_to(PHONE)
    assert str(stored.id) == result.message_id
    assert stored.text == "Hello"
    # A client id was generated so that a retry could be reconciled.
    assert isinstance(result.client_id, str) and result.client_id
    (record,) = sim.iter_records("send")
    assert record.method == "POST"
    assert record.query == {}, "nothing may travel in the URL"
    assert record.form["fmt"] == "3" and record.form["charset"] == "utf-8"
    assert record.form["cost"] == "3"
    assert record.files == ()


async def test_send_all_options_reach_the_provider(sim: SMSCSimulator, client: HTTPClient) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    await client.send(
        Message(
            to=[PHONE, "79990000002"],
            text="Привет, мир",
            sender="ACME",
            translit=True,
            send_at=when,
            validity=timedelta(hours=2),
            client_id=4242,
            comment="order 17",
            max_parts=2,
            tinyurl=True,
            options=SendOptions(user_ip="10.0.0.1"),
        )
    )
    (record,) = sim.iter_records("send")
    form = record.form
    assert form["phones"] == f"{PHONE},79990000002"
    assert form["mes"] == "Привет, мир\n~~~\norder 17"
    assert form["sender"] == "ACME"
    assert form["translit"] == "1"
    assert form["time"] == f"0{int(when.timestamp())}"
    assert form["valid"] == "02:00"
    assert form["id"] == "4242"
    assert form["maxsms"] == "2"
    assert form["tinyurl"] == "1"
    assert form["userip"] == "10.0.0.1"
    stored = sim.sent_to(PHONE)[0]
    assert stored.comment == "order 17"
    assert stored.text == "Привет, мир"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (timedelta(minutes=30), "+30"),
        (SendWindow(9, 21), "9-21"),
        (datetime(2030, 1, 2, 3, 4), "0201300304"),
        (
            datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
            f"0{int(datetime(2030, 1, 2, 3, 4, tzinfo=UTC).timestamp())}",
        ),
    ],
    ids=["relative", "window", "naive-local", "aware"],
)
async def test_schedule_forms(
    sim: SMSCSimulator,
    client: HTTPClient,
    when: timedelta | SendWindow | datetime,
    expected: str,
) -> None:
    await client.send(Message(to=PHONE, text="later", send_at=when))
    (record,) = sim.iter_records("send")
    assert record.form["time"] == expected
    if isinstance(when, timedelta):
        # The simulator honours the schedule: nothing moves until the 30 minutes are up.
        (stored,) = sim.sent
        sim.advance(20 * 60)
        report = await client.status(str(stored.id), PHONE)
        assert report.status is MessageStatus.QUEUED
        sim.advance(20 * 60)
        report = await client.status(str(stored.id), PHONE)
        assert report.status is MessageStatus.DELIVERED


async def test_send_per_recipient_details(client: HTTPClient) -> None:
    result = await client.send(Message(to=[PHONE, "79990000002"], text="x"), per_recipient=True)
    assert {r.phone for r in result.recipients} == {PHONE, "79990000002"}
    for recipient in result.recipients:
        assert recipient.cost == Decimal("2.5")
        assert recipient.status is MessageStatus.QUEUED
        assert recipient.error is DeliveryError.NO_ERROR


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"kind": MessageKind.FLASH}, ("flash", "1")),
        ({"kind": MessageKind.WAP_PUSH, "text": "http://a.ru\nA"}, ("push", "1")),
        ({"kind": MessageKind.HLR, "text": ""}, ("hlr", "1")),
        ({"kind": MessageKind.BINARY_HEX, "text": "0605040B84"}, ("bin", "2")),
        ({"kind": MessageKind.PING, "text": ""}, ("ping", "1")),
        ({"kind": MessageKind.CALL, "voice": "w"}, ("call", "1")),
        ({"kind": MessageKind.VIBER}, ("viber", "1")),
        ({"kind": MessageKind.SOCIAL}, ("soc", "1")),
        ({"kind": MessageKind.TELEGRAM, "text": "123456"}, ("tg", "1")),
        ({"kind": MessageKind.BOT, "bot": "@acme_bot"}, ("bot", "@acme_bot")),
    ],
)
async def test_every_kind_is_sent(
    sim: SMSCSimulator, client: HTTPClient, fields: dict[str, object], flag: tuple[str, str]
) -> None:
    message = Message(**{"to": PHONE, "text": "hi", **fields})  # type: ignore[arg-type]
    result = await client.send(message)
    (record,) = sim.iter_records("send")
    assert record.form[flag[0]] == flag[1]
    assert result.message_id


async def test_email_and_mms_attachments_go_multipart(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    await client.send(
        Message(
            to="dest@example.com",
            text="See attached",
            kind=MessageKind.EMAIL,
            sender="shop@example.com",
            subject="Invoice",
            attachments=[Attachment("invoice.txt", b"total: 10", "text/plain")],
        )
    )
    (record,) = sim.iter_records("send")
    assert record.files == ("invoice.txt",)
    assert record.form["mail"] == "1" and record.form["subj"] == "Invoice"
    assert record.query == {}
    assert sim.sent[-1].phone == "dest@example.com"


async def test_send_list_per_recipient_texts(sim: SMSCSimulator, client: HTTPClient) -> None:
    result = await client.send_list(
        [
            Message(to=PHONE, text="Your code 123"),
            Message(to="79990000002", text="Your code\n456"),
        ]
    )
    assert result.parts >= 2
    texts = {m.phone: m.text for m in sim.sent}
    assert texts == {PHONE: "Your code 123", "79990000002": "Your code\n456"}


async def test_cost_sends_nothing(sim: SMSCSimulator, client: HTTPClient) -> None:
    cost = await client.cost(Message(to=[PHONE, "79990000002"], text="x"))
    assert cost.cost == Decimal("5")
    assert cost.parts == 2
    listed = await client.cost_list(
        [Message(to=PHONE, text="a"), Message(to="79990000002", text="b")]
    )
    assert listed.cost == cost.cost
    assert sim.sent == []
    assert sim.balance() == Decimal("1000")


async def test_status_moves_from_queued_to_delivered(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    result = await client.send(Message(to=PHONE, text="track me", sender="ACME"))
    first = await client.status(result.message_id, PHONE)
    assert first.status in (MessageStatus.QUEUED, MessageStatus.TRANSMITTED)
    assert not first.is_final
    sim.advance(10)
    report = await client.status(result.message_id, PHONE, detail=2)
    assert report.status is MessageStatus.DELIVERED and report.is_final
    assert report.message_id == result.message_id
    assert report.changed_at is not None and report.changed_at.tzinfo is not None
    assert report.submitted_at is not None and report.submitted_at <= report.changed_at
    assert report.text == "track me"
    assert report.cost == Decimal("2.5")
    assert report.message_type is MessageType.SMS
    assert report.country and report.operator


async def test_status_many_and_not_found_rows(sim: SMSCSimulator, client: HTTPClient) -> None:
    one = await client.send(Message(to=PHONE, text="a"))
    two = await client.send(Message(to="79990000002", text="b"))
    sim.advance(10)
    reports = await client.status_many(
        [(one.message_id, PHONE), (two.message_id, "79990000002"), ("99999", PHONE)]
    )
    assert [r.status for r in reports] == [
        MessageStatus.DELIVERED,
        MessageStatus.DELIVERED,
        MessageStatus.NOT_FOUND,
    ]
    assert [r.message_id for r in reports] == [one.message_id, two.message_id, "99999"]
    (record,) = sim.iter_records("status")
    assert record.form["id"].endswith(",")


async def test_hlr_result(sim: SMSCSimulator, client: HTTPClient) -> None:
    result = await client.send(Message(to=PHONE, kind=MessageKind.HLR))
    sim.advance(10)
    report = await client.status(result.message_id, PHONE, detail=1)
    assert report.hlr is not None
    assert report.hlr.imsi and report.hlr.country
    assert report.message_type is MessageType.HLR


async def test_delete(sim: SMSCSimulator, client: HTTPClient) -> None:
    result = await client.send(Message(to=PHONE, text="a"))
    await client.delete(result.message_id, PHONE)
    assert sim.message(int(result.message_id), PHONE) is None


async def test_balance(sim: SMSCSimulator, client: HTTPClient) -> None:
    sim.set_balance(None, "12.34")
    balance = await client.balance()
    assert balance.balance == Decimal("12.34")
    assert balance.currency


@pytest.mark.parametrize("form", ["password", "md5", "hashed", "api_key"])
async def test_every_auth_form(sim: SMSCSimulator, form: str) -> None:
    password = sim.account().password
    creds = {
        "password": sim.credentials,
        "md5": Credentials.from_md5(sim.login, sim.account().password_md5),
        "hashed": Credentials.hashed(sim.login, password),
        "api_key": sim.api_key_credentials,
    }[form]
    async with HTTPClient(creds, base_url=sim.base_url, retry=FAST_RETRY) as api:
        assert (await api.balance()).balance == Decimal("1000")
    (record,) = sim.iter_records("balance")
    if form == "api_key":
        assert "apikey" in record.form and "login" not in record.form
    else:
        assert record.form["login"] == sim.login
        assert (record.form["psw"] == password) is (form == "password")


async def test_wrong_password_is_authentication_error(sim: SMSCSimulator) -> None:
    async with HTTPClient(
        Credentials(sim.login, "wrong"), base_url=sim.base_url, retry=FAST_RETRY
    ) as api:
        with pytest.raises(AuthenticationError) as info:
            await api.balance()
    assert info.value.code == 2
    assert info.value.endpoint == "balance"
    assert sim.requests["balance"] == 1, "an API error is not retried"


async def test_connections_are_reused(sim: SMSCSimulator) -> None:
    opened: list[int] = []

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            pool = self._pool
            before = len(pool.connections)
            response = await super().handle_async_request(request)
            if len(pool.connections) > before:
                opened.append(1)
            return response

    async with HTTPClient(
        sim.credentials, base_url=sim.base_url, transport=Counting(), retry=FAST_RETRY
    ) as api:
        for _ in range(5):
            await api.balance()
    assert sim.requests["balance"] == 5
    assert len(opened) == 1


async def test_lifecycle_and_repr(sim: SMSCSimulator) -> None:
    api = HTTPClient(sim.credentials, base_url=sim.base_url)
    assert "unopened" in repr(api)
    async with api:
        assert "opened" in repr(api)
        with pytest.raises(RuntimeError):
            await api.__aenter__()
    assert "closed" in repr(api)
    with pytest.raises(RuntimeError):
        await api.balance()
    with pytest.raises(RuntimeError):
        async with api:
            pass


def test_constructor_checks() -> None:
    creds = Credentials("acme", "pw")
    with pytest.raises(ValueError):
        HTTPClient(creds, base_url="ftp://smsc.ru")
    with pytest.raises(ValueError):
        HTTPClient(creds, base_url="https://smsc.ru/?login=x")
    with pytest.raises(TypeError):
        HTTPClient("acme:pw")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Limits(max_concurrent_requests=15)
    default = HTTPClient(creds, base_url="https://smscentre.com")
    assert default.hosts == (
        "https://smscentre.com",
        "https://www2.smscentre.com",
        "https://www3.smscentre.com",
        "https://www4.smscentre.com",
        "https://www5.smscentre.com",
    )
    assert HTTPClient(creds).base_url == "https://smsc.ru"
    assert HTTPClient(creds, base_url="https://www1.smsc.kz/").hosts[1:3] == (
        "https://www2.smsc.kz",
        "https://www3.smsc.kz",
    )
    assert HTTPClient(creds, base_url="http://127.0.0.1:8000", mirrors=()).hosts == (
        "http://127.0.0.1:8000",
    )
    assert Timeouts().pool is not None


async def test_invalid_input_fails_before_any_request(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    with pytest.raises(ValueError):
        await client.send(Message(to="12", text="x"))
    with pytest.raises(TypeError):
        await client.send("79991234567: hi")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await client.send_list([])
    with pytest.raises(ValueError):
        await client.send_list(
            [Message(to=PHONE, text="a", sender="A"), Message(to="79990000002", text="b")]
        )
    with pytest.raises(ValueError):
        await client.status("1", PHONE, detail=5)
    with pytest.raises(ValueError):
        await client.history(count=500)
    with pytest.raises(ValueError):
        await client.incoming(hours=1000)
    assert sim.requests == {}


async def test_used_without_async_with(sim: SMSCSimulator) -> None:
    api = HTTPClient(sim.credentials, base_url=sim.base_url)
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(api.balance)
        assert "opened" in repr(api)
        with pytest.raises(RuntimeError):
            await api.__aenter__()
    finally:
        await api.aclose()
    assert sim.requests["balance"] == 5
    with pytest.raises(RuntimeError):
        await api.balance()
