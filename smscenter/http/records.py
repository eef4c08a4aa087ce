"""Typed records for what the HTTP API's other endpoints return.

Sends, prices, statuses, balances and incoming messages use the shared models in
:mod:`smscenter.models`; the endpoints below have answers of their own
(https://smscentre.com/api/http/). Every record is a frozen attrs value; money is
:class:`~decimal.Decimal`, times are aware datetimes, and field names say what the value means
rather than echo the wire name (``sms_mon`` is :attr:`MegafonAccount.sent_this_month`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import attrs

from smscenter._provider import unknown_member
from smscenter.exceptions import ValidationError

__all__ = (
    "BlacklistScope",
    "CallToConfirm",
    "Contact",
    "ContactDetails",
    "ContactGroup",
    "DownloadStatus",
    "DownloadTask",
    "GroupMove",
    "Mailing",
    "MailingRepeat",
    "MailingResend",
    "MegafonAccount",
    "MessageFormat",
    "OperatorInfo",
    "OperatorPrice",
    "PortedNumber",
    "PriceList",
    "PriceZone",
    "ReceiveNumber",
    "SenderId",
    "SenderRegistration",
    "ShortLink",
    "StatisticsRow",
    "SubClientType",
    "Template",
)


@attrs.frozen(kw_only=True)
class StatisticsRow:
    """One row of ``get.php?get_stat=1``: messages and money for one login over a period.

    :ivar login: the account (or sub-account) the row is about.
    :ivar messages: how many messages were sent.
    :ivar spent: money spent (the provider's ``credit``).
    :ivar received: money paid in (the provider's ``debit``).
    :ivar currency: three-letter currency code.
    """

    login: str
    messages: int
    spent: Decimal
    received: Decimal
    currency: str | None = None


@attrs.frozen(kw_only=True)
class PriceZone:
    """The account's price for one tariff zone (``get.php?get_price=1``, ``zones``).

    Prices are ``None`` where the provider leaves them empty.
    """

    zone: str
    name: str
    api: Decimal | None = None  #: one SMS sent through the API
    bulk: Decimal | None = None  #: one SMS sent from the web account (``mass``)
    mms: Decimal | None = None
    hlr: Decimal | None = None
    call: Decimal | None = None


@attrs.frozen(kw_only=True)
class OperatorPrice:
    """An individual price for one operator (``codes`` rows of ``get_price``)."""

    mccmnc: str
    cost: Decimal


@attrs.frozen(kw_only=True)
class PriceList:
    """The account's tariffs: zones, per-operator prices and the e-mail price."""

    zones: tuple[PriceZone, ...] = ()
    operator_prices: tuple[OperatorPrice, ...] = ()
    email: Decimal | None = None


@attrs.frozen(kw_only=True)
class MegafonAccount:
    """Statistics for one MegaFon personal account (``get.php?get_mega_accounts=1``)."""

    account: str
    phone: str | None = None
    sent_this_month: int = 0
    sent_today: int = 0
    sent_yesterday: int = 0
    sent_last_month: int = 0
    balance: Decimal | None = None
    credit: Decimal | None = None
    senders: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class OperatorInfo:
    """Who serves a phone number (``info.php?get_operator=1``).

    :ivar utc_offset: the region's time zone as the provider writes it (hours), when given.
    """

    phone: str | None = None
    country: str | None = None
    operator: str | None = None
    region: str | None = None
    mcc: str | None = None
    mnc: str | None = None
    utc_offset: str | None = None


@attrs.frozen(kw_only=True)
class ReceiveNumber:
    """A dedicated number for receiving messages, available to rent (``receive_phones.php``).

    :ivar number_type: 1 or 4 for a virtual number, 2 for a number on SIM hosting
    (smscentre.com/api/http).
    :ivar monthly_cost: the rent for a full month.
    :ivar current_cost: the rent for the rest of the current month.
    :ivar info: the operator's name and the notification types it supports.
    """

    phone: str
    number_type: int | None = None
    monthly_cost: Decimal | None = None
    current_cost: Decimal | None = None
    info: str | None = None

    @property
    def is_virtual(self) -> bool:
        """True for the dedicated virtual number types (1 and 4)."""
        return self.number_type in (1, 4)


@attrs.frozen(kw_only=True)
class CallToConfirm:
    """Where the subscriber must call to confirm their number (``wait_call.php``).

    The call must come within 15 minutes (smscentre.com/api/http); it then arrives as an incoming
    message ``[waitcall]`` and as a :class:`~smscenter.models.CallConfirmation` callback.

    :ivar phone: the number the subscriber has to call.
    :ivar all_phones: every number the system might have picked (it depends on the country).
    """

    phone: str
    all_phones: tuple[str, ...] = ()


class DownloadStatus(enum.IntEnum):
    """The state of a deferred export task (``downloads.php``, smscentre.com/api/http)."""

    PENDING = 0
    RUNNING = 1
    DONE = 2
    CANCELLED = 3
    FAILED = 4

    @classmethod
    def _missing_(cls, value: object) -> DownloadStatus | None:
        member: DownloadStatus | None = unknown_member(cls, value)
        return member


@attrs.frozen(kw_only=True)
class DownloadTask:
    """A deferred export of sent messages; its CSV file can be fetched once :attr:`status` is
    :attr:`DownloadStatus.DONE`.

    :ivar created_at: when the task was created; :ivar started_at: when it ran.
    :ivar file: the name of the result file (fetch it by task id or by this name).
    """

    task_id: str
    name: str | None = None
    status: DownloadStatus = DownloadStatus.PENDING
    created_at: datetime | None = None
    started_at: datetime | None = None
    file: str | None = None

    @property
    def is_ready(self) -> bool:
        """True when the file can be downloaded."""
        return self.status is DownloadStatus.DONE


@attrs.frozen(kw_only=True)
class SenderId:
    """A sender name registered on the account (``senders.php?get=1``).

    :ivar sender_id: the provider's id of the record, when it returns one.
    :ivar status: the provider's state of the name (approval), raw, when given.
    """

    sender: str
    sender_id: str | None = None
    comment: str | None = None
    status: str | None = None


@attrs.frozen(kw_only=True)
class ContactGroup:
    """A contact group (``phones.php?get_group=1``); send to it with ``to="G<number>"``.

    :ivar group_id: the provider's id of the group.
    :ivar number: the group number used in ``G<number>`` recipients.
    """

    group_id: str
    name: str
    number: str | None = None


_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


def _strings(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v.strip())


@attrs.frozen(kw_only=True)
class ContactDetails:
    """The address book's other contact fields (phones.php ``mail``, ``fnm``, ``lnm``, ``mnm``,
    ``bd``, ``myid``, ``tags``, ``pho``), for :meth:`HTTPClient.add_contact` and
    :meth:`HTTPClient.change_contact`. ``None`` (or empty) leaves a field out.

    :ivar my_id: your own id for the contact.
    :ivar other_phones: the contact's further numbers.
    """

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    birthday: date | None = None
    my_id: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    other_phones: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    def __attrs_post_init__(self) -> None:
        if self.email is not None and not _EMAIL_RE.fullmatch(self.email):
            raise ValidationError(f"not an e-mail address: {self.email!r}")
        if self.birthday is not None and not isinstance(self.birthday, date):
            raise TypeError("birthday must be a date")
        for phone in self.other_phones:
            if not re.fullmatch(r"\+?\d{5,15}", phone):
                raise ValidationError(f"not a phone number: {phone!r}")
        for tag in self.tags:
            if "," in tag:
                raise ValidationError(f"a tag cannot contain ',': {tag!r}")


@attrs.frozen(kw_only=True)
class Contact:
    """A contact in the address book (``phones.php?get=1``)."""

    phone: str
    name: str | None = None
    group_ids: tuple[str, ...] = ()
    comment: str | None = None
    contact_id: str | None = None
    details: ContactDetails = attrs.field(factory=ContactDetails)


class GroupMove(enum.IntEnum):
    """What phones.php ``move_group`` does with a contact's groups."""

    MOVE = 1  #: the contact is in exactly the given groups afterwards
    ADD = 2  #: the given groups are added to the contact's
    REMOVE = 3  #: the given groups are taken away from the contact's


class BlacklistScope(enum.IntEnum):
    """Which sends a blacklisted number is kept from (phones.php ``type``)."""

    ALL = 0
    MASS = 1  #: mass mailings only
    SINGLE = 2  #: single messages only


@attrs.frozen(kw_only=True)
class SenderRegistration:
    """Facts about the sender's owner that senders.php takes when a name is registered or
    changed (``fio``, ``inn``, ``site``, ``email``, ``address``, ``desc``).

    :ivar owner: the company or person the name belongs to (``fio``).
    :ivar tax_id: the owner's taxpayer number, 10 or 12 digits (``inn``).
    :ivar description: what the name is used for (``desc``).
    """

    owner: str | None = None
    tax_id: str | None = None
    site: str | None = None
    email: str | None = None
    address: str | None = None
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.tax_id is not None and not re.fullmatch(r"\d{10}|\d{12}", self.tax_id):
            raise ValidationError("tax_id (INN) must be 10 or 12 digits")
        if self.email is not None and "@" not in self.email:
            raise ValidationError(f"not an e-mail address: {self.email!r}")


class MessageFormat(enum.Enum):
    """The message type a template is for (templates.php ``format``)."""

    SMS = "sms"
    FLASH = "flash"
    BINARY = "bin"
    WAP_PUSH = "push"
    MMS = "mms"
    CALL = "call"
    EMAIL = "mail"
    VIBER = "viber"


@attrs.frozen(kw_only=True)
class Template:
    """A message template (``templates.php?get=1``).

    :ivar format: the message type it is for, raw as the provider writes it (``sms``,
        ``viber``...).
    :ivar signature: used as the account's automatic signature (``fl[1]``).
    """

    template_id: str
    name: str
    text: str
    format: str | None = None
    sender: str | None = None
    signature: bool = False


class MailingRepeat(enum.IntEnum):
    """How often a mailing repeats (jobs.php ``rpt``)."""

    MANUAL = 0
    HOURLY = 1
    DAILY = 2
    WORKDAYS = 3
    WEEKENDS = 4
    WEEKLY = 5
    MONTHLY = 6
    YEARLY = 7


@attrs.frozen(kw_only=True)
class MailingResend:
    """Resend by SMS what a mailing could not deliver (jobs.php ``fl[5]=1``, ``mes2``,
    ``sender2``): a Viber or other mailing falls back to this text.

    :ivar text: the SMS variant of the text (``mes2``); ``None`` resends the same text.
    :ivar sender: the sender of the resent messages (``sender2``).
    """

    text: str | None = None
    sender: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.text is not None and not 1 <= len(self.text) <= 1000:
            raise ValidationError("a resend text is 1 to 1000 characters")
        if self.sender is not None and not re.fullmatch(r"[^\n]{1,15}", self.sender):
            raise ValidationError("a resend sender is 1 to 15 characters")


class SubClientType(enum.IntEnum):
    """How a sub-client is billed (users.php ``type``)."""

    INDEPENDENT = 0  #: its own tariff and balance
    OWN_BALANCE = 1  #: the parent's tariff, its own balance
    PARENT_BALANCE = 2  #: the parent's tariff and balance
    OWN_TARIFF = 3  #: the parent's balance, its own tariff
    EXTRA_LOGIN = 4  #: another login of the same account


@attrs.frozen(kw_only=True)
class Mailing:
    """A mailing (``jobs.php``): a bulk send the provider runs by itself.

    Only :attr:`mailing_id` is always known; the rest comes from ``get``/``get_all`` when the
    provider includes it.
    """

    mailing_id: str
    name: str | None = None
    status: str | None = None
    cost: Decimal | None = None
    text: str | None = None
    created_at: datetime | None = None
    message_id: str | None = None  #: the id of the messages the mailing sent
    phones: str | None = None  #: the recipients as the provider keeps them


@attrs.frozen(kw_only=True)
class ShortLink:
    """Click statistics of a link shortened by a send with ``tinyurl`` (``tinyurls.php``).

    :ivar link_id: the provider's id of the short link.
    :ivar url: the original address, when the answer names it.
    """

    link_id: str
    url: str | None = None
    clicks: int = 0
    clicks_this_month: int = 0
    clicks_today: int = 0
    clicks_yesterday: int = 0


@attrs.frozen(kw_only=True)
class PortedNumber:
    """A number that moved to another operator (``get_mnp.php``): its new ``mccmnc``."""

    phone: str
    mccmnc: str
