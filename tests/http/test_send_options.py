"""Typed HTTP-only send options (``SendOptions``): validated when built, mapped once, answered by
the simulator as the provider answers them, refused over SMPP and SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from smscenter import (
    Credentials,
    HTTPClient,
    Message,
    MessageKind,
    ParameterError,
    SendOptions,
    VerificationCodeError,
)
from smscenter.http import _protocol as proto
from smscenter.options import CallSettings, Spread, ViberButton
from smscenter.smpp.submit import build_submit_sm
from smscenter.smtp import smtp_body
from smscenter.testing.simulator import SMSCSimulator

PHONE = "79991234567"


def form(message: Message) -> dict[str, str]:
    return dict(proto.send_request(message).params)


def test_every_option_maps_to_its_parameter() -> None:
    spread = Message(
        to=PHONE,
        text="sale",
        options=SendOptions(
            spread=Spread(timedelta(hours=2, minutes=30), timedelta(minutes=15)),
            captcha_code="1234",
            user_ip="203.0.113.7",
            report_failed=True,
            partner_id=4242,
        ),
    )
    got = form(spread)
    assert got["period"] == "2.5"
    assert got["freq"] == "15"
    assert got["imgcode"] == "1234"
    assert got["userip"] == "203.0.113.7"
    assert got["err"] == "1"
    assert got["pp"] == "4242"
    call = Message(
        to=PHONE,
        text="Your code 1 2 3 4",
        kind=MessageKind.CALL,
        options=SendOptions(
            call=CallSettings(wait_seconds=20, retry_seconds=60, attempts=3),
            file_url="https://example.com/greeting.mp3",
        ),
    )
    assert form(call)["param"] == "20,60,3"
    assert form(call)["fileurl"] == "https://example.com/greeting.mp3"
    bot = Message(
        to=PHONE,
        text="hi",
        kind=MessageKind.BOT,
        bot="@acme_bot",
        options=SendOptions(reverify_days=30),
    )
    assert form(bot)["smsreq"] == "30"
    assert form(Message(to=PHONE, text="x", options=SendOptions(spread=Spread(
        timedelta(hours=24), timedelta(hours=1)))))["period"] == "24"  # fmt: skip


def test_viber_button_and_image() -> None:
    message = Message(
        to=PHONE,
        text="New collection",
        kind=MessageKind.VIBER,
        comment="campaign 3",
        options=SendOptions(
            viber_button=ViberButton("https://shop.example/new", "Open"),
            file_url="https://shop.example/banner.png",
        ),
    )
    got = form(message)
    # The macro is part of the text; the comment stays after it.
    assert got["mes"] == "New collection\n{button,https://shop.example/new,Open}\n~~~\ncampaign 3"
    assert got["fileurl"] == "https://shop.example/banner.png"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Spread(timedelta(minutes=5), timedelta(minutes=1)), "0.1 to 720 hours"),
        (lambda: Spread(timedelta(hours=721), timedelta(minutes=1)), "0.1 to 720 hours"),
        (lambda: Spread(timedelta(hours=1), timedelta(seconds=90)), "whole minutes"),
        (lambda: Spread(timedelta(hours=1), timedelta(minutes=61)), "longer than period"),
        (lambda: CallSettings(wait_seconds=5), "wait_seconds must be 10..35"),
        (lambda: CallSettings(attempts=10), "attempts must be 1..9"),
        (lambda: CallSettings(retry_seconds=3601), "retry_seconds must be 10..3600"),
        (lambda: ViberButton("ftp://x", "Go"), "http"),
        (lambda: ViberButton("https://x.ru/a,b", "Go"), "','"),
        (lambda: ViberButton("https://x.ru", "x" * 21), "1 to 20"),
        (lambda: SendOptions(captcha_code="1234"), "needs user_ip"),
        (lambda: SendOptions(user_ip="300.1.1.1"), "IP address"),
        (lambda: SendOptions(file_url="banner.png"), "http"),
        (lambda: SendOptions(partner_id=0), "positive"),
        (lambda: SendOptions(reverify_days=5), "10..999"),
    ],
)
def test_bad_values_fail_at_construction(build: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"options": SendOptions(call=CallSettings())}, "options.call is not allowed for a sms"),
        (
            {"options": SendOptions(viber_button=ViberButton("https://a.ru", "A"))},
            "viber_button is not allowed",
        ),
        ({"options": SendOptions(reverify_days=30)}, "reverify_days is not allowed"),
        ({"options": SendOptions(file_url="https://a.ru/f.png")}, "file_url is not allowed"),
    ],
)
def test_options_the_kind_does_not_take_are_refused(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Message(to=PHONE, text="x", **fields)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("tz", "aware datetime"),
        ("period", "Spread"),
        ("freq", "Spread"),
        ("imgcode", "captcha_code"),
        ("userip", "user_ip"),
        ("fileurl", "file_url"),
        ("err", "report_failed"),
        ("pp", "partner_id"),
        ("param", "CallSettings"),
        ("smsreq", "reverify_days"),
    ],
)
def test_extra_names_the_typed_option_to_use(key: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as caught:
        Message(to=PHONE, text="x", extra={key: "1"})
    assert "have their own Message fields" not in str(caught.value)


def test_an_aware_send_at_is_the_tz_answer() -> None:
    when = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    got = form(Message(to=PHONE, text="x", send_at=when))
    assert got["time"] == f"0{int(when.timestamp())}"
    assert "tz" not in got


def test_smpp_and_smtp_refuse_http_only_options() -> None:
    message = Message(to=PHONE, text="x", options=SendOptions(user_ip="203.0.113.7"))
    with pytest.raises(ValueError, match=r"HTTP-only options \(user_ip\) cannot travel over SMPP"):
        build_submit_sm(message, PHONE)
    with pytest.raises(ValueError, match="options cannot be sent over SMTP"):
        smtp_body(Credentials("acme", "pw"), message)


async def test_the_simulator_takes_and_checks_the_options(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    options = SendOptions(
        spread=Spread(timedelta(hours=1), timedelta(minutes=10)),
        captcha_code="1234",
        user_ip="203.0.113.7",
        partner_id=7,
    )
    result = await client.send(Message(to=PHONE, text="hello", options=options))
    assert result.message_id
    (record,) = sim.iter_records("send")
    assert (record.form["period"], record.form["freq"], record.form["userip"]) == (
        "1",
        "10",
        "203.0.113.7",
    )
    # A wrong captcha code is error 10 (the provider's "Various" page).
    wrong = SendOptions(captcha_code="9999", user_ip="203.0.113.7")
    with pytest.raises(VerificationCodeError):
        await client.send(Message(to=PHONE, text="hello again", options=wrong))
    call = Message(
        to=PHONE,
        text="code 1 2 3",
        kind=MessageKind.CALL,
        options=SendOptions(call=CallSettings(wait_seconds=35, retry_seconds=3600, attempts=9)),
    )
    await client.send(call)
    assert sim.sent[-1].type == 7


async def test_the_simulator_refuses_out_of_range_values(sim: SMSCSimulator) -> None:
    # What a client without typed options could send: the provider answers error 1.
    async with HTTPClient(sim.credentials, base_url=sim.base_url) as api:
        for extra in ({"period": "0.01"}, {"freq": "5"}, {"param": "5,10,1"}):
            request = proto.Request(
                command="send",
                action="send",
                params=(("phones", PHONE), ("mes", "x"), *extra.items()),
            )
            with pytest.raises(ParameterError):
                await api._call(request)


async def test_report_failed_lists_refused_numbers(client: HTTPClient) -> None:
    message = Message(to=[PHONE, "79990000002"], text="x", options=SendOptions(report_failed=True))
    result = await client.send(message)
    assert result.recipients == ()  # none refused


async def test_captcha_url_serves_an_image(sim: SMSCSimulator, client: HTTPClient) -> None:
    url = client.captcha_url()
    assert url.startswith(f"{sim.base_url}/sys/imgcode.php?")
    assert url != client.captcha_url()  # a fresh query each time: no cached image
    async with httpx.AsyncClient() as browser:
        image = await browser.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/gif"
    assert image.content.startswith(b"GIF89a")
