"""An SMSC whose receipts race its answers, on a real socket: a :class:`FakeSMSC` that writes a
message's delivery receipt *before* its submit_sm_resp (SMPP 3.4 does not order a deliver_sm
after the response of the submit it reports on; busy SMSCs do overtake), optionally twice, and
can send receipts for ids it has not given out yet (as a receipt for another process's send
would look to this one)."""

from __future__ import annotations

from typing import Any

from _fake_smsc import FakeSMSC, Peer, receipt

from smscenter.smpp.constants import CommandId, CommandStatus
from smscenter.smpp.events import ResponseReceived, SubmitSmReceived


class EarlyReceiptSMSC(FakeSMSC):
    """:ivar duplicates: write each receipt this many times (the same text: a repeat).
    :ivar receipts_acked: deliver_sm answered ESME_ROK."""

    def __init__(self, *, duplicates: int = 1) -> None:
        super().__init__()
        self.duplicates = duplicates
        self.receipts_acked = 0
        #: Ids given out by receipt_ahead, for the next submits.
        self.reserved: list[str] = []

    def _on_event(self, peer: Peer, event: Any) -> bool:
        if isinstance(event, SubmitSmReceived):
            pdu = event.pdu
            self.submit_count += 1
            self.submits.append(pdu)
            if self.reserved:  # its receipt came already (receipt_ahead)
                peer.conn.respond(pdu, message_id=self.reserved.pop(0))
                return False
            message_id = self.next_id()
            for _ in range(self.duplicates):
                peer.conn.send(receipt(message_id, phone=pdu.destination_addr))
            # The answer goes after the receipt, in the same write.
            peer.conn.respond(pdu, message_id=message_id)
            return False
        if (
            isinstance(event, ResponseReceived)
            and event.request_command_id == CommandId.DELIVER_SM
            and event.command_status == CommandStatus.ESME_ROK
        ):
            self.receipts_acked += 1
        return super()._on_event(peer, event)

    async def receipt_ahead(self) -> str:
        """Deliver a receipt for the id the *next* submit will get, now; return that id."""
        message_id = self.next_id()
        self.reserved.append(message_id)
        await self.live_peers[0].deliver(receipt(message_id))
        return message_id
