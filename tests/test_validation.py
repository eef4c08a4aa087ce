"""Input validation: errors in the error tree, ASCII digits only, duplicates after normalising,
a read_ahead that cannot hang send_many."""

from __future__ import annotations

import anyio
import pytest

from smscenter import (
    Credentials,
    Limits,
    Message,
    MessageKind,
    SMPPPool,
    SMSCenterError,
    Timeouts,
    ValidationError,
)
from smscenter.config import SMPPOptions
from smscenter.testing import SMSCSimulator

# "79991234567" written in other scripts' digits: all are Unicode category Nd.
ARABIC_INDIC = "٧٩٩٩١٢٣٤٥٦٧"
FULLWIDTH = "７９９９１２３４５６７"
DEVANAGARI = "७९९९१२३४५६७"


def test_validation_error_is_in_the_tree_and_a_value_error() -> None:
    with pytest.raises(SMSCenterError) as info:
        Message(to="not a phone", text="hi")
    assert isinstance(info.value, ValidationError)
    assert isinstance(info.value, ValueError)  # code written for ValueError keeps working
    with pytest.raises(ValidationError):
        Credentials("acme", "")
    with pytest.raises(ValidationError):
        Timeouts(-1)


@pytest.mark.parametrize(
    "to",
    [
        ["+79991234567", "7 999 123-45-67"],
        ["79991234567", "+7 (999) 123-45-67"],
        "+79991234567, 79991234567",
    ],
)
def test_the_same_phone_written_two_ways_is_a_duplicate(to: object) -> None:
    with pytest.raises(ValidationError, match="twice"):
        Message(to=to, text="hi")  # type: ignore[arg-type]


def test_different_phones_still_pass() -> None:
    assert Message(to=["+79991234567", "7 999 123-45-68"], text="hi").to == (
        "+79991234567",
        "79991234568",
    )


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH, DEVANAGARI])
def test_non_ascii_digits_are_refused(digits: str) -> None:
    for phone in (digits, "+" + digits):
        with pytest.raises(ValidationError, match="phone"):
            Message(to=phone, text="hi")  # the one-recipient fast path
        with pytest.raises(ValidationError, match="phone"):
            Message(to=[phone, "+79990000000"], text="hi")
    with pytest.raises(ValidationError, match="sender"):
        Message(to="+79991234567", text="hi", sender=digits[:5])
    with pytest.raises(ValidationError):
        Message(to="+79991234567", text=digits[:6], kind=MessageKind.TELEGRAM)


def test_ascii_numeric_sender_still_passes() -> None:
    assert Message(to="+79991234567", text="hi", sender="79991234567").sender == "79991234567"


@pytest.mark.parametrize("read_ahead", [-1, 0, True])
async def test_bad_read_ahead_is_refused_not_a_hang(read_ahead: int) -> None:
    with pytest.raises(ValidationError, match="read_ahead"):
        SMPPPool(
            "127.0.0.1",
            1,
            Credentials("acme", "secret"),
            options=SMPPOptions(read_ahead=read_ahead),
        )
    async with SMSCSimulator() as sim:
        pool = SMPPPool(
            sim.smpp_host, sim.smpp_port, sim.smpp_credentials, limits=Limits(max_rate=None)
        )
        async with pool:
            with anyio.fail_after(5), pytest.raises(ValidationError, match="read_ahead"):
                async for _ in pool.send_many(
                    [Message(to="+79991234567", text="hi")], read_ahead=read_ahead
                ):
                    pass  # pragma: no cover - refused before the first message
        assert sim.sent == []


async def test_messages_a_channel_cannot_carry_are_validation_errors() -> None:
    """Refused before anything is sent, and catchable as SMSCenterError, on every channel."""
    from datetime import timedelta

    from smscenter.smtp import smtp_body

    with pytest.raises(ValidationError, match="SMTP"):
        smtp_body(
            Credentials("acme", "secret"),
            Message(to="+79991234567", text="hi", validity=timedelta(minutes=5)),
        )
    async with SMSCSimulator() as sim:
        pool = SMPPPool(
            sim.smpp_host, sim.smpp_port, sim.smpp_credentials, limits=Limits(max_rate=None)
        )
        async with pool:
            with pytest.raises(SMSCenterError, match="SMPP") as info:
                await pool.send(Message(to="+79991234567", text="hi", translit=True))
        assert isinstance(info.value, ValidationError)
        assert sim.sent == []


def test_webhook_arguments_are_validation_errors() -> None:
    from smscenter.webhook import RecentEvents, verify_signature

    with pytest.raises(ValidationError, match="secret"):
        verify_signature({"md5": "x"}, "not a valid secret!")
    with pytest.raises(ValidationError, match="max_size"):
        RecentEvents(max_size=0)
