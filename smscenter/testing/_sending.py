"""The sending half of :class:`~smscenter.testing._state.SimulatorState`: send.php's rules.

:class:`SendingState` is a base class of the state: it expands groups, draws each recipient's
outcome, bills the account, refuses what the provider refuses (https://smscentre.com/api/http/,
send.php errors 1, 3, 6, 7, 8, 9) and stores one :class:`~smscenter.testing._records.SentMessage`
per recipient, scheduled to move through its statuses; HLR requests answer from
:attr:`SimulatorState.hlr_results` or the operator table.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from smscenter.testing._formats import (
    _EMAIL_RE,
    KIND_OF_TYPE,
    ST_DELIVERED,
    ST_QUEUED,
    TYPE_BIN,
    TYPE_CALL,
    TYPE_FLASH,
    TYPE_HLR,
    TYPE_MAIL,
    TYPE_MMS,
    TYPE_PING,
    TYPE_SMS,
    TYPE_SOC,
    TYPE_VIBER,
    UNTYPED_KINDS,
    SimError,
    count_parts,
    lookup_operator,
    normalize_phone,
    split_comment,
    truncate_to_parts,
)
from smscenter.testing._records import (
    Account,
    Behaviour,
    HlrResult,
    SendRequest,
    SentMessage,
    SimRecipientOutcome,
    SimSendOutcome,
    StatusChange,
)

__all__ = ("SendingState",)


class SendingState:
    """send.php and HLR: what a send does to the state."""

    __slots__ = ()

    if TYPE_CHECKING:
        behaviour: Behaviour
        accounts: dict[str, Account]
        messages: dict[tuple[int, str], SentMessage]
        hlr_results: dict[str, HlrResult]
        _rng: random.Random
        _seq: int
        _client_ids: dict[tuple[str, str], int]
        _by_id: dict[tuple[str, int], list[str]]
        _order: list[tuple[int, str]]

        def now(self) -> float: ...

        def allocate_id(self) -> int: ...

        def poll(self) -> list[StatusChange]: ...

        def check_duplicate(self, login: str, key: object, limit: int = 1) -> None: ...

        def remember(self, login: str, key: object) -> None: ...

        def _schedule(self, at: float, key: tuple[int, str]) -> None: ...

    def _expand_recipients(self, account: Account, phones: Iterable[str]) -> list[str]:
        out: list[str] = []
        for raw in phones:
            raw = raw.strip()
            if not raw:
                continue
            if raw[0] in "Gg" and raw[1:].isdigit():
                group = int(raw[1:])
                out.extend(c.phone for c in account.contacts.values() if group in c.groups)
            else:
                out.append(raw)
        return out

    def _outcome_for(self, phone: str) -> tuple[int, int]:
        outcomes = self.behaviour.phone_outcomes
        forced = outcomes.get(phone, outcomes.get("+" + phone))
        if forced is not None:
            return forced
        mix = self.behaviour.outcomes
        if not mix:
            return (ST_DELIVERED, 0)
        choices = list(mix)
        return self._rng.choices(choices, weights=[mix[c] for c in choices])[0]

    def price(self, type_: int) -> Decimal:
        """The price of one part (one message for non-SMS kinds) of a message type."""
        return self.behaviour.prices.get(type_, self.behaviour.prices[TYPE_SMS])

    def send(self, login: str, request: SendRequest) -> SimSendOutcome:
        """Accept (or refuse) a send: bill it, store one :class:`SentMessage` per recipient.

        :raises SimError: 1 bad parameters, 3 no funds (with id), 6 forbidden (with id),
            7 no valid number (with id), 8 undeliverable (with id), 9 duplicate.
        """
        self.poll()
        account = self.accounts[login]
        behaviour = self.behaviour
        now = self.now()
        dup_key = ("cost" if request.price_only else "send", request.fingerprint)
        if request.fingerprint is not None:
            self.check_duplicate(login, dup_key, 5 if request.price_only else 1)
        text, comment = split_comment(request.text)
        if request.max_parts is not None and request.type in (TYPE_SMS, TYPE_FLASH):
            text = truncate_to_parts(text, request.max_parts)
        recipients = self._expand_recipients(account, request.phones)
        if not recipients:
            raise SimError(1, "no recipients")
        if (
            request.type not in (TYPE_HLR, TYPE_PING, TYPE_CALL)
            and not text
            and not (request.type == TYPE_MMS)
        ):
            raise SimError(1, "message is empty")
        message_id: int
        if request.client_id is not None and request.client_id.isdigit():
            message_id = int(request.client_id)
        else:
            message_id = self.allocate_id()
        valid: list[str] = []
        invalid: list[str] = []
        for raw in recipients:
            if request.type == TYPE_MAIL:
                (valid if _EMAIL_RE.fullmatch(raw) else invalid).append(raw)
            elif request.type == TYPE_SOC or request.type == TYPE_VIBER and raw.startswith("@"):
                valid.append(raw)
            else:
                norm = normalize_phone(raw)
                (valid.append(norm) if norm else invalid.append(raw))
        if not valid:
            raise SimError(7, "invalid number", message_id)
        lowered = text.lower()
        if any(word.lower() in lowered for word in behaviour.forbidden_words):
            raise SimError(6, "message is denied", message_id)
        if (
            behaviour.check_senders
            and request.sender
            and request.sender not in account.senders.values()
        ):
            raise SimError(6, "message is denied", message_id)
        refused = behaviour.undeliverable_phones
        if any(p in refused or "+" + p in refused for p in valid):
            raise SimError(8, "can't deliver sms", message_id)
        if request.type == TYPE_BIN:
            if request.payload is not None:
                size = len(request.payload)
            else:
                size = len(text) // 2 if request.hex_binary else len(text.encode())
            parts = 1 if size <= 140 else math.ceil(size / 134)
        elif request.type in (TYPE_SMS, TYPE_FLASH):
            parts = count_parts(text, latin=True if request.translit else None)
        else:
            parts = 1
        unit = self.price(request.type)
        per_recipient = unit * parts
        total = per_recipient * len(valid)
        rows = [
            SimRecipientOutcome(
                phone=p, cost=per_recipient, status=ST_QUEUED, err=0, mccmnc=self._mccmnc(p)
            )
            for p in valid
        ] + [
            SimRecipientOutcome(phone=p, cost=Decimal(0), status=22, err=249, mccmnc="")
            for p in invalid
        ]
        if request.price_only:
            if request.fingerprint is not None:
                self.remember(login, dup_key)
            return SimSendOutcome(
                id=message_id,
                parts=parts * len(valid),
                cost=total,
                balance=account.balance,
                recipients=tuple(rows),
                messages=(),
            )
        available = account.balance + (account.credit or Decimal(0))
        if total > available:
            raise SimError(3, "not enough money", message_id)
        account.balance -= total
        start = max(now, request.start_at) if request.start_at is not None else now
        kind = request.kind or KIND_OF_TYPE.get(request.type, "sms")
        stored: list[SentMessage] = []
        key_list = self._by_id.setdefault((login, message_id), [])
        for phone in valid:
            final_status, final_err = self._outcome_for(phone)
            message = SentMessage(
                id=message_id,
                login=login,
                phone=phone,
                text=text,
                comment=comment,
                sender=request.sender,
                type=request.type,
                parts=parts,
                cost=per_recipient,
                submitted_at=now,
                start_at=start,
                transport=request.transport,
                origin=request.origin,
                client_id=request.client_id,
                changed_at=now,
                transmit_at=start + behaviour.transmit_delay,
                final_at=start + max(behaviour.delivery_delay, behaviour.transmit_delay),
                expires_at=(
                    None if request.valid_seconds is None else start + request.valid_seconds
                ),
                final_status=final_status,
                final_err=final_err,
                receipt_requested=request.receipt_requested,
                flag=0 if kind in UNTYPED_KINDS else request.type & 0x0F,
                payload=request.payload,
                kind=kind,
            )
            if request.type == TYPE_HLR:
                message.hlr = self.hlr_for(phone)
            key = (message_id, phone)
            self.messages[key] = message
            self._order.append(key)
            if phone not in key_list:
                key_list.append(phone)
            stored.append(message)
            self._schedule(message.transmit_at, key)
            self._schedule(message.final_at, key)
            if message.expires_at is not None:
                self._schedule(message.expires_at, key)
        if request.client_id is not None:
            self._client_ids[(login, request.client_id)] = message_id
        if request.fingerprint is not None:
            self.remember(login, dup_key)
        return SimSendOutcome(
            id=message_id,
            parts=parts * len(valid),
            cost=total,
            balance=account.balance,
            recipients=tuple(rows),
            messages=tuple(stored),
        )

    def _mccmnc(self, phone: str) -> str:
        info = lookup_operator(phone)
        return info[3] + info[4] if info else ""

    def hlr_for(self, phone: str) -> HlrResult:
        """The HLR answer for ``phone``: the one set by a test, else derived from the prefix."""
        if phone in self.hlr_results:
            return self.hlr_results[phone]
        info = lookup_operator(phone)
        if info is None:
            return HlrResult()
        country, operator, _region, mcc, mnc, _tz = info
        return HlrResult(
            imsi=(mcc + mnc + phone[-10:]).ljust(15, "0")[:15],
            msc="7" + "9" * 10,
            mcc=mcc,
            mnc=mnc,
            cn=country,
            net=operator,
        )
