"""The rest of the HTTP API end to end against the simulator: history, incoming, statistics,
prices, MegaFon accounts, operator info, receive numbers, confirm-by-call, downloads, sender ids,
contacts/groups and mailings, with their endpoint-specific errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from smscenter import (
    BlacklistedError,
    DuplicateRequestError,
    HTTPClient,
    InsufficientFundsError,
    InvalidRecipientError,
    Message,
    MessageStatus,
    NotFoundError,
    OperationFailedError,
    ParameterError,
    VerificationCodeError,
)
from smscenter._provider import MOSCOW
from smscenter.http import DownloadStatus
from smscenter.testing.simulator import SMSCSimulator

PHONE = "79991234567"


def today() -> date:
    # The account's day (the provider counts statistics in Moscow time), not UTC's: they
    # differ from 21:00 to midnight UTC.
    return datetime.now(MOSCOW).date()


async def test_history(sim: SMSCSimulator, client: HTTPClient) -> None:
    assert await client.history() == []
    first = await client.send(Message(to=PHONE, text="first", sender="ACME"))
    second = await client.send(Message(to="79990000002", text="second"))
    sim.advance(10)
    rows = await client.history(count=10)
    assert [r.message_id for r in rows] == [second.message_id, first.message_id]
    newest = rows[0]
    assert newest.status is MessageStatus.DELIVERED
    assert newest.text == "second"
    assert newest.cost == Decimal("2.5")
    assert newest.submitted_at is not None and newest.submitted_at.tzinfo is not None
    assert newest.country
    only = await client.history(phones=[PHONE])
    assert [r.phone for r in only] == [PHONE]
    older = await client.history(before_id=second.message_id)
    assert [r.message_id for r in older] == [first.message_id]
    (record,) = list(sim.iter_records("get"))[-1:]
    assert record.form["prev_id"] == second.message_id


async def test_history_by_dates(client: HTTPClient) -> None:
    await client.send(Message(to=PHONE, text="dated"))
    rows = await client.history(start=date(2000, 1, 1), end=date(2000, 1, 2))
    assert rows == []


async def test_incoming(sim: SMSCSimulator, client: HTTPClient) -> None:
    sent = await client.send(Message(to=PHONE, text="Reply YES"))
    sim.inject_incoming(PHONE, "YES", to_phone="79990000100", answer_to=int(sent.message_id))
    sim.inject_incoming("79990000002", "hello", to_phone="79990000200")
    messages = await client.incoming(hours=24)
    assert sorted(m.text for m in messages) == ["YES", "hello"]
    (yes,) = [m for m in messages if m.text == "YES"]
    assert yes.phone == PHONE
    assert yes.to == "79990000100"
    assert yes.reply_to_id == sent.message_id
    assert yes.received_at is not None and yes.received_at.tzinfo is not None
    assert yes.message_id is not None
    newer = await client.incoming(after_id=yes.message_id)
    assert [m.text for m in newer] == ["hello"]
    to_second = await client.incoming(to_phone="79990000200")
    assert [m.text for m in to_second] == ["hello"]


async def test_statistics(client: HTTPClient) -> None:
    await client.send(Message(to=[PHONE, "79990000002"], text="x"))
    (row,) = await client.statistics(start=today(), end=today())
    assert row.login == "demo"
    assert row.messages == 2
    assert row.spent == Decimal("5")
    assert row.currency


async def test_prices(client: HTTPClient) -> None:
    prices = await client.prices()
    assert prices.zones
    zone = prices.zones[0]
    assert zone.name and zone.api == Decimal("2.5")
    assert zone.hlr == Decimal("0.5")
    assert prices.email == Decimal("0.05")


async def test_megafon_accounts(sim: SMSCSimulator, client: HTTPClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.megafon_accounts()
    assert info.value.endpoint == "get_mega_accounts"
    sim.account().mega_accounts.append(
        {
            "account": "111",
            "phone": "79990000001",
            "sms_mon": 5,
            "sms_day": 1,
            "sms_yes": 2,
            "sms_pmon": 30,
            "balance": "100.50",
            "credit": 0,
            "senders": "ACME,SHOP",
        }
    )
    (acct,) = await client.megafon_accounts(account="111")
    assert acct.account == "111"
    assert acct.sent_last_month == 30
    assert acct.balance == Decimal("100.50")
    assert acct.senders == ("ACME", "SHOP")


async def test_operator(client: HTTPClient) -> None:
    info = await client.operator(PHONE)
    assert info.country and info.operator
    assert info.mcc and info.mnc
    assert info.phone == PHONE
    with pytest.raises(NotFoundError) as nf:
        await client.operator("99912345678")
    assert nf.value.code == 3 and nf.value.endpoint == "get_operator"


async def test_receive_numbers(sim: SMSCSimulator, client: HTTPClient) -> None:
    numbers = await client.receive_numbers()
    assert numbers
    number = numbers[0]
    assert number.monthly_cost is not None and number.current_cost is not None
    assert number.current_cost <= number.monthly_cost
    before = sim.balance()
    charged = await client.buy_number(number.phone, renew=False)
    assert charged == number.current_cost
    assert sim.balance() == before - charged
    assert number.phone not in {n.phone for n in await client.receive_numbers()}
    await client.set_number_renewal(number.phone, renew=True)
    (record,) = list(sim.iter_records("receive_phones"))[-1:]
    assert record.form["noprolong"] == "0"
    sim.set_balance(None, "0")
    with pytest.raises(InsufficientFundsError) as info:
        await client.buy_number(numbers[1].phone)
    assert info.value.endpoint == "receive_phones.buy"


async def test_wait_call(sim: SMSCSimulator, client: HTTPClient) -> None:
    call = await client.wait_call(PHONE)
    assert call.phone in call.all_phones
    sim.simulate_call(PHONE)
    incoming = await client.incoming()
    assert any(m.text.startswith("[waitcall]") and m.phone == PHONE for m in incoming)
    sim.account().blacklist.add("79990000666")
    with pytest.raises(BlacklistedError) as info:
        await client.wait_call("79990000666")
    assert info.value.code == 5


async def test_wait_call_error_meanings(sim: SMSCSimulator, client: HTTPClient) -> None:
    for code, cls in ((3, InsufficientFundsError), (6, OperationFailedError)):
        sim.behaviour.fail_next("wait_call", code)
        with pytest.raises(cls):
            await client.wait_call(PHONE)


async def test_downloads_list_and_stream(sim: SMSCSimulator, client: HTTPClient) -> None:
    content = b"id;phone;status\n" + b"".join(b"%d;7999;1\n" % n for n in range(20000))
    done = sim.add_download_task("export-all", status=2, content=content)
    sim.add_download_task("pending-one", status=0)
    tasks = await client.downloads()
    assert [t.name for t in tasks] == ["export-all", "pending-one"]
    ready = tasks[0]
    assert ready.is_ready and ready.status is DownloadStatus.DONE
    assert ready.task_id == str(done.id)
    assert not tasks[1].is_ready
    assert [t.name for t in await client.downloads(after_id=ready.task_id)] == ["pending-one"]
    chunks: list[bytes] = []
    async with client.download(task_id=ready.task_id, chunk_size=4096) as stream:
        async for chunk in stream:
            chunks.append(chunk)
    assert b"".join(chunks) == content
    assert len(chunks) > 1, "the file arrives as a stream, in chunks"
    assert await client.download_bytes(name="export-all") == content


async def test_download_errors(sim: SMSCSimulator, client: HTTPClient) -> None:
    pending = sim.add_download_task("not-yet", status=1)
    with pytest.raises(NotFoundError) as info:
        async with client.download(task_id=str(pending.id)):
            pass
    assert info.value.code == 5
    assert info.value.endpoint == "downloads.get_file"
    with pytest.raises(ValueError):
        async with client.download():
            pass


async def test_senders(client: HTTPClient) -> None:
    assert "ACME" not in {s.sender for s in await client.senders()}
    sender_id = await client.add_sender("ACME", comment="main")
    names = {s.sender: s for s in await client.senders()}
    assert "ACME" in names and names["ACME"].sender_id == sender_id
    await client.delete_sender("ACME")
    assert "ACME" not in {s.sender for s in await client.senders()}
    with pytest.raises(NotFoundError):
        await client.delete_sender("ACME")


async def test_numeric_sender_confirmation(sim: SMSCSimulator, client: HTTPClient) -> None:
    await client.send_sender_code("79990001111")
    with pytest.raises(VerificationCodeError) as again:
        await client.send_sender_code("79990001111")
    assert again.value.code == 10
    with pytest.raises(VerificationCodeError) as wrong:
        await client.check_sender_code("79990001111", "000000")
    assert wrong.value.code == 11
    code = sim.account().sender_codes["79990001111"]
    await client.check_sender_code("79990001111", code)
    assert "79990001111" in {s.sender for s in await client.senders()}
    with pytest.raises(InvalidRecipientError):
        await client.send_sender_code("12")


async def test_contacts_and_groups(sim: SMSCSimulator, client: HTTPClient) -> None:
    group_id = await client.add_group("Customers", number="7")
    (group,) = await client.groups()
    assert (group.group_id, group.name, group.number) == (group_id, "Customers", "7")
    contact_id = await client.add_contact(PHONE, name="Ann", group_ids=[group_id], comment="vip")
    assert contact_id is not None
    (contact,) = await client.contacts(group_id=group_id)
    assert (contact.phone, contact.name, contact.comment) == (PHONE, "Ann", "vip")
    assert contact.group_ids == (group_id,)
    assert contact.contact_id == contact_id
    assert await client.contacts(search="nobody") == []
    # A contact group is a recipient: G<number>.
    await client.send(Message(to=f"G{group.number}", text="to the group"))
    assert [m.phone for m in sim.sent] == [PHONE]
    await client.delete_contact(PHONE)
    assert await client.contacts() == []
    with pytest.raises(NotFoundError):
        await client.delete_contact(PHONE)
    await client.delete_group(group_id)
    assert await client.groups() == []


async def test_mailings(sim: SMSCSimulator, client: HTTPClient) -> None:
    mailing = await client.add_mailing(
        "Spring sale", Message(to=[PHONE, "79990000002"], text="Sale!")
    )
    assert mailing.name == "Spring sale"
    assert len(sim.sent) == 2
    got = await client.mailing(mailing.mailing_id)
    assert got.mailing_id == mailing.mailing_id
    assert got.name == "Spring sale" and got.text == "Sale!"
    assert got.cost == Decimal("5")
    assert got.created_at is not None
    assert [m.mailing_id for m in await client.mailings()] == [mailing.mailing_id]
    await client.cancel_mailing(mailing.mailing_id)
    assert (await client.mailing(mailing.mailing_id)).status == "cancelled"
    await client.delete_mailing(mailing.mailing_id)
    assert await client.mailings() == []
    with pytest.raises(OperationFailedError) as info:
        await client.mailing("424242")
    assert info.value.code == 3 and info.value.endpoint == "jobs.get"


@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        ("get", "history"),
        ("get", "incoming"),
        ("get", "prices"),
        ("info", "operator"),
        ("receive_phones", "receive_numbers"),
        ("downloads", "downloads"),
        ("senders", "senders"),
        ("phones", "groups"),
        ("jobs", "mailings"),
    ],
)
async def test_common_errors_on_every_endpoint(
    sim: SMSCSimulator, client: HTTPClient, endpoint: str, call: str
) -> None:
    method = getattr(client, call)
    args = (PHONE,) if call == "operator" else ()
    sim.behaviour.fail_next(endpoint, 1)
    with pytest.raises(ParameterError):
        await method(*args)
    sim.behaviour.fail_next(endpoint, 9)
    with pytest.raises(DuplicateRequestError) as info:
        await method(*args)
    assert info.value.retryable
