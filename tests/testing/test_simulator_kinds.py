"""The simulator keeps what kind of message it was sent: Telegram codes and chat-bot messages
are not "social network" messages, binary is not a plain SMS, over HTTP and over SMPP."""

from __future__ import annotations

import pytest

from smscenter import HTTPClient, Message, MessageKind, SMPPPool
from smscenter.models import MessageType
from smscenter.testing import SMSCSimulator

PHONE = "79991234567"


@pytest.mark.parametrize(
    ("message", "kind", "reported"),
    [
        (Message(to=PHONE, text="1234", kind=MessageKind.TELEGRAM), "telegram", None),
        (Message(to=PHONE, text="hi", kind=MessageKind.BOT, bot="@acme_bot"), "bot", None),
        (Message(to=PHONE, text="hi", kind=MessageKind.SOCIAL), "social", MessageType.SOCIAL),
        (Message.binary(PHONE, b"\x01\xff"), "binary", MessageType.BINARY),
        (Message(to=PHONE, text="\x00\xff", kind=MessageKind.BINARY), "binary", MessageType.BINARY),
        (Message(to=PHONE, text="hi", kind=MessageKind.FLASH), "flash", MessageType.FLASH),
    ],
)
async def test_http_sends_keep_their_kind(
    message: Message, kind: str, reported: MessageType | None
) -> None:
    async with SMSCSimulator() as sim:
        async with HTTPClient(sim.credentials, base_url=sim.base_url) as api:
            result = await api.send(message)
            sim.advance(60)
            report = await api.status(result.message_id, PHONE, detail=1)
        (stored,) = sim.sent
        assert stored.kind == kind
        # Telegram and bot have no type number in the provider's list: the answer carries none
        # rather than calling them "social".
        assert report.message_type is reported
        if reported is None:
            assert report.flags is None


async def test_smpp_telegram_and_bot_keep_their_kind() -> None:
    async with SMSCSimulator() as sim:
        async with SMPPPool(sim.smpp_host, sim.smpp_port, sim.smpp_credentials) as pool:
            await pool.send(Message(to=PHONE, text="5678", kind=MessageKind.TELEGRAM))
            await pool.send(
                Message(to="79990000002", text="yo", kind=MessageKind.BOT, bot="@b_bot")
            )
        telegram, bot = sim.sent
        assert (telegram.kind, bot.kind) == ("telegram", "bot")
        assert telegram.reported_type is None and bot.reported_type is None
        async with HTTPClient(sim.credentials, base_url=sim.base_url) as api:
            report = await api.status(str(telegram.id), PHONE, detail=1)
        assert report.message_type is None
