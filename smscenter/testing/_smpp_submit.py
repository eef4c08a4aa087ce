"""The simulator's SMPP submit_sm and query_sm handling: a base class of the server.

:class:`SubmitHandling` applies the provider's rules to each ``submit_sm``
(https://smscentre.com/api/smpp/): the throughput limit (ESME_RTHROTTLED), the refusal of an
identical request within a minute, ``ISO`` and ``SINGLE`` system types, long messages glued from
their parts (one id for all parts, stored once the last arrives, dropped after a minute), the
provider's special texts (``__MAIL__``, ``__VIBER__``...); then stores the message in the shared
state. ``query_sm`` answers from the same state.
"""

from __future__ import annotations

import logging
import struct
import time
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from smscenter._provider import COMMENT_SEPARATOR, MOSCOW
from smscenter.models import MessageKind, MessageStatus
from smscenter.smpp.constants import CommandId, CommandStatus, Tag
from smscenter.smpp.pdu import QuerySm, SubmitSm
from smscenter.smpp.provider_text import parse_provider_text
from smscenter.smpp.reassembly import split_user_data
from smscenter.smpp.text import (
    decode_text,
)
from smscenter.smpp.times import absolute_time
from smscenter.testing import _state as st
from smscenter.testing._login_rules import LoginWatch
from smscenter.testing._smpp_knobs import SMPPBehaviour, SMPPCounters
from smscenter.testing._smpp_session import _Origin, _PartGroup, _Throttle
from smscenter.testing._state import (
    SendRequest,
    SimError,
    SimulatorState,
)

if TYPE_CHECKING:
    from smscenter.testing._smpp_session import _Session

__all__ = ("SubmitHandling",)

logger = logging.getLogger("smscenter.testing._smpp_server")

S = CommandStatus

_KIND_TYPES = {
    MessageKind.SMS: st.TYPE_SMS,
    MessageKind.HLR: st.TYPE_HLR,
    MessageKind.PING: st.TYPE_PING,
    MessageKind.EMAIL: st.TYPE_MAIL,
    MessageKind.CALL: st.TYPE_CALL,
    MessageKind.VIBER: st.TYPE_VIBER,
    MessageKind.SOCIAL: st.TYPE_SOC,
    MessageKind.TELEGRAM: st.TYPE_SOC,
    MessageKind.BOT: st.TYPE_SOC,
}
_EXTRA_LINES = {
    MessageKind.EMAIL: "\nsubj:",
    MessageKind.CALL: "\nvoice:",
    MessageKind.BOT: "\nbot:",
}
# A part group that has not completed within this many seconds is dropped (smscentre.com/api/smpp:
# "all SMS parts must be transmitted to the server within a minute").
_PART_TIMEOUT = 60.0
_SUBMIT_RESP_HEADER = struct.Struct(">IIII")
_SUBMIT_SM_RESP = int(CommandId.SUBMIT_SM_RESP)


class _Duplicates:
    """Submits accepted within the duplicate window, by content: the provider's SMPP page
    (https://smscentre.com/api/smpp/) says "the server does not accept more than one identical
    request to send SMS messages within a minute". Each ``submit_sm`` is a request, so a long
    message's parts count one by one."""

    __slots__ = ("_first", "_order")

    def __init__(self) -> None:
        self._first: dict[tuple[object, ...], tuple[float, int]] = {}
        self._order: deque[tuple[float, tuple[object, ...]]] = deque()

    @staticmethod
    def key(login: str, pdu: SubmitSm) -> tuple[object, ...]:
        """What makes two submits identical: everything but the sequence number and timing."""
        return (
            login,
            pdu.service_type,
            pdu.source_addr_ton,
            pdu.source_addr_npi,
            pdu.source_addr,
            pdu.dest_addr_ton,
            pdu.dest_addr_npi,
            pdu.destination_addr,
            pdu.esm_class,
            pdu.protocol_id,
            pdu.data_coding,
            pdu.short_message,
            pdu.tlv(Tag.MESSAGE_PAYLOAD),
            pdu.tlv(Tag.SAR_MSG_REF_NUM),
            pdu.tlv(Tag.SAR_SEGMENT_SEQNUM),
        )

    def find(self, key: tuple[object, ...], now: float, window: float) -> int | None:
        """The id of an identical submit accepted less than ``window`` seconds ago, if any."""
        if window <= 0:
            return None
        first, order = self._first, self._order
        while order and order[0][0] <= now - window:
            at, old = order.popleft()
            if first.get(old, (None, 0))[0] == at:
                del first[old]
        hit = first.get(key)
        return hit[1] if hit is not None and hit[0] > now - window else None

    def remember(self, key: tuple[object, ...], now: float, window: float, message_id: int) -> None:
        """An accepted submit starts its window."""
        if window > 0:
            self._first[key] = (now, message_id)
            self._order.append((now, key))


