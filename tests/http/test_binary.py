"""Binary messages over HTTP arrive byte for byte: every one of the 256 byte values.

The simulator is a real local HTTP server; it keeps the bytes it decoded from the request
(``SentMessage.payload``), so these tests assert what the server received, not what we meant.
"""

from __future__ import annotations

import httpx
import pytest

from smscenter import HTTPClient, Message, MessageKind
from smscenter.http import _protocol as proto
from smscenter.models import MessageType
from smscenter.testing.simulator import SMSCSimulator

PHONE = "79991234567"
ALL_BYTES = bytes(range(256))


async def test_all_256_byte_values_arrive_unchanged(sim: SMSCSimulator, client: HTTPClient) -> None:
    # BINARY: one character per byte. The old client sent these with bin=1 as UTF-8 text, so
    # every byte >= 0x80 arrived as two bytes (0xFF as C3 BF).
    message = Message(to=PHONE, text=ALL_BYTES.decode("latin-1"), kind=MessageKind.BINARY)
    result = await client.send(message)
    (record,) = sim.iter_records("send")
    assert record.form["bin"] == "2"
    assert record.form["mes"] == ALL_BYTES.hex().upper()
    (stored,) = sim.sent
    assert stored.payload == ALL_BYTES
    assert stored.type == MessageType.BINARY
    report = await client.status(result.message_id, PHONE, detail=1)
    assert report.message_type is MessageType.BINARY


async def test_message_binary_helper_sends_the_same_bytes(
    sim: SMSCSimulator, client: HTTPClient
) -> None:
    await client.send(Message.binary(PHONE, ALL_BYTES))
    await client.send(Message(to=PHONE, text="\x00\x80\xff", kind=MessageKind.BINARY))
    first, second = sim.sent
    assert first.payload == ALL_BYTES
    assert second.payload == b"\x00\x80\xff"


async def test_binary_list_and_cost(sim: SMSCSimulator, client: HTTPClient) -> None:
    payloads = [b"\xff\xfe", bytes(range(0x80, 0x90))]
    messages = [
        Message(to=f"7999000000{i}", text=p.decode("latin-1"), kind=MessageKind.BINARY)
        for i, p in enumerate(payloads, start=1)
    ]
    quote = await client.cost_list(messages)
    assert quote.parts == 2
    (record,) = sim.iter_records("send")
    assert record.form["list"] == "79990000001:FFFE\n79990000002:" + payloads[1].hex().upper()


def test_a_binary_text_beyond_one_byte_per_character_is_refused() -> None:
    with pytest.raises(ValueError, match="one byte per character"):
        Message(to=PHONE, text="\u0100", kind=MessageKind.BINARY)


def test_binary_comment_stays_outside_the_hex() -> None:
    message = Message(to=PHONE, text="\xff", kind=MessageKind.BINARY, comment="batch 7")
    assert proto.wire_text(message) == "FF\n~~~\nbatch 7"


async def test_simulator_keeps_the_raw_bytes_of_bin_1(sim: SMSCSimulator) -> None:
    # The provider's bin=1 carries urlencoded bytes, not text in the declared charset: the
    # simulator must not decode them (a raw %FF stays the one byte 0xFF).
    password = sim.credentials.password
    form = f"login={sim.login}&psw={password}&fmt=3&charset=utf-8&phones={PHONE}"
    form += "&bin=1&mes=%00%80%FF"
    async with httpx.AsyncClient() as raw_client:
        answer = await raw_client.post(
            f"{sim.base_url}/sys/send.php",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert "id" in answer.json()
    (stored,) = sim.sent
    assert stored.payload == b"\x00\x80\xff"


async def test_simulator_refuses_bad_hex(sim: SMSCSimulator) -> None:
    form = {"phones": PHONE, "bin": "2", "mes": "0G"}
    async with httpx.AsyncClient() as raw_client:
        answer = await raw_client.post(
            f"{sim.base_url}/sys/send.php",
            data={**form, "login": sim.login, "psw": sim.credentials.password or "", "fmt": "3"},
        )
    assert answer.json()["error_code"] == 1
    assert sim.sent == []
