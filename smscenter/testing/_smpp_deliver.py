"""The simulator's SMPP deliveries: receipts, incoming messages and their queue (a base class of
the server).

:class:`DeliveryHandling` turns the shared state's status changes into delivery receipts
(deliver_sm with the standard TLVs, the provider's 0x2000-0x2004 and the ``id:.. sub:..``
text, only to binds that receive and only when registered_delivery asks; the HLR layout) and its
incoming messages into deliver_sm (split and concatenated when long), queues them per login and
hands them round robin to the login's receiving binds within their windows; one never answered
goes back to the queue, so nothing is lost (https://smscentre.com/api/smpp/).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from smscenter._provider import MOSCOW
from smscenter.models import DeliveryError, DeliveryReport, MessageStatus
from smscenter.smpp.constants import CommandStatus, Tag
from smscenter.smpp.pdu import DeliverSm, SubmitSm
from smscenter.smpp.receipts import render_receipt_text
from smscenter.smpp.text import (
    choose_encoding,
    concat_udh,
    encode_text,
    split_encoded,
)
from smscenter.smpp.tlv import Tlv
from smscenter.testing import _state as st
from smscenter.testing._smpp_knobs import SMPPBehaviour, SMPPCounters
from smscenter.testing._smpp_session import _Delivery, _Origin
from smscenter.testing._state import (
    IncomingRecord,
    SentMessage,
    SimulatorState,
    StatusChange,
    lookup_operator,
)

if TYPE_CHECKING:
    from smscenter.testing._smpp_session import _Session

__all__ = ("DeliveryHandling",)

S = CommandStatus

# esm_class (SMPP 3.4 §5.2.12): 0x04 delivery receipt, 0x40 short_message starts with a UDH.
_ESM_RECEIPT = 0x04
_ESM_UDHI = 0x40
# message_state DELIVERED, network_error_code GSM/0, flag 0 (SMS), parts 1, no extra status.
_DELIVERED_TLVS: tuple[tuple[int, bytes], ...] = (
    (0x0427, b"\x02"),
    (0x0423, b"\x03\x00\x00"),
    (0x2001, b"\x00\x00"),
    (0x2002, b"\x00\x01"),
    (0x2004, b"\x00\x00"),
)


class DeliveryHandling:
    """Receipts and incoming messages as deliver_sm, queued per login and pumped to its binds."""

    if TYPE_CHECKING:
        state: SimulatorState
        counters: SMPPCounters
        _sessions: set[_Session]
        _pending: dict[str, deque[_Delivery]]
        _rr: int
        _batching: bool
        _dirty: set[str]
        _stamp: tuple[int, str]
        _cost_tlvs: dict[Decimal, tuple[int, bytes]]
        _mo_ref: int

        @property
        def behaviour(self) -> SMPPBehaviour: ...

    def _on_status(self, change: StatusChange) -> None:
        message = change.message
        origin = message.origin
        if not isinstance(origin, _Origin) or origin.server is not self:
            return
        behaviour = self.behaviour
        if not (behaviour.receipts and message.receipt_requested):
            # smscentre.com/api/smpp: without registered_delivery the status goes to HTTP only.
            return
        # Several changes may be applied by one poll: read the one this call is about, not the
        # message's latest status.
        new = change.new_status
        final = new in st.FINAL_STATUSES
        if not final and not (behaviour.intermediate_receipts and new == st.ST_TRANSMITTED):
            return
        status = MessageStatus.from_code(new)
        if origin.registered_delivery & 0x03 == 2 and not status.is_failure:
            return  # receipt on failure only (SMPP 3.4 §5.2.17)
        snapshot = (new, message.err if final else 0, change.at)
        self._queue(
            message.login,
            _Delivery(lambda _session: [self._receipt_pdu(message, *snapshot)], incoming=False),
        )

    def _receipt_pdu(
        self, message: SentMessage, status_code: int, err: int, at: float
    ) -> DeliverSm:
        status = MessageStatus.from_code(status_code)
        origin = message.origin
        assert isinstance(origin, _Origin)
        parts = message.parts or 1
        if message.type == st.TYPE_HLR and message.hlr is not None:
            hlr = message.hlr
            text = (
                f"id:{message.id} stat:{status.smpp_word} err:{err:03d} imsi:{hlr.imsi} "
                f"msc:{hlr.msc} mcc:{hlr.mcc} mnc:{hlr.mnc} cn:{quote_plus(hlr.cn)} "
                f"net:{quote_plus(hlr.net)} rcn:{quote_plus(hlr.rcn)} rnet:{quote_plus(hlr.rnet)}"
            )
        else:
            report = DeliveryReport(
                message_id=str(message.id),
                status=status,
                error=DeliveryError(err),
                submitted_at=datetime.fromtimestamp(message.submitted_at, MOSCOW),
                changed_at=datetime.fromtimestamp(at, MOSCOW),
                parts=parts,
                delivered_parts=parts if status.is_delivered else 0,
            )
            text = render_receipt_text(report)
        tlvs: list[tuple[int, bytes]] = [
            Tlv.of(Tag.RECEIPTED_MESSAGE_ID, str(message.id)),
            Tlv.of(Tag.MESSAGE_STATE, status.message_state),
            # SMPP 3.4 §5.3.2.31: network type (3 = GSM), then the 2-octet error code.
            (Tag.NETWORK_ERROR_CODE, bytes((3,)) + min(err, 0xFFFF).to_bytes(2, "big")),
            Tlv.of(Tag.COST, Decimal(message.cost)),
            Tlv.of(Tag.FLAG, message.flag & 0xFFFF),
            Tlv.of(Tag.PARTS, min(parts, 0xFFFF)),
        ]
        if message.reported_type is None:
            # A kind with no type number (Telegram, bot): no flag rather than a wrong type.
            tlvs = [t for t in tlvs if t[0] != Tag.FLAG]
        operator = lookup_operator(message.phone)
        # smscentre.com/api/smpp: MCC+MNC is "Var. max 5".
        if operator is not None and len(operator[3] + operator[4]) <= 5:
            tlvs.append(Tlv.of(Tag.MCCMNC, operator[3] + operator[4]))
        # smscentre.com/api/smpp, TLV 0x2004: 2 read, 4 link clicked (the HTTP statuses of the same
        # numbers).
        tlvs.append(Tlv.of(Tag.EXTRA_STATUS, status_code if status_code in (2, 4) else 0))
        return DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=message.phone[:20],
            destination_addr=origin.source,
            esm_class=_ESM_RECEIPT,
            short_message=text.encode("latin-1", "replace"),
            tlvs=tuple(tlvs),
        )

    def _instant_receipt(self, login: str, pdu: SubmitSm, message_id: int) -> None:
        # Benchmark mode: an immediate DELIVRD receipt, nothing stored; built directly (same
        # layout as _receipt_pdu) because it runs once per message.
        now = self.state.now()
        second = int(now)
        if self._stamp[0] != second:
            date = datetime.fromtimestamp(second, MOSCOW).strftime("%y%m%d%H%M")
            self._stamp = (second, date)
        date = self._stamp[1]
        mid = str(message_id)
        price = self.state.price(st.TYPE_SMS)
        cost = self._cost_tlvs.get(price)
        if cost is None:
            cost = self._cost_tlvs[price] = Tlv.of(Tag.COST, price)
        receipt = DeliverSm(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr=pdu.destination_addr,
            destination_addr=pdu.source_addr,
            esm_class=_ESM_RECEIPT,
            short_message=(
                f"id:{mid} sub:001 dlvrd:001 submit date:{date} done date:{date} "
                "stat:DELIVRD err:000"
            ).encode(),
            tlvs=((0x001E, mid.encode() + b"\0"), *_DELIVERED_TLVS, cost),
        )
        self._queue(login, _Delivery(lambda _session: [receipt], incoming=False))

    # --- incoming messages --------------------------------------------------------------------

    def _on_incoming(self, record: IncomingRecord) -> None:
        if not self.behaviour.deliver_incoming:
            return
        self._mo_ref = (self._mo_ref + 1) & 0xFF
        reference = self._mo_ref
        self._queue(
            record.login,
            _Delivery(
                lambda session: self._incoming_pdus(session, record, reference), incoming=True
            ),
        )

    def _incoming_pdus(
        self, session: _Session, record: IncomingRecord, reference: int
    ) -> list[DeliverSm]:
        encoding = choose_encoding(record.text, iso=session.system_type.iso)
        parts = split_encoded(encode_text(record.text, encoding), encoding)
        common: dict[str, Any] = {
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "source_addr": record.phone[:20],
            "dest_addr_ton": 1 if record.to_phone.isdigit() else 0,
            "dest_addr_npi": 1 if record.to_phone.isdigit() else 0,
            "destination_addr": record.to_phone[:20],
            "data_coding": encoding.data_coding,
        }
        if len(parts) == 1:
            return [DeliverSm(short_message=parts[0], **common)]
        total = len(parts)
        return [
            DeliverSm(
                esm_class=_ESM_UDHI,
                short_message=concat_udh(reference, total, i) + part,
                **common,
            )
            for i, part in enumerate(parts, 1)
        ]

    # --- delivery queue -----------------------------------------------------------------------

    def _queue(self, login: str, delivery: _Delivery) -> None:
        self._pending.setdefault(login, deque()).append(delivery)
        if self._batching:
            self._dirty.add(login)
        else:
            self._pump(login)

    def _pump(self, login: str) -> None:
        """Hand queued deliver_sm of ``login`` to its receiving binds, round robin."""
        pending = self._pending.get(login)
        if not pending:
            return
        receivers = [s for s in self._sessions if s.login == login and s.can_receive]
        if not receivers:
            return
        touched: set[_Session] = set()
        counters = self.counters
        while pending:
            chosen = None
            for offset in range(len(receivers)):
                candidate = receivers[(self._rr + offset) % len(receivers)]
                if candidate.conn.window_available > 0:
                    chosen = candidate
                    break
            if chosen is None:
                break
            self._rr += 1
            delivery = pending[0]
            pdus = delivery.build(chosen)
            if chosen.conn.window_available < len(pdus):
                break
            pending.popleft()
            delivery.failed = False
            for pdu in pdus:
                seq = chosen.conn.send(pdu)
                delivery.outstanding.add(seq)
                chosen.deliveries[seq] = delivery
            if delivery.incoming:
                counters.incoming_sent += 1
            else:
                counters.receipts_sent += len(pdus)
            touched.add(chosen)
        for session in touched:
            session.push()

    def _on_delivered(self, session: _Session, seq: int, status: int) -> None:
        delivery = session.deliveries.pop(seq, None)
        if delivery is None:
            return
        delivery.outstanding.discard(seq)
        if status != S.ESME_ROK:
            delivery.failed = True
        elif not delivery.incoming:
            self.counters.receipts_acked += 1
        if delivery.outstanding:
            return
        if delivery.failed:
            # The client could not take it now (e.g. its queue was full): deliver it again.
            assert session.login is not None
            self._pending.setdefault(session.login, deque()).append(delivery)
        elif delivery.incoming:
            self.counters.incoming_acked += 1
        if session.login is not None:
            self._dirty.add(session.login)

    def _session_ended(self, session: _Session) -> None:
        # deliver_sm never answered go back to the front of the queue: nothing is lost.
        login = session.login
        if login is None or not session.deliveries:
            if login is not None:
                self._pump(login)
            return
        seen: list[_Delivery] = []
        for delivery in session.deliveries.values():
            if delivery not in seen:
                seen.append(delivery)
        session.deliveries.clear()
        queue = self._pending.setdefault(login, deque())
        for delivery in reversed(seen):
            delivery.outstanding.clear()
            delivery.failed = False
            queue.appendleft(delivery)
        self._pump(login)
