"""Building the model event from a callback's fields: a status, an incoming SMS or a call.

The fields are text whatever the body's format; :class:`_Fields` reads each as the type the
provider documents for it (smscentre.com/api/http, the handler's parameters), with
:class:`~smscenter.exceptions.MalformedCallback` naming the field that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from smscenter._provider import Transport
from smscenter.exceptions import MalformedCallback
from smscenter.models import (
    CallConfirmation,
    CallInfo,
    DeliveryError,
    DeliveryReport,
    HlrInfo,
    IncomingMessage,
    MessageFlags,
    MessageStatus,
    MessageType,
    client_id_of,
)
from smscenter.webhook._signature import _DEC_RE, CallbackKind

#: What :func:`parse_callback` returns.
CallbackEvent: TypeAlias = DeliveryReport | IncomingMessage | CallConfirmation

_TIME_FORMATS = ("%d.%m.%y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%y %H:%M", "%Y-%m-%d %H:%M:%S")


class _Fields:
    """Typed access to the decoded fields; every failure names the field."""

    def __init__(self, fields: Mapping[str, str], kind: CallbackKind, tz: tzinfo) -> None:
        self._fields = fields
        self._kind = kind
        self._tz = tz

    def _fail(self, message: str) -> MalformedCallback:
        return MalformedCallback(f"{self._kind} callback: {message}")

    def text(self, name: str) -> str | None:
        value = self._fields.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def raw(self, name: str) -> str | None:
        """The value untouched (texts keep their whitespace); ``None`` when absent."""
        return self._fields.get(name)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self._fail(f"required field {name!r} is missing or empty")
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not _DEC_RE.fullmatch(value):
            raise self._fail(f"field {name!r} is not an integer: {value[:40]!r}")
        return int(value)

    def seconds(self, name: str) -> int | None:
        """Whole seconds, as ``n``, ``mm:ss`` or ``hh:mm:ss``."""
        value = self.text(name)
        if value is None:
            return None
        if re.fullmatch(r"\d{1,9}", value):
            return int(value)
        if re.fullmatch(r"\d{1,6}(?::\d{1,2}){1,2}", value):
            total = 0
            for piece in value.split(":"):
                total = total * 60 + int(piece)
            return total
        raise self._fail(f"field {name!r} is not a duration in seconds: {value[:40]!r}")

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise self._fail(f"field {name!r} is not a number: {value[:40]!r}") from None
        if not number.is_finite():
            raise self._fail(f"field {name!r} is not a finite number: {value[:40]!r}")
        return number

    def timestamp(self, name: str) -> datetime | None:
        """A unix stamp (aware UTC); a ``DD.MM.YY hh:mm:ss`` text is read in the account's zone."""
        value = self.text(name)
        if value is None:
            return None
        if re.fullmatch(r"\d{1,12}(?:\.\d+)?", value):
            try:
                return datetime.fromtimestamp(float(value), UTC)
            except (OverflowError, OSError, ValueError):
                raise self._fail(f"field {name!r} is out of range: {value[:40]!r}") from None
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=self._tz)
            except ValueError:
                continue
        raise self._fail(
            f"field {name!r} is neither a unix time nor DD.MM.YY hh:mm:ss: {value[:40]!r}"
        )

    def convert(self, name: str, make: Callable[[int], object]) -> object:
        number = self.integer(name)
        if number is None:
            return None
        try:
            return make(number)
        except ValueError as exc:
            raise self._fail(f"field {name!r}: {exc}") from None


def _build_status(f: _Fields) -> DeliveryReport:
    message_id = f.required("id")
    phone = f.required("phone")
    raw_status = f.required("status")
    code = f.integer("status")
    assert code is not None  # required() above guarantees presence
    # Prefer ``ts`` (unambiguous); ``time`` is local to the zone set in the account.
    changed_at = f.timestamp("ts") or f.timestamp("time")
    flag = f.convert("flag", MessageFlags.from_int)
    message_type = f.convert("type", MessageType)
    error = f.convert("err", DeliveryError)
    hlr = HlrInfo(
        imsi=f.text("imsi"),
        msc=f.text("msc"),
        mcc=f.text("mcc"),
        mnc=f.text("mnc"),
        country=f.text("cn"),
        operator=f.text("net"),
        roaming_country=f.text("rcn"),
        roaming_operator=f.text("rnet"),
    )
    call = CallInfo(
        dtmf=f.text("dtmf"),
        menu_keys=f.text("callmenu"),
        call_seconds=f.seconds("calltime"),
        ring_seconds=f.seconds("ringtime"),
    )
    return DeliveryReport(
        message_id=message_id,
        phone=phone,
        status=MessageStatus.from_code(code),
        raw_status=raw_status,
        error=error if isinstance(error, DeliveryError) else DeliveryError.NO_ERROR,
        changed_at=changed_at,
        parts=f.integer("cnt"),
        cost=f.decimal("cost"),
        mcc=hlr.mcc,
        mnc=hlr.mnc,
        country=hlr.country,
        operator=hlr.operator,
        flags=flag if isinstance(flag, MessageFlags) else None,
        message_type=message_type if isinstance(message_type, MessageType) else None,
        hlr=hlr if hlr != HlrInfo() else None,
        call=call if call != CallInfo() else None,
        operator_error=f.text("syserr"),
        sender=f.text("sender"),
        comment=f.raw("cmt") or None,
        client_id=client_id_of(message_id),
        transport=Transport.WEBHOOK,
    )


def _build_incoming(f: _Fields) -> IncomingMessage:
    return IncomingMessage(
        phone=f.required("phone"),
        text=f.raw("mes") or "",
        message_id=f.text("id"),
        to=f.text("to"),
        reply_to_id=f.text("sms_id"),
        smsc=f.text("smsc"),
        sent_at=f.timestamp("sent"),
        received_at=f.timestamp("time"),
        transport=Transport.WEBHOOK,
    )


def _build_call(f: _Fields) -> CallConfirmation:
    phone = f.required("phone")
    called_at = f.timestamp("ts") or f.timestamp("time")
    if called_at is None:
        raise MalformedCallback("call callback: required field 'ts' is missing or empty")
    return CallConfirmation(phone=phone, called_at=called_at, transport=Transport.WEBHOOK)
