"""The pure SMPP core keeps no module-level caches: what one connection decodes or reads never
changes what another gets (caches belong to objects: the framer, the receipt reader)."""

from __future__ import annotations

import importlib
from types import ModuleType

from smscenter.smpp.constants import Tag
from smscenter.smpp.framer import PduFramer
from smscenter.smpp.incoming import incoming_from_deliver_sm
from smscenter.smpp.pdu import DeliverSm, decode_pdu
from smscenter.smpp.receipts import ReceiptReader, parse_receipt_text, report_from_deliver_sm
from smscenter.smpp.tlv import Tlv

CORE = (
    "smscenter._cache",
    "smscenter._fastinit",
    "smscenter.smpp._codec",
    "smscenter.smpp._multi",
    "smscenter.smpp._pdu_base",
    "smscenter.smpp._pdu_link",
    "smscenter.smpp._pdu_message",
    "smscenter.smpp.events",
    "smscenter.smpp.framer",
    "smscenter.smpp.incoming",
    "smscenter.smpp.pdu",
    "smscenter.smpp.receipts",
    "smscenter.smpp.tlv",
)


def _containers(modules: list[ModuleType]) -> dict[str, int]:
    sizes = {}
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, dict | list | set | bytearray) and not name.startswith("__"):
                sizes[f"{module.__name__}.{name}"] = len(value)
    return sizes


def test_decoding_and_reading_grow_no_module_state() -> None:
    modules = [importlib.import_module(name) for name in CORE]
    before = _containers(modules)
    framer, reader = PduFramer(), ReceiptReader()
    for n in range(300):
        text = (
            f"id:{n} sub:001 dlvrd:001 submit date:11082022{n % 60:02d} "
            f"done date:1108202241 stat:DELIVRD err:{n % 7:03d} text:code {n}"
        )
        pdu = DeliverSm(
            sequence_number=n + 1,
            source_addr=f"7999{n:07d}",
            esm_class=0x04,
            short_message=text.encode("latin-1"),
            tlvs=(
                Tlv.of(Tag.RECEIPTED_MESSAGE_ID, str(n)),
                Tlv.of(Tag.COST, f"{n}.5"),
                Tlv.of(Tag.FLAG, n % 16),
            ),
        )
        framer.feed(pdu.encode())
        decoded = framer.next_pdu()
        assert isinstance(decoded, DeliverSm)
        assert decode_pdu(pdu.encode()) == decoded
        assert reader.report(decoded) == report_from_deliver_sm(decoded)
        parse_receipt_text(text)
        incoming_from_deliver_sm(DeliverSm(short_message=f"hi {n}".encode()))
    assert _containers(modules) == before