class SubmitHandling:
    """submit_sm (throttling, duplicates, parts, special texts, storing) and query_sm."""

    if TYPE_CHECKING:
        state: SimulatorState
        counters: SMPPCounters
        logins: LoginWatch
        _throttles: dict[str, _Throttle]
        _just_throttled: set[tuple[str, str, bytes]]
        _groups: dict[tuple[str, str, str, int, int], _PartGroup]
        _duplicates: _Duplicates
        _accepted_id: int | None

        @property
        def behaviour(self) -> SMPPBehaviour: ...

        def _instant_receipt(self, login: str, pdu: SubmitSm, message_id: int) -> None: ...

    def _refuse(self, session: _Session, pdu: SubmitSm, status: int) -> None:
        self.counters.refused += 1
        session.conn.respond(pdu, status)

    def _accept(self, session: _Session, pdu: SubmitSm, message_id: int) -> None:
        behaviour = self.behaviour
        if behaviour.malformed > 0:
            behaviour.malformed -= 1
            self._malformed(session, pdu.sequence_number, behaviour.malformed_kind)
            return
        self.counters.accepted += 1
        self._accepted_id = message_id
        session.conn.respond(pdu, message_id=str(message_id))

    def _malformed(self, session: _Session, seq: int, kind: str) -> None:
        # Written past the connection's encoder (which never writes a broken PDU); the
        # connection has queued nothing for this request.
        if kind == "frame":
            data = _SUBMIT_RESP_HEADER.pack(8, _SUBMIT_SM_RESP, 0, seq)
        else:
            data = _SUBMIT_RESP_HEADER.pack(19, _SUBMIT_SM_RESP, 0, seq) + b"123"
        session.push_raw(data)

    def _throttle_again(self, login: str, pdu: SubmitSm) -> bool:
        key = (login, pdu.destination_addr, pdu.short_message)
        if key in self._just_throttled:
            self._just_throttled.discard(key)
            return False
        if len(self._just_throttled) >= 100_000:  # resends that never came: forget them
            self._just_throttled.clear()
        self._just_throttled.add(key)
        return True

    def _on_submit(self, session: _Session, pdu: SubmitSm, behaviour: SMPPBehaviour) -> None:
        login = session.login
        assert login is not None  # only bound sessions get submit_sm events
        every = behaviour.throttle_every
        if (
            every is not None
            and every > 0
            and self.counters.submits % every == 0
            and (every == 1 or self._throttle_again(login, pdu))
        ):
            self.counters.throttled += 1
            self.logins.throttle(login, time.monotonic())
            session.conn.respond(pdu, S.ESME_RTHROTTLED)
            return
        overrides = behaviour.throughput_by_login
        rate = overrides[login] if overrides and login in overrides else behaviour.throughput
        if rate is not None:
            now = time.monotonic()
            bucket = self._throttles.get(login)
            if bucket is None:
                bucket = self._throttles[login] = _Throttle(rate, now)
            if not bucket.take(rate, now):
                self.counters.throttled += 1
                self.logins.throttle(login, time.monotonic())
                session.conn.respond(pdu, S.ESME_RTHROTTLED)
                return
        if not behaviour.record:
            message_id = self.state.allocate_id()
            self._accept(session, pdu, message_id)
            if pdu.registered_delivery & 0x01 and behaviour.receipts:
                self._instant_receipt(login, pdu, message_id)
            return
        duplicates = self._duplicates
        key = duplicates.key(login, pdu)
        first = duplicates.find(key, self.state.now(), self.state.behaviour.duplicate_window)
        if first is not None:
            # The provider's SMPP page: an identical request within a minute is not accepted.
            self.counters.duplicates += 1
            status = behaviour.error_statuses.get(9, S.ESME_RSUBMITFAIL)
            self.counters.refused += 1
            if behaviour.duplicate_with_id:
                session.conn.respond(pdu, status, message_id=str(first))
            else:
                session.conn.respond(pdu, status)
            return
        self._accepted_id = None
        self._handle_submit(session, pdu)
        accepted = self._last_accepted()
        if accepted is not None:
            duplicates.remember(
                key, self.state.now(), self.state.behaviour.duplicate_window, accepted
            )

    def _last_accepted(self) -> int | None:
        """The id the last submit handled was accepted with (None: refused or unanswered)."""
        return self._accepted_id

    def _handle_submit(self, session: _Session, pdu: SubmitSm) -> None:
        data, part = split_user_data(pdu)
        coding = pdu.data_coding
        binary = coding == 2 or 0xF4 <= coding <= 0xF7
        if binary:
            text = data.hex().upper()
        else:
            # smscentre.com/api/smpp: with system_type ISO the default alphabet is ISO-8859-1, not
            # GSM.
            text = decode_text(data, 4 if coding == 0 and session.system_type.iso else coding)
        if part is not None and part.total > 1:
            if session.system_type.single:
                # SINGLE: every part is a message of its own, with its own id and receipt.
                self._store(session, pdu, text, binary, part=(part.reference, part.seq))
            else:
                self._on_part(session, pdu, text, binary, part.reference, part.total, part.seq)
            return
        self._store(session, pdu, text, binary)

    def _on_part(
        self,
        session: _Session,
        pdu: SubmitSm,
        text: str,
        binary: bool,
        reference: int,
        total: int,
        seq: int,
    ) -> None:
        # smscentre.com/api/smpp: without SINGLE, every part of a long message gets the same id and
        # the glued message gets one receipt. It is stored (and billed) once its last part arrives.
        login = session.login
        assert login is not None
        now = time.monotonic()
        key = (login, pdu.source_addr, pdu.destination_addr, reference, total)
        group = self._groups.get(key)
        if group is None:
            for old_key in [k for k, g in self._groups.items() if now - g.first_at > _PART_TIMEOUT]:
                logger.info("smpp simulator: parts of %s never completed", old_key)
                del self._groups[old_key]
            account = self.state.accounts.get(login)
            price = self.state.price(st.TYPE_SMS) * total
            if account is not None and account.balance + (account.credit or 0) < price:
                self._refuse(session, pdu, self.behaviour.error_statuses.get(3, S.ESME_RSUBMITFAIL))
                return
            group = self._groups[key] = _PartGroup(self.state.allocate_id(), total, now)
        group.parts[seq] = text
        if len(group.parts) < total:
            self._accept(session, pdu, group.id)
            return
        del self._groups[key]
        glued = "".join(group.parts[i] for i in sorted(group.parts))
        self._store(session, pdu, glued, binary, message_id=group.id)

    def _store(
        self,
        session: _Session,
        pdu: SubmitSm,
        text: str,
        binary: bool,
        *,
        part: tuple[int, int] | None = None,
        message_id: int | None = None,
    ) -> None:
        login = session.login
        assert login is not None
        kind = None
        if binary:
            type_ = st.TYPE_BIN
            body = text
        else:
            parsed = parse_provider_text(text)
            type_ = _KIND_TYPES.get(parsed.kind, st.TYPE_SMS)
            if parsed.kind.value in st.UNTYPED_KINDS:
                kind = parsed.kind.value  # __TGM__ / __BOT__: not "social" (smscentre.com/api/smpp)
            body = text if parsed.kind is MessageKind.SMS else parsed.text
            if parsed.kind is MessageKind.SMS:
                coding = pdu.data_coding
                if 0x10 <= coding <= 0x1F and coding & 0x03 == 0:  # message class 0: flash
                    type_ = st.TYPE_FLASH
            else:
                extra = parsed.subject or parsed.voice or parsed.bot
                line = _EXTRA_LINES.get(parsed.kind)
                if extra is not None and line is not None:
                    body += line + extra
                if parsed.comment is not None:
                    body += COMMENT_SEPARATOR + parsed.comment
        source = pdu.source_addr
        destination = pdu.destination_addr
        request = SendRequest(
            phones=(destination,),
            text=body,
            type=type_,
            kind=kind,
            sender=source or None,
            client_id=None if message_id is None else str(message_id),
            fingerprint=("smpp", destination, source, type_, text, part),
            transport="smpp",
            origin=_Origin(
                server=self,
                registered_delivery=pdu.registered_delivery,
                source=source,
                destination=destination,
            ),
            receipt_requested=bool(pdu.registered_delivery & 0x03),
            hex_binary=binary,
        )
        try:
            outcome = self.state.send(login, request)
        except SimError as exc:
            status = self.behaviour.error_statuses.get(exc.code, S.ESME_RSUBMITFAIL)
            self._refuse(session, pdu, status)
            return
        except KeyError:  # the account was removed meanwhile
            self._refuse(session, pdu, S.ESME_RSYSERR)
            return
        self._accept(session, pdu, outcome.id)

    # --- query_sm -----------------------------------------------------------------------------

    def _on_query(self, session: _Session, pdu: QuerySm) -> None:
        login = session.login
        message = None
        if login is not None and pdu.message_id.isdigit():
            message = self.state.find(login, pdu.message_id, None)
        if message is None:
            session.conn.respond(pdu, S.ESME_RQUERYFAIL)
            return
        status = MessageStatus.from_code(message.status)
        final_date = ""
        if message.is_final:
            final_date = absolute_time(datetime.fromtimestamp(message.changed_at, MOSCOW))
        session.conn.respond(
            pdu,
            message_id=pdu.message_id,
            final_date=final_date,
            message_state=status.message_state,
            error_code=min(message.err, 255),
        )
