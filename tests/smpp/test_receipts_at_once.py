"""An SMSC that reports at once: each submit_sm_resp is followed by its receipt in the same
write (resp, receipt, resp, receipt...), on a real socket. Every receipt reaches the
application matched to its send, and its deliver_sm_resp comes back only after the
application took it, the answers of many receipts in one write."""

from __future__ import annotations

import anyio
import anyio.abc

from smscenter import Credentials, Limits, Message, SMPPPool
from smscenter.smpp.connection import SMSC, SMPPConnection
from smscenter.smpp.constants import CommandId
from smscenter.smpp.events import BindRequested, ResponseReceived, SubmitSmReceived
from smscenter.smpp.pdu import DeliverSm
from smscenter.smpp.tlv import Tlv

COUNT = 300


class ReportingSMSC:
    """Answers binds and submits; each submit's receipt goes out in the same write as its
    answer. Records which receipts were answered, and how many reads brought answers."""

    def __init__(self) -> None:
        self.port = 0
        self.taken: set[str] = set()  # ids of reports the application took (the test fills it)
        self.answered: list[str] = []
        self.early: list[str] = []  # answered before the application took them
        self.reads_with_answers = 0
        self.all_answered = anyio.Event()
        self._receipt_ids: dict[int, str] = {}
        self._next_id = 1_000_000

    async def serve(self, stream: anyio.abc.ByteStream) -> None:
        conn = SMPPConnection(SMSC, window=100_000)
        async with stream:
            while True:
                try:
                    data = await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                answers = 0
                for event in conn.receive_data(data):
                    if isinstance(event, BindRequested):
                        conn.accept_bind(event.pdu, system_id="SMSC")
                    elif isinstance(event, SubmitSmReceived):
                        self._next_id += 1
                        mid = str(self._next_id)
                        conn.respond(event.pdu, message_id=mid)
                        text = f"id:{mid} sub:001 dlvrd:001 stat:DELIVRD err:000".encode()
                        seq = conn.send(
                            DeliverSm(
                                source_addr=event.pdu.destination_addr,
                                esm_class=0x04,
                                short_message=text,
                                tlvs=(Tlv(0x001E, mid.encode() + b"\0"), Tlv(0x0427, b"\x02")),
                            )
                        )
                        self._receipt_ids[seq] = mid
                    elif isinstance(event, ResponseReceived) and (
                        event.pdu.command_id == CommandId.DELIVER_SM_RESP
                    ):
                        mid = self._receipt_ids.pop(event.request_seq)
                        answers += 1
                        self.answered.append(mid)
                        if mid not in self.taken:
                            self.early.append(mid)
                self.reads_with_answers += answers > 0
                if len(self.answered) == COUNT:
                    self.all_answered.set()
                out = conn.data_to_send()
                if out:
                    await stream.send(out)


async def test_receipts_right_behind_their_answers_are_all_read_and_answered_in_batches() -> None:
    smsc = ReportingSMSC()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    smsc.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    sent: set[str] = set()
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, smsc.serve)
        async with SMPPPool(
            "127.0.0.1",
            smsc.port,
            Credentials(login="acme", password="pw"),
            limits=Limits(max_rate=None, window=50),
        ) as pool:

            async def read_reports() -> None:
                async with pool.reports() as stream:
                    async for report in stream:
                        assert report.message_id in sent or len(sent) < COUNT
                        smsc.taken.add(report.message_id)
                        if len(smsc.taken) == COUNT:
                            return

            async with anyio.create_task_group() as inner:
                inner.start_soon(read_reports)
                messages = (
                    Message(to=f"7999{n:07d}", text=f"code {n}", report=True) for n in range(COUNT)
                )
                async for outcome in pool.send_many(messages):
                    assert outcome.result is not None
                    sent.add(outcome.result.message_id)
            with anyio.fail_after(5):
                await smsc.all_answered.wait()
        tg.cancel_scope.cancel()
    assert smsc.taken == sent and len(sent) == COUNT
    assert sorted(smsc.answered) == sorted(sent) and smsc.early == []
    # The answers of the receipts taken meanwhile travel together, not one write each.
    assert smsc.reads_with_answers < COUNT // 5
