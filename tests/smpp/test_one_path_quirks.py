"""One send path against an SMSC with quirks in how it answers (a real socket): a long message
and single ones written together, answered out of order in one write, some acceptances with
TLVs (decoded in full, not by the framer's scan), a refusal among them, a query in between.
Every message still ends with its own ids or its own error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from _fake_smsc import FakeSMSC

from smscenter import Credentials, Limits, Message, SMPPPool, Timeouts
from smscenter.exceptions import APIError
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.smpp.constants import CommandStatus
from smscenter.smpp.pdu import SubmitSmResp
from smscenter.smpp.tlv import Tlv


@pytest.fixture
async def smsc() -> AsyncIterator[FakeSMSC]:
    async with FakeSMSC() as server:
        yield server


async def test_answers_in_any_order_and_shape_settle_the_right_messages(smsc: FakeSMSC) -> None:
    smsc.hold = True
    long_text = "x" * 300  # GSM 7-bit: 2 parts
    texts = ["one", long_text, "three", "four"]
    async with SMPPPool(
        "127.0.0.1",
        smsc.port,
        Credentials("acme", "secret"),
        limits=Limits(max_rate=None),
        reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
        timeouts=Timeouts(5),
    ) as pool:
        outcomes = []

        async def send() -> None:
            messages = [Message(to=f"+7999000000{i}", text=t) for i, t in enumerate(texts)]
            outcomes.extend([o async for o in pool.send_many(messages)])

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(send)
                while len(smsc.submits) < 5:  # noqa: ASYNC110 - bounded poll of the server
                    await anyio.sleep(0.002)
                (peer,) = smsc.live_peers
                held = {pdu.destination_addr[-1]: [] for pdu in peer.held}
                for pdu in peer.held:
                    held[pdu.destination_addr[-1]].append(pdu.sequence_number)
                peer.held.clear()
                (one,), (part1, part2), (three,), (four,) = (held[k] for k in "0123")
                tlv = (Tlv(0x1403, b"x"),)  # a TLV the provider does not send: still an id
                answers = [
                    SubmitSmResp(sequence_number=four, message_id="id-4", tlvs=tlv),
                    SubmitSmResp(sequence_number=part2, message_id="id-L2"),
                    SubmitSmResp(
                        sequence_number=three, command_status=CommandStatus.ESME_RINVDSTADR
                    ),
                    SubmitSmResp(sequence_number=one, message_id="id-1"),
                    SubmitSmResp(sequence_number=part1, message_id="id-L1", tlvs=tlv),
                ]
                await peer.stream.send(b"".join(pdu.encode() for pdu in answers))
                query = await pool.query("id-1")  # another request kind on the same path
        stats = pool.statistics()
    assert query.message_id == "id-1"
    by_index = {o.index: o for o in outcomes}
    assert by_index[0].result is not None and by_index[0].result.part_ids == ("id-1",)
    assert by_index[1].result is not None and by_index[1].result.part_ids == ("id-L1", "id-L2")
    assert isinstance(by_index[2].error, APIError)
    assert by_index[2].error.code == CommandStatus.ESME_RINVDSTADR
    assert by_index[3].result is not None and by_index[3].result.message_id == "id-4"
    assert (stats.submitted, stats.acknowledged, stats.rejected) == (5, 4, 1)
