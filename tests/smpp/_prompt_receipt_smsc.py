"""An SMSC that delivers each receipt at once, on a real socket: a :class:`FakeSMSC` that
writes a message's submit_sm_resp and, right behind it in the same write, its delivery receipt
(as a fast SMSC does for a message that is delivered, or refused by the network, at once)."""

from __future__ import annotations

from typing import Any

from _fake_smsc import FakeSMSC, Peer, receipt

from smscenter.smpp.events import SubmitSmReceived


class PromptReceiptSMSC(FakeSMSC):
    """Answers every submit_sm, then sends its receipt in the same write."""

    def _on_event(self, peer: Peer, event: Any) -> bool:
        if isinstance(event, SubmitSmReceived):
            pdu = event.pdu
            self.submit_count += 1
            self.submits.append(pdu)
            message_id = self.next_id()
            peer.conn.respond(pdu, message_id=message_id)
            peer.conn.send(receipt(message_id, phone=pdu.destination_addr))
            return False
        return super()._on_event(peer, event)
