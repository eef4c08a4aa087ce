"""The account calls end to end against the simulator: senders.php (change, delete by id, list
all, registration fields), phones.php (change, groups, moves, blacklist, paging, all fields),
templates.php, users.php, jobs.php options and pricing, the e-mail history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smscenter import (
    BlacklistedError,
    Credentials,
    HTTPClient,
    Message,
    MessageKind,
    NotFoundError,
    OperationFailedError,
    ParameterError,
    ValidationError,
)
from smscenter.http import (
    BlacklistScope,
    ContactDetails,
    GroupMove,
    MailingRepeat,
    MailingResend,
    MessageFormat,
    SenderRegistration,
    SubClientType,
)
from smscenter.http import _account_protocol as acct
from smscenter.testing.simulator import SMSCSimulator

PHONE = "79991234567"


def last_form(sim: SMSCSimulator, endpoint: str) -> dict[str, str]:
    return dict(list(sim.iter_records(endpoint))[-1].form)


# --- senders.php ----------------------------------------------------------------------------


async def test_sender_registration_change_and_delete_by_id(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    registration = SenderRegistration(
        owner="ACME LLC",
        tax_id="7701234567",
        site="https://acme.example",
        email="office@acme.example",
        address="Moscow",
        description="order notifications",
    )
    sender_id = await client.add_sender("ACME", comment="main", registration=registration)
    form = last_form(sim, "senders")
    assert (form["fio"], form["inn"], form["site"], form["desc"]) == (
        "ACME LLC",
        "7701234567",
        "https://acme.example",
        "order notifications",
    )
    await client.add_sender("ACME2")
    await client.change_sender(sender_id=sender_id, comment="renamed note")
    (acme, acme2) = await client.senders(include_all=True)
    assert last_form(sim, "senders")["all"] == "1"
    assert (acme.sender, acme.sender_id, acme.comment) == ("ACME", sender_id, "renamed note")
    assert acme2.comment is None
    await client.change_sender("ACME2", registration=SenderRegistration(tax_id="770123456789"))
    await client.delete_sender(sender_id=sender_id)
    assert last_form(sim, "senders")["id"] == sender_id
    assert [s.sender for s in await client.senders()] == ["ACME2"]
    with pytest.raises(NotFoundError):
        await client.delete_sender(sender_id=sender_id)
    with pytest.raises(NotFoundError):
        await client.change_sender("NOPE", comment="x")


def test_sender_reference_and_registration_are_checked() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        acct.delete_sender_request()
    with pytest.raises(ValidationError, match="exactly one"):
        acct.change_sender_request(sender="A", sender_id="1")
    with pytest.raises(ValidationError, match="10 or 12 digits"):
        SenderRegistration(tax_id="123")


# --- phones.php -----------------------------------------------------------------------------


async def test_contact_fields_change_and_paging(sim: SMSCSimulator, client: HTTPClient) -> None:
    details = ContactDetails(
        email="ann@example.com",
        first_name="Ann",
        last_name="Lee",
        middle_name="M",
        birthday=date(1990, 5, 17),
        my_id="crm-17",
        tags=("vip", "moscow"),
        other_phones=("79990000009",),
    )
    first = await client.add_contact(PHONE, name="Ann", comment="c1", details=details)
    form = last_form(sim, "phones")
    assert (form["bd"], form["tags"], form["pho"], form["mail"]) == (
        "17.05.1990",
        "vip,moscow",
        "79990000009",
        "ann@example.com",
    )
    second = await client.add_contact("79990000002", name="Bob")
    third = await client.add_contact("79990000003", name="Cy")
    (ann, bob, cy) = await client.contacts()
    assert ann.details == details
    assert bob.details == ContactDetails()
    assert [c.contact_id for c in await client.contacts(after_id=first)] == [second, third]
    assert [c.contact_id for c in await client.contacts(after_id=third)] == []

    await client.change_contact(
        PHONE,
        new_phone="79990000001",
        comment="moved",
        details=ContactDetails(last_name="Smith"),
    )
    (ann,) = await client.contacts(search="79990000001")
    assert (ann.comment, ann.details.last_name, ann.details.first_name) == ("moved", "Smith", "Ann")
    with pytest.raises(NotFoundError):
        await client.change_contact(PHONE, name="gone")
    with pytest.raises(ValidationError, match="at least one field"):
        await client.change_contact("79990000001")


async def test_groups_change_and_move(client: HTTPClient) -> None:
    a = await client.add_group("Alpha", number="11")
    b = await client.add_group("Beta", number="12")
    await client.add_contact(PHONE, group_ids=[a])
    await client.change_group(a, name="Alpha team", number="21")
    groups = {g.group_id: g.name for g in await client.groups()}
    assert groups == {"21": "Alpha team", "12": "Beta"}
    (contact,) = await client.contacts()
    assert contact.group_ids == ("21",)
    await client.move_contact(PHONE, [b], how=GroupMove.ADD)
    assert (await client.contacts())[0].group_ids == ("12", "21")
    await client.move_contact(PHONE, ["21"], how=GroupMove.REMOVE)
    assert (await client.contacts())[0].group_ids == ("12",)
    await client.move_contact(PHONE, ["21"])
    assert (await client.contacts())[0].group_ids == ("21",)
    with pytest.raises(NotFoundError):
        await client.move_contact(PHONE, ["99"])
    with pytest.raises(NotFoundError):
        await client.change_group("99", name="x")


async def test_blacklist(sim: SMSCSimulator, client: HTTPClient) -> None:
    await client.add_to_blacklist(PHONE, scope=BlacklistScope.MASS)
    assert last_form(sim, "phones")["type"] == "1"
    # The provider refuses to confirm a blacklisted number by call (wait_call error 5).
    with pytest.raises(BlacklistedError):
        await client.wait_call(PHONE)
    await client.remove_from_blacklist(PHONE)
    await client.wait_call(PHONE)
    with pytest.raises(NotFoundError):
        await client.remove_from_blacklist(PHONE)


# --- templates.php --------------------------------------------------------------------------


async def test_templates(sim: SMSCSimulator, client: HTTPClient) -> None:
    tid = await client.add_template(
        "code", "Your code: {code}", format=MessageFormat.VIBER, sender="ACME"
    )
    sig = await client.add_template("sig", "-- ACME", signature=True)
    assert last_form(sim, "templates")["fl[1]"] == "1"
    first, second = await client.templates()
    assert (first.template_id, first.name, first.text, first.format, first.sender) == (
        tid,
        "code",
        "Your code: {code}",
        "viber",
        "ACME",
    )
    assert second.signature and not first.signature
    await client.change_template(tid, text="Code: {code}", format=MessageFormat.SMS)
    first, _ = await client.templates()
    assert (first.text, first.format) == ("Code: {code}", "sms")
    await client.delete_template(sig)
    assert [t.template_id for t in await client.templates()] == [tid]
    with pytest.raises(NotFoundError):
        await client.delete_template(sig)
    with pytest.raises(ValidationError):
        await client.change_template(tid)


# --- jobs.php options and pricing -----------------------------------------------------------


async def test_mailing_price_only_creates_nothing(sim: SMSCSimulator, client: HTTPClient) -> None:
    message = Message(to=[PHONE, "79990000002"], text="Sale")
    quote = await client.add_mailing("spring", message, price_only=True)
    assert quote.cost == Decimal("5.0")
    assert last_form(sim, "jobs")["cost"] == "1"
    assert await client.mailings() == []
    assert sim.sent == []


async def test_mailing_repeat_and_resend(sim: SMSCSimulator, client: HTTPClient) -> None:
    message = Message(to=PHONE, text="Weekly news", kind=MessageKind.VIBER)
    mailing = await client.add_mailing(
        "news",
        message,
        repeat=MailingRepeat.WEEKLY,
        max_repeats=4,
        resend=MailingResend(text="News by SMS", sender="ACME"),
    )
    form = last_form(sim, "jobs")
    assert (form["rpt"], form["rptn"], form["fl[5]"], form["mes2"], form["sender2"]) == (
        "5",
        "4",
        "1",
        "News by SMS",
        "ACME",
    )
    assert sim.account().jobs[int(mailing.mailing_id)].options["rpt"] == "5"
    with pytest.raises(ValidationError, match="periodic repeat"):
        await client.add_mailing("bad", message, max_repeats=2)


async def test_template_mailing(sim: SMSCSimulator, client: HTTPClient) -> None:
    tid = await client.add_template("promo", "Promo for you", sender="ACME")
    mailing = await client.add_template_mailing("promo run", tid, [PHONE])
    assert last_form(sim, "jobs")["tpl"] == tid
    (sent,) = sim.sent
    assert (sent.text, sent.sender) == ("Promo for you", "ACME")
    assert (await client.mailing(mailing.mailing_id)).text == "Promo for you"
    with pytest.raises(OperationFailedError):  # jobs.php error 3: the record cannot be saved
        await client.add_template_mailing("none", "999", [PHONE])


# --- get.php e-mail history -----------------------------------------------------------------


async def test_email_history(sim: SMSCSimulator, client: HTTPClient) -> None:
    assert await client.email_history() == []
    await client.send(Message(to=PHONE, text="an SMS"))
    for address in ("ann@example.com", "bob@example.com"):
        await client.send(
            Message(
                to=address,
                kind=MessageKind.EMAIL,
                sender="shop@example.com",
                subject="Hi",
                text=f"mail to {address}",
            )
        )
    rows = await client.email_history()
    assert [r.phone for r in rows] == ["bob@example.com", "ann@example.com"]
    form = last_form(sim, "get")
    assert form["format"] == "8"
    only = await client.email_history(emails=["ann@example.com"])
    assert [r.text for r in only] == ["mail to ann@example.com"]
    assert last_form(sim, "get")["email"] == "ann@example.com"


# --- users.php ------------------------------------------------------------------------------


async def test_sub_clients(sim: SMSCSimulator, client: HTTPClient) -> None:
    before = await client.balance()
    await client.add_sub_client(
        "acme_shop",
        "shop-pass-1",
        client_type=SubClientType.OWN_BALANCE,
        email="shop@example.com",
        callback_url="https://shop.example/smsc",
    )
    assert last_form(sim, "users")["type"] == "1"
    await client.pay_sub_client("acme_shop", "100.50")
    assert (await client.balance()).balance == before.balance - Decimal("100.50")
    # The sub-client is an account of its own: it logs in and sends.
    async with HTTPClient(Credentials("acme_shop", "shop-pass-1"), base_url=sim.base_url) as shop:
        assert (await shop.balance()).balance == Decimal("100.50")
        await shop.send(Message(to=PHONE, text="from the shop"))
    await client.change_sub_client("acme_shop", password="shop-pass-2")
    async with HTTPClient(Credentials("acme_shop", "shop-pass-2"), base_url=sim.base_url) as shop:
        assert (await shop.balance()).balance == Decimal("98.00")
    rows = await client.sub_client_statistics(start=date(2000, 1, 1))
    assert [(r.login, r.messages, r.spent) for r in rows] == [("acme_shop", 1, Decimal("2.5"))]
    (one,) = await client.sub_client_statistics(start=date(2000, 1, 1), login="acme_shop")
    assert one.login == "acme_shop"
    with pytest.raises(NotFoundError):
        await client.pay_sub_client("stranger", 1)
    with pytest.raises(ValidationError):
        await client.pay_sub_client("acme_shop", 0)
    with pytest.raises(ParameterError):
        await client.add_sub_client("bad login!", "x")


# --- tinyurls.php, ping.php, get_mnp.php ----------------------------------------------------


async def test_short_link_statistics(sim: SMSCSimulator, client: HTTPClient) -> None:
    await client.send(Message(to=PHONE, text="See https://shop.example/sale now", tinyurl=True))
    link = await client.short_link(url="https://shop.example/sale")
    assert (link.url, link.clicks) == ("https://shop.example/sale", 0)
    sim.account().short_links[int(link.link_id)]["cnt"] = 3
    again = await client.short_link(link_id=link.link_id)
    assert again.clicks == 3
    with pytest.raises(NotFoundError):
        await client.short_link(url="https://elsewhere.example/")
    with pytest.raises(ValidationError):
        await client.short_link()


async def test_event_notification(sim: SMSCSimulator, client: HTTPClient) -> None:
    await client.notify_event("1", name="db", host="db1.example", info="disk full")
    await client.notify_event("1", recovered=True, name="db")
    events = sim.account().ping_events
    assert [(e["ok"], e["name"]) for e in events] == [("0", "db"), ("1", "db")]
    assert events[0]["info"] == "disk full"
    with pytest.raises(NotFoundError):
        await client.notify_event("42")


async def test_ported_numbers(sim: SMSCSimulator, client: HTTPClient) -> None:
    sim.state.ported.append(("02.03.2024", "79161234567", "25002"))
    sim.state.ported.append(("03.03.2024", "79031234567", "25099"))
    (moved,) = await client.ported_numbers(date(2024, 3, 2))
    assert (moved.phone, moved.mccmnc) == ("79161234567", "25002")
    assert await client.ported_numbers(date(2024, 3, 4)) == []
