"""A quirky SMSC whose delivery receipts are odd in the ways real SMSCs are: the
``receipted_message_id`` TLV last, behind ``message_state`` and a vendor TLV whose value has
octets over 0x7F (SMPP 3.4 §5.3.2 allows any tag; values stay raw bytes); receipt texts with
Latin-1 letters in the excerpt, without an ``id:`` field, in data_coding 3 (Latin-1) or 8
(UCS-2). Real sockets on 127.0.0.1 (the fake SMSC of ``_fake_smsc``)."""

from __future__ import annotations

from _fake_smsc import Peer
from _quirky_ids_smsc import QuirkyIdSMSC

from smscenter.smpp.pdu import DeliverSm

#: The receipt kinds, in turn: the n-th receipt is of kind ``n % len(KINDS)``.
KINDS = ("latin-1 excerpt", "no id in the text", "data_coding 3", "ucs-2")
EXCERPT = "caf\xe9 \xbd"  # "café ½": Latin-1, not ASCII
_DATES = "submit date:2601011200 done date:2601011201"


class OddReceiptSMSC(QuirkyIdSMSC):
    """Receipts of every kind in :data:`KINDS`, in turn; ``kinds`` records what each
    recipient's receipt was."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[str, str] = {}

    def _receipt(self, peer: Peer, recipient: str, sender: str) -> None:
        wire = self.resp(self.last_number)
        n, self._receipt_count = self._receipt_count, self._receipt_count + 1
        kind = self.kinds[recipient] = KINDS[n % len(KINDS)]
        tail = f"sub:001 dlvrd:001 {_DATES} stat:DELIVRD err:000"
        text = f"id:{wire} {tail}"
        coding, encoding = 0, "latin-1"
        if kind == "latin-1 excerpt":
            text += f" text:{EXCERPT}"
        elif kind == "no id in the text":
            text = tail
        elif kind == "data_coding 3":
            coding = 3
        else:
            coding, encoding = 8, "utf-16-be"
        peer.conn.send(
            DeliverSm(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=recipient,
                destination_addr=sender,
                esm_class=0x04,
                data_coding=coding,
                short_message=text.encode(encoding),
                tlvs=(
                    (0x0427, b"\x02"),  # message_state DELIVERED
                    (0x2005, b"\x80\xff\x00"),  # a vendor's tag, not the provider's
                    (0x001E, wire.encode() + b"\0"),
                ),
            )
        )
