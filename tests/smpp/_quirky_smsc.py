"""Quirky SMSCs seen in the field, on a real socket: a :class:`FakeSMSC` whose answers to
submit_sm look like success but are no acceptance with an id under SMPP 3.4."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _fake_smsc import FakeSMSC, Peer

from smscenter.smpp.events import SubmitSmReceived
from smscenter.smpp.pdu import GenericNack


class QuirkySMSC(FakeSMSC):
    """Answers the submits ``quirky(n)`` picks (``n`` counts submits from 0) with ``answer``:

    - ``"nack0"``: a generic_nack with command_status 0 (a negative answer that says "OK");
    - ``"empty_id"``: a submit_sm_resp with ESME_ROK and an empty message_id.

    Every other submit gets FakeSMSC's usual answer with an id.
    """

    def __init__(self, answer: str, quirky: Callable[[int], bool] = lambda n: True) -> None:
        super().__init__()
        if answer not in ("nack0", "empty_id"):
            raise ValueError(answer)
        self.answer = answer
        self.quirky = quirky
        self.quirky_answers = 0

    def _on_event(self, peer: Peer, event: Any) -> bool:
        if isinstance(event, SubmitSmReceived) and self.quirky(self.submit_count):
            self.submit_count += 1
            self.quirky_answers += 1
            pdu = event.pdu
            if self.answer == "nack0":
                peer.conn.send_response(GenericNack(sequence_number=pdu.sequence_number))
            else:
                peer.conn.respond(pdu, message_id="")
            return False
        return super()._on_event(peer, event)
