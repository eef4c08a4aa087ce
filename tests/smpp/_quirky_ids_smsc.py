"""A quirky SMSC for the message-id tests: the fake SMSC of ``_fake_smsc`` (real sockets on
127.0.0.1) whose ``submit_sm_resp`` ids come in a chosen style (decimal, lower/upper-case hex,
zero-padded, up to 64 characters) and which answers every accepted ``submit_sm`` with an
immediate delivery receipt, written the way some real SMSCs write them: with or without the
``receipted_message_id`` TLV, the TLV and the text's ``id:`` each in a style of their own (the
text possibly in the *other* base than ``submit_sm_resp``).

Styles are functions ``number -> str``: see :data:`STYLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _fake_smsc import FakeSMSC, Peer

from smscenter.smpp.events import SubmitSmReceived
from smscenter.smpp.pdu import DeliverSm

IdStyle = Callable[[int], str]

STYLES: dict[str, IdStyle] = {
    "decimal": str,
    "decimal-padded": lambda n: f"{n:016d}",
    "hex-lower": lambda n: format(n, "x"),
    "hex-upper": lambda n: format(n, "X"),
    "hex-lower-padded": lambda n: format(n, "010x"),
    "hex-upper-padded": lambda n: format(n, "010X"),
    # 64 characters: the longest id SMPP 3.4 §4.4.2 allows (65 octets with the NUL).
    "hex-long": lambda n: format(n, "064x"),
    "decimal-long": lambda n: f"{n:064d}",
}


class QuirkyIdSMSC(FakeSMSC):
    """The fake SMSC with id quirks (plain attributes, change them any time):

    - ``resp``: the style of ``submit_sm_resp.message_id``;
    - ``tlv``: the style of the receipt's ``receipted_message_id`` TLV (None: no TLV);
    - ``text``: the style of the receipt text's ``id:``;
    - ``tlv_for``: f(n) -> bool, which receipts (0-based count) carry the TLV at all;
    - ``receipts``: False to send no receipts.

    ``numbers`` maps each ``submit_sm_resp`` id as written to the number behind it.
    """

    def __init__(self, *, first: int = 0xA01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resp: IdStyle = str
        self.tlv: IdStyle | None = None
        self.text: IdStyle = str
        self.tlv_for: Callable[[int], bool] = lambda n: True
        self.receipts = True
        self.numbers: dict[str, int] = {}
        self._number = first
        self._receipt_count = 0

    def next_id(self) -> str:
        number = self._number
        self._number += 1
        wire = self.resp(number)
        self.numbers[wire] = number
        self.last_number = number
        return wire

    def _on_event(self, peer: Peer, event: Any) -> bool:
        accepted = len(self.submits)
        drop = super()._on_event(peer, event)
        if (
            isinstance(event, SubmitSmReceived)
            and self.receipts
            and not self.hold
            and len(self.submits) > accepted
        ):
            self._receipt(peer, event.pdu.destination_addr, event.pdu.source_addr)
        return drop

    def _receipt(self, peer: Peer, recipient: str, sender: str) -> None:
        # Queued right behind the submit_sm_resp: both go out in the same write.
        number = self.last_number
        n, self._receipt_count = self._receipt_count, self._receipt_count + 1
        tlvs: tuple[tuple[int, bytes], ...] = ((0x0427, b"\x02"),)  # message_state DELIVERED
        if self.tlv is not None and self.tlv_for(n):
            tlvs = ((0x001E, self.tlv(number).encode() + b"\0"), *tlvs)
        text = (
            f"id:{self.text(number)} sub:001 dlvrd:001 submit date:2601011200 "
            "done date:2601011201 stat:DELIVRD err:000"
        )
        peer.conn.send(
            DeliverSm(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=recipient,
                destination_addr=sender,
                esm_class=0x04,
                short_message=text.encode(),
                tlvs=tlvs,
            )
        )
