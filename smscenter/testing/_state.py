"""The simulator's shared state: accounts, messages, statuses, incoming messages.

Pure logic: no I/O, no event loop. The HTTP app (and later the SMPP listener) translate wire
requests into calls on :class:`SimulatorState` and its answers back into wire formats, so a
message sent over one transport is visible over the other.

Time comes from an injectable clock (a zero-argument callable returning Unix seconds); statuses
move when :meth:`SimulatorState.poll` runs, which every request and :meth:`ManualClock`-driven
``advance`` do. Randomness (the delivery outcome mix) comes from a seeded :class:`random.Random`,
so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import attrs

from smscenter._provider import COMMENT_SEPARATOR, MOSCOW

if TYPE_CHECKING:
    from smscenter.testing._smpp_server import SMPPBehaviour

__all__ = (
    "Account",
    "Behaviour",
    "Clock",
    "SimContact",
    "SimDownloadTask",
    "HlrResult",
    "IncomingRecord",
    "SimMailing",
    "ManualClock",
    "ReceivePhone",
    "SentMessage",
    "SimError",
    "SimulatorState",
    "StatusChange",
    "count_parts",
    "format_money",
)

Clock = Callable[[], float]

# Status codes of status.php (smscentre.com/api/http).
ST_NOT_FOUND = -3
ST_QUEUED = -1
ST_TRANSMITTED = 0
ST_DELIVERED = 1
FINAL_STATUSES = frozenset({-2, 1, 2, 3, 4, 20, 22, 23, 24, 25})

# Message type numbers (callback ``type`` / ``flag`` bits 0-3, smscentre.com/api/http).
TYPE_SMS, TYPE_FLASH, TYPE_BIN, TYPE_PUSH, TYPE_HLR, TYPE_PING = 0, 1, 2, 3, 4, 5
TYPE_MMS, TYPE_CALL, TYPE_MAIL, TYPE_VIBER, TYPE_SOC = 6, 7, 8, 10, 12

#: The kind each type number stands for (the values of ``smscenter.MessageKind``).
KIND_OF_TYPE: Mapping[int, str] = {
    TYPE_SMS: "sms",
    TYPE_FLASH: "flash",
    TYPE_BIN: "binary",
    TYPE_PUSH: "wap_push",
    TYPE_HLR: "hlr",
    TYPE_PING: "ping",
    TYPE_MMS: "mms",
    TYPE_CALL: "call",
    TYPE_MAIL: "email",
    TYPE_VIBER: "viber",
    TYPE_SOC: "social",
}
#: Kinds the provider's type list (0-7, 8 e-mail, 10, 12; smscentre.com/api/http) has no number
#: for. They are billed and addressed like social-network messages, but the simulator keeps their
#: own kind and leaves ``type``/``flag`` out of its answers rather than report them as "social".
UNTYPED_KINDS = frozenset({"telegram", "bot"})

STATUS_NAMES: Mapping[int, str] = {
    -3: "Message not found",
    -2: "Stopped",
    -1: "Waiting to be sent",
    0: "Transmitted to the operator",
    1: "Delivered",
    2: "Read",
    3: "Expired",
    4: "Link clicked",
    20: "Impossible to deliver",
    22: "Invalid number",
    23: "Prohibited",
    24: "Insufficient funds",
    25: "Number unavailable",
}


class SimError(Exception):
    """A provider error answer: ``code`` (1..11), short English ``text``, optional message id."""

    def __init__(self, code: int, text: str, message_id: int | None = None) -> None:
        super().__init__(code, text, message_id)
        self.code = code
        self.text = text
        self.message_id = message_id


@attrs.define
class ManualClock:
    """A clock that only moves when told to: ``clock()`` returns :attr:`now`.

    :param now: the starting Unix time (defaults to the wall clock at creation).
    """

    now: float = attrs.field(factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds


@attrs.define
class Behaviour:
    """Mutable knobs that shape how the simulated provider answers.

    :ivar latency: seconds added to every HTTP request (while it counts as in flight).
    :ivar transmit_delay: seconds from sending (or the scheduled time) to status 0.
    :ivar delivery_delay: seconds from sending (or the scheduled time) to the final status.
    :ivar outcomes: the final outcome mix, ``{(status, err): weight}``; drawn with the seeded
        random generator, so a run is reproducible.
    :ivar phone_outcomes: ``{phone: (status, err)}`` forcing the outcome for given numbers.
    :ivar undeliverable_phones: numbers refused at send time with error 8.
    :ivar forbidden_words: texts containing any of these are refused with error 6.
    :ivar check_senders: refuse (error 6) senders that are not registered on the account.
    :ivar concurrency_limit: the provider refuses (error 9) once this many requests of one login
        are in flight (15 on the real service).
    :ivar duplicate_window: seconds during which an identical send is refused with error 9
        (60 on the real service; 0 turns duplicate refusal off).
    :ivar rate_limits: also apply the other per-minute limits of the reference (balance > 10/min,
        status > 5/min per message, get.php > 3 identical/min ...). Off by default so tests that
        poll do not trip over them.
    :ivar prices: price of one SMS part (or one message) per message type number.
    :ivar forced_errors: ``{endpoint: deque of error codes}`` answered by the next requests of
        that endpoint (``"send"``, ``"status"``, ... or ``"*"`` for any); see
        :meth:`fail_next`.
    :ivar empty_responses: answer this many next requests with an empty 200 body.
    :ivar drop_connections: cut the connection of this many next requests without an answer.
    :ivar lose_answers: handle this many next requests fully (a send is stored and billed), then
        cut the connection instead of answering: the case where a client cannot know whether
        its send went through.
    :ivar fault_endpoint: limit ``empty_responses``, ``drop_connections`` and ``lose_answers``
        to one endpoint (``"send"``, ...); ``None`` applies them to whichever request comes.
    :ivar smpp: the SMPP half's knobs and faults (:class:`~smscenter.testing.SMPPBehaviour`).
    """

    latency: float = 0.0
    transmit_delay: float = 1.0
    delivery_delay: float = 5.0
    outcomes: dict[tuple[int, int], float] = attrs.field(factory=lambda: {(1, 0): 1.0})
    phone_outcomes: dict[str, tuple[int, int]] = attrs.field(factory=dict)
    undeliverable_phones: set[str] = attrs.field(factory=set)
    forbidden_words: set[str] = attrs.field(factory=set)
    check_senders: bool = False
    concurrency_limit: int = 15
    duplicate_window: float = 60.0
    rate_limits: bool = False
    prices: dict[int, Decimal] = attrs.field(
        factory=lambda: {
            TYPE_SMS: Decimal("2.5"),
            TYPE_FLASH: Decimal("2.5"),
            TYPE_BIN: Decimal("2.5"),
            TYPE_PUSH: Decimal("2.5"),
            TYPE_HLR: Decimal("0.5"),
            TYPE_PING: Decimal("0.3"),
            TYPE_MMS: Decimal("9.5"),
            TYPE_CALL: Decimal("1.2"),
            TYPE_MAIL: Decimal("0.05"),
            TYPE_VIBER: Decimal("1.1"),
            TYPE_SOC: Decimal("1.1"),
        }
    )
    forced_errors: dict[str, deque[int]] = attrs.field(factory=dict)
    empty_responses: int = 0
    drop_connections: int = 0
    lose_answers: int = 0
    fault_endpoint: str | None = None
    smpp: SMPPBehaviour = attrs.field(factory=lambda: _smpp_behaviour())

    def fault_applies(self, endpoint: str) -> bool:
        """Whether the counted faults apply to a request of ``endpoint``."""
        return self.fault_endpoint is None or self.fault_endpoint == endpoint

    def fail_next(self, endpoint: str, code: int, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``endpoint`` with provider error ``code``.

        :param endpoint: ``"send"``, ``"status"``, ``"balance"``, ``"get"``, ``"info"``, ...
            (the script name without ``.php``), or ``"*"`` for whichever request comes next.
        """
        self.forced_errors.setdefault(endpoint, deque()).extend([code] * count)

    def take_forced_error(self, endpoint: str) -> int | None:
        """Pop the next forced error for ``endpoint`` (used by the transports)."""
        for key in (endpoint, "*"):
            queue = self.forced_errors.get(key)
            if queue:
                return queue.popleft()
        return None


def _smpp_behaviour() -> SMPPBehaviour:
    # Imported late: the SMPP half imports this module.
    from smscenter.testing._smpp_server import SMPPBehaviour

    return SMPPBehaviour()


@attrs.frozen(kw_only=True)
class HlrResult:
    """What an HLR lookup answers (field names as in the provider's callback,
    smscentre.com/api/http)."""

    imsi: str = ""
    msc: str = ""
    mcc: str = ""
    mnc: str = ""
    cn: str = ""
    net: str = ""
    rcn: str = ""
    rnet: str = ""

    def as_dict(self) -> dict[str, str]:
        """The fields as a flat mapping."""
        return attrs.asdict(self)


@attrs.define(kw_only=True)
class SentMessage:
    """One message to one recipient, as the provider stores it.

    ``id`` is shared by all recipients of one send; the provider looks a status up by id + phone.

    :ivar origin: an opaque tag of whoever submitted it (``"http"``, or the SMPP listener's own
        object), so a transport can pick out the receipts it owes.
    """

    id: int
    login: str
    phone: str
    text: str
    comment: str | None = None
    sender: str | None = None
    type: int = TYPE_SMS
    parts: int = 1
    cost: Decimal = Decimal(0)
    submitted_at: float
    start_at: float
    transport: str = "http"
    origin: object = None
    client_id: str | None = None
    status: int = ST_QUEUED
    err: int = 0
    changed_at: float
    transmit_at: float = 0.0
    final_at: float = 0.0
    expires_at: float | None = None
    final_status: int = ST_DELIVERED
    final_err: int = 0
    hlr: HlrResult | None = None
    deleted: bool = False
    receipt_requested: bool = True
    flag: int = 0
    job_id: int | None = None
    #: A binary message's bytes as received (``None`` for text messages).
    payload: bytes | None = None
    #: What was sent, as a ``MessageKind`` value (``"telegram"``, ``"bot"``, ``"binary"``...):
    #: more precise than ``type`` where the provider has no type number.
    kind: str = "sms"

    @property
    def reported_type(self) -> int | None:
        """The ``type`` the provider's answers carry; ``None`` for a kind without a number."""
        return None if self.kind in UNTYPED_KINDS else self.type

    @property
    def is_final(self) -> bool:
        """True once the status will not change again."""
        return self.status in FINAL_STATUSES


@attrs.frozen(kw_only=True)
class StatusChange:
    """A status transition, passed to subscribers."""

    message: SentMessage
    old_status: int
    new_status: int
    at: float


@attrs.frozen(kw_only=True)
class IncomingRecord:
    """An incoming SMS (or a ``[waitcall]`` call record) waiting in an account's inbox."""

    id: int
    login: str
    phone: str
    text: str
    to_phone: str
    received_at: float
    sent_at: float
    answer_to: int | None = None
    smsc: str = ""


@attrs.define(kw_only=True)
class ReceivePhone:
    """A dedicated receive number (receive_phones.php)."""

    phone: str
    type: int = 1
    cost: Decimal = Decimal("500")
    info: str = "MTS, SMS"
    owner: str | None = None
    noprolong: bool = False


@attrs.define(kw_only=True)
class SimDownloadTask:
    """A deferred export task (downloads.php). ``content`` is the CSV file once done."""

    id: int
    name: str
    status: int = 2
    created_at: float
    started_at: float
    file: str
    content: bytes = b""


@attrs.define(kw_only=True)
class SimContact:
    """A phone book entry (phones.php)."""

    id: int
    phone: str
    name: str = ""
    groups: set[int] = attrs.field(factory=set)
    comment: str = ""
    #: The other phones.php fields as sent (``mail``, ``fnm``, ``lnm``, ``bd``, ``tags``...).
    fields: dict[str, str] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class SimMailing:
    """A mailing (jobs.php)."""

    id: int
    name: str
    message_id: int | None
    created_at: float
    status: str = "active"
    cost: Decimal = Decimal(0)
    phones: str = ""
    text: str = ""
    #: jobs.php creation options as sent (``rpt``, ``rptn``, ``fl[5]``, ``mes2``, ``sender2``,
    #: ``tpl``).
    options: dict[str, str] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class Account:
    """A simulated customer account. Money is :class:`~decimal.Decimal`."""

    login: str
    password: str
    api_key: str | None = None
    balance: Decimal = Decimal("1000")
    currency: str = "RUR"
    credit: Decimal | None = None
    debit: Decimal = Decimal(0)
    senders: dict[int, str] = attrs.field(factory=dict)
    sender_codes: dict[str, str] = attrs.field(factory=dict)
    contacts: dict[int, SimContact] = attrs.field(factory=dict)
    groups: dict[int, str] = attrs.field(factory=dict)
    blacklist: set[str] = attrs.field(factory=set)
    downloads: dict[int, SimDownloadTask] = attrs.field(factory=dict)
    jobs: dict[int, SimMailing] = attrs.field(factory=dict)
    mega_accounts: list[dict[str, object]] = attrs.field(factory=list)
    #: senders.php comment and registration fields per sender id.
    sender_info: dict[int, dict[str, str]] = attrs.field(factory=dict)
    #: Blacklisted number -> scope (phones.php ``type``: 0 all, 1 mass, 2 single).
    blacklist_scope: dict[str, int] = attrs.field(factory=dict)
    #: templates.php records by id: ``name``, ``msg``, ``format``, ``sender``, ``fl[1]``.
    templates: dict[int, dict[str, str]] = attrs.field(factory=dict)
    #: The login of the reseller account a sub-client was made by (users.php), if any.
    parent: str | None = None
    #: users.php fields of a sub-client as sent (``type``, ``email``, ``phone``...).
    client_fields: dict[str, str] = attrs.field(factory=dict)
    #: Links shortened by ``tinyurl`` sends (tinyurls.php): id -> ``link`` and click counters.
    short_links: dict[int, dict[str, object]] = attrs.field(factory=dict)
    #: Event-notification groups (ping.php ``id``) and the events sent to them.
    ping_groups: set[int] = attrs.field(factory=lambda: {1})
    ping_events: list[dict[str, str]] = attrs.field(factory=list)

    @property
    def password_md5(self) -> str:
        """The lowercase hex MD5 of the password, accepted in ``psw`` instead of it."""
        return hashlib.md5(self.password.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Account(login={self.login!r}, balance={self.balance})"


# GSM 03.38 default alphabet and its extension table (extension characters take two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = frozenset("^{}\\[~]|€\f")


def split_comment(text: str) -> tuple[str, str | None]:
    """Split off the ``\\n~~~\\n`` comment suffix, which is stored but neither sent nor billed."""
    body, sep, comment = text.partition(COMMENT_SEPARATOR)
    return (body, comment) if sep else (text, None)


def count_parts(text: str, *, latin: bool | None = None) -> int:
    """How many SMS parts the provider bills for ``text`` (comment already removed).

    160 GSM characters (extension characters count twice) or 70 UCS-2 characters fit one SMS;
    a longer text is split into parts of 153 / 67 (the rest is the concatenation header).

    :param latin: force the 7-bit (True) or UCS-2 (False) count, e.g. after transliteration.
    """
    if latin is None:
        latin = all(c in _GSM_BASIC or c in _GSM_EXT for c in text)
    if latin:
        length = sum(2 if c in _GSM_EXT else 1 for c in text)
        single, part = 160, 153
    else:
        length = len(text)
        single, part = 70, 67
    if length <= single:
        return 1
    return math.ceil(length / part)


def truncate_to_parts(text: str, max_parts: int) -> str:
    """Cut ``text`` so that it fits ``max_parts`` parts (the provider's ``maxsms``)."""
    while text and count_parts(text) > max_parts:
        latin = all(c in _GSM_BASIC or c in _GSM_EXT for c in text)
        limit = (160 if latin else 70) if max_parts == 1 else (153 if latin else 67) * max_parts
        text = text[: min(len(text) - 1, limit)]
    return text


def format_money(amount: Decimal) -> str:
    """Money the way the provider writes it: ``"4.1"``, ``"83.6"``, ``"1871.62"``, ``"4.0"``."""
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text[:-1] if text.endswith("0") else text


def format_date(ts: float, *, with_year4: bool = True) -> str:
    """``DD.MM.YYYY hh:mm:ss`` in the account's (Moscow) time zone."""
    fmt = "%d.%m.%Y %H:%M:%S" if with_year4 else "%d.%m.%y %H:%M:%S"
    return datetime.fromtimestamp(ts, MOSCOW).strftime(fmt)


_PHONE_RE = re.compile(r"\+?\d{10,15}")
_SEPARATORS = re.compile(r"[\s()\-]")


def normalize_phone(raw: str) -> str | None:
    """The digits of a phone number, or ``None`` when it is not a valid international number."""
    candidate = _SEPARATORS.sub("", raw)
    if not _PHONE_RE.fullmatch(candidate):
        return None
    digits = candidate.lstrip("+")
    # The provider corrects a Russian trunk prefix 8 when no "+" is given.
    if not candidate.startswith("+") and len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


_EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")

# A few operators for operator lookup and HLR: prefix -> (country, operator, region, mcc, mnc, tz).
OPERATORS: tuple[tuple[str, tuple[str, str, str, str, str, str]], ...] = (
    ("7916", ("Russia", "MTS", "Moscow", "250", "01", "3")),
    ("7925", ("Russia", "MegaFon", "Moscow", "250", "02", "3")),
    ("7926", ("Russia", "MegaFon", "Moscow", "250", "02", "3")),
    ("7903", ("Russia", "Beeline", "Moscow", "250", "99", "3")),
    ("7905", ("Russia", "Beeline", "Moscow", "250", "99", "3")),
    ("7900", ("Russia", "Tele2", "Moscow", "250", "20", "3")),
    ("7977", ("Russia", "Tele2", "Moscow", "250", "20", "3")),
    ("77", ("Kazakhstan", "Kcell", "Almaty", "401", "02", "6")),
    ("7", ("Russia", "MTS", "Moscow", "250", "01", "3")),
    ("380", ("Ukraine", "Kyivstar", "Kyiv", "255", "03", "2")),
    ("375", ("Belarus", "A1", "Minsk", "257", "01", "3")),
    ("1", ("USA", "T-Mobile", "", "310", "260", "-5")),
    ("44", ("United Kingdom", "Vodafone", "", "234", "15", "0")),
    ("49", ("Germany", "Telekom", "", "262", "01", "1")),
)


def lookup_operator(phone: str) -> tuple[str, str, str, str, str, str] | None:
    """(country, operator, region, mcc, mnc, tz) for a normalized phone, or ``None``."""
    for prefix, info in OPERATORS:
        if phone.startswith(prefix):
            return info
    return None


@attrs.frozen(kw_only=True)
class SendRequest:
    """A send as the transports hand it to :meth:`SimulatorState.send` (already decoded).

    :ivar phones: recipients as given (numbers, e-mail addresses, ``G<n>`` groups).
    :ivar text: the text, comment suffix included (the state splits it off).
    :ivar fingerprint: what makes two sends "identical" for duplicate refusal (the HTTP app
        uses the request's whole parameter set); ``None`` disables the check for this send.
    :ivar start_at: the scheduled time (Unix seconds), ``None`` to send now.
    :ivar price_only: ``cost=1``: price it, store and charge nothing.
    """

    phones: tuple[str, ...]
    text: str
    type: int = TYPE_SMS
    sender: str | None = None
    client_id: str | None = None
    translit: int = 0
    max_parts: int | None = None
    start_at: float | None = None
    valid_seconds: float | None = None
    fingerprint: object = None
    price_only: bool = False
    transport: str = "http"
    origin: object = None
    receipt_requested: bool = True
    hex_binary: bool = False
    #: A binary message's bytes as the provider received them (``None`` for text messages).
    payload: bytes | None = None
    #: The ``MessageKind`` value when it says more than ``type`` (Telegram, bot); ``None``:
    #: the kind of ``type``.
    kind: str | None = None


@attrs.frozen(kw_only=True)
class SimRecipientOutcome:
    """Per-recipient result of a send (``op=1``)."""

    phone: str
    cost: Decimal
    status: int
    err: int
    mccmnc: str


@attrs.frozen(kw_only=True)
class SimSendOutcome:
    """What a send produced: the id, parts billed, total cost, new balance and per-phone rows."""

    id: int
    parts: int
    cost: Decimal
    balance: Decimal
    recipients: tuple[SimRecipientOutcome, ...]
    messages: tuple[SentMessage, ...]


@attrs.define
class SimulatorState:
    """Everything the simulated provider knows. Not thread-safe: use it from one event loop.

    :param clock: returns the current Unix time; a :class:`ManualClock` makes runs deterministic.
    :param seed: seeds the generator that draws delivery outcomes.
    """

    clock: Clock = attrs.field(factory=ManualClock)
    seed: int = 0
    behaviour: Behaviour = attrs.field(factory=Behaviour)
    accounts: dict[str, Account] = attrs.field(factory=dict)
    messages: dict[tuple[int, str], SentMessage] = attrs.field(factory=dict)
    incoming: list[IncomingRecord] = attrs.field(factory=list)
    receive_phones: dict[str, ReceivePhone] = attrs.field(factory=dict)
    wait_calls: dict[tuple[str, str], float] = attrs.field(factory=dict)
    wait_call_numbers: list[str] = attrs.field(factory=lambda: ["74950000001", "74950000002"])
    hlr_results: dict[str, HlrResult] = attrs.field(factory=dict)
    #: get_mnp.php: ``(dd.mm.yyyy, phone, new mccmnc)`` of ported numbers.
    ported: list[tuple[str, str, str]] = attrs.field(factory=list)
    _rng: random.Random = attrs.field(init=False)
    _next_id: int = attrs.field(init=False, default=1)
    _next_incoming: int = attrs.field(init=False, default=1)
    _next_misc: int = attrs.field(init=False, default=1)
    _timeline: list[tuple[float, int, tuple[int, str]]] = attrs.field(init=False, factory=list)
    _seq: int = attrs.field(init=False, default=0)
    _hits: dict[tuple[str, object], deque[float]] = attrs.field(init=False, factory=dict)
    _recent: dict[tuple[str, object], deque[float]] = attrs.field(init=False, factory=dict)
    _status_subscribers: list[Callable[[StatusChange], None]] = attrs.field(
        init=False, factory=list
    )
    _incoming_subscribers: list[Callable[[IncomingRecord], None]] = attrs.field(
        init=False, factory=list
    )
    _client_ids: dict[tuple[str, str], int] = attrs.field(init=False, factory=dict)
    _by_id: dict[tuple[str, int], list[str]] = attrs.field(init=False, factory=dict)
    _order: list[tuple[int, str]] = attrs.field(init=False, factory=list)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        for n in range(1, 4):
            phone = f"7900555000{n}"
            self.receive_phones[phone] = ReceivePhone(phone=phone, type=1 if n != 2 else 2)

    def now(self) -> float:
        """The current simulated Unix time."""
        return self.clock()

    # ---- accounts --------------------------------------------------------------------------

    def add_account(
        self,
        login: str,
        password: str,
        *,
        api_key: str | None = None,
        balance: Decimal = Decimal("1000"),
    ) -> Account:
        """Create (or replace) an account."""
        account = Account(login=login, password=password, api_key=api_key, balance=balance)
        self.accounts[login] = account
        return account

    def account(self, login: str) -> Account:
        """The account ``login``; :class:`KeyError` when there is none."""
        return self.accounts[login]

    def login_for_api_key(self, api_key: str) -> str | None:
        """Which login an API key belongs to."""
        for account in self.accounts.values():
            if account.api_key is not None and account.api_key == api_key:
                return account.login
        return None

    def authenticate(self, login: str | None, psw: str | None, api_key: str | None) -> Account:
        """Check credentials the way the provider does (plain password, its MD5, or API key).

        :raises SimError: code 2 when they do not match an account.
        """
        if api_key:
            found = self.login_for_api_key(api_key)
            if found is not None:
                return self.accounts[found]
        elif login and psw:
            account = self.accounts.get(login)
            if account is not None and psw in (account.password, account.password_md5):
                return account
        raise SimError(2, "authorise error")

    def check_password(self, login: str, password: str) -> Account:
        """Plain login + password only (what an SMPP bind carries; no MD5, no API key).

        :raises SimError: code 2 when they do not match.
        """
        account = self.accounts.get(login)
        if account is None or account.password != password:
            raise SimError(2, "authorise error")
        return account

    def set_balance(self, login: str, amount: Decimal) -> None:
        """Set the balance; an increase is recorded as income (``debit`` in get_stat)."""
        account = self.accounts[login]
        if amount > account.balance:
            account.debit += amount - account.balance
        account.balance = Decimal(amount)

    # ---- rate limits -----------------------------------------------------------------------

    def hit(self, login: str, key: object, limit: int, window: float = 60.0) -> bool:
        """Record a request; False when more than ``limit`` of them came within ``window`` s."""
        now = self.now()
        times = self._hits.setdefault((login, key), deque())
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        return True

    def check_duplicate(self, login: str, key: object, limit: int = 1) -> None:
        """Refuse (error 9) when ``limit`` requests with this key were accepted within the
        duplicate window (:attr:`Behaviour.duplicate_window`; the provider uses one minute)."""
        window = self.behaviour.duplicate_window
        if window <= 0:
            return
        now = self.now()
        times = self._recent.get((login, key))
        if times is None:
            return
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            raise SimError(9, "duplicate request, wait a minute")

    def remember(self, login: str, key: object) -> None:
        """Record an accepted request for :meth:`check_duplicate`."""
        if self.behaviour.duplicate_window > 0:
            self._recent.setdefault((login, key), deque()).append(self.now())

    # ---- sending ---------------------------------------------------------------------------

    def allocate_id(self) -> int:
        """A fresh provider message id."""
        new = self._next_id
        self._next_id += 1
        return new

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

    # ---- time and statuses -----------------------------------------------------------------

    def _schedule(self, at: float, key: tuple[int, str]) -> None:
        self._seq += 1
        heapq.heappush(self._timeline, (at, self._seq, key))

    def _status_due(self, message: SentMessage, now: float) -> tuple[int, int, float]:
        if message.is_final:
            return message.status, message.err, message.changed_at
        expires = message.expires_at
        if expires is not None and now >= expires and expires < message.final_at:
            return 3, 0, expires
        if now >= message.final_at:
            return message.final_status, message.final_err, message.final_at
        if now >= message.transmit_at:
            return ST_TRANSMITTED, 0, message.transmit_at
        return message.status, message.err, message.changed_at

    def poll(self) -> list[StatusChange]:
        """Apply every status change due by now; tell the subscribers; return the changes."""
        now = self.now()
        changes: list[StatusChange] = []
        while self._timeline and self._timeline[0][0] <= now:
            at, _seq, key = heapq.heappop(self._timeline)
            message = self.messages.get(key)
            if message is None or message.is_final:
                continue
            status, err, changed = self._status_due(message, at)
            if status == message.status:
                continue
            change = StatusChange(
                message=message, old_status=message.status, new_status=status, at=changed
            )
            message.status, message.err, message.changed_at = status, err, changed
            changes.append(change)
        for change in changes:
            for callback in list(self._status_subscribers):
                callback(change)
        return changes

    def expire(self, message: SentMessage) -> None:
        """Mark a message expired (status 3) now, as when its lifetime (``valid``) runs out."""
        if message.is_final:
            return
        old = message.status
        message.status, message.err, message.changed_at = 3, 0, self.now()
        change = StatusChange(message=message, old_status=old, new_status=3, at=message.changed_at)
        for callback in list(self._status_subscribers):
            callback(change)

    def find(self, login: str, message_id: str | int, phone: str | None) -> SentMessage | None:
        """Look up a message by id (or the client's string id) and phone, as status.php does."""
        self.poll()
        if isinstance(message_id, str):
            if message_id.isdigit():
                numeric = int(message_id)
            elif (login, message_id) in self._client_ids:
                numeric = self._client_ids[(login, message_id)]
            else:
                return None
        else:
            numeric = message_id
        phones = self._by_id.get((login, numeric))
        if not phones:
            return None
        if phone is None:
            candidate = phones[-1]
        else:
            norm = normalize_phone(phone) or phone.strip()
            if norm not in phones:
                return None
            candidate = norm
        message = self.messages.get((numeric, candidate))
        if message is None or message.deleted:
            return None
        return message

    def delete(self, message: SentMessage) -> None:
        """Delete a message (``status.php?del=1``): it is no longer found."""
        message.deleted = True

    def sent_messages(self, login: str | None = None) -> list[SentMessage]:
        """Every stored message (optionally of one login), oldest first."""
        self.poll()
        out = [self.messages[k] for k in self._order if k in self.messages]
        return [m for m in out if login is None or m.login == login]

    # ---- subscribers (for the SMPP half and for tests) --------------------------------------

    def subscribe_status(self, callback: Callable[[StatusChange], None]) -> Callable[[], None]:
        """Call ``callback`` on every status change; returns a function that unsubscribes.

        The callback runs synchronously inside :meth:`poll`; it must not block (an SMPP
        listener would put the change on its own queue).
        """
        self._status_subscribers.append(callback)
        return lambda: self._status_subscribers.remove(callback)

    def subscribe_incoming(self, callback: Callable[[IncomingRecord], None]) -> Callable[[], None]:
        """Call ``callback`` for every incoming message injected; returns an unsubscriber."""
        self._incoming_subscribers.append(callback)
        return lambda: self._incoming_subscribers.remove(callback)

    # ---- incoming --------------------------------------------------------------------------

    def inject_incoming(
        self,
        login: str,
        phone: str,
        text: str,
        *,
        to_phone: str = "",
        answer_to: int | None = None,
        sent_at: float | None = None,
    ) -> IncomingRecord:
        """Store an incoming SMS for ``login`` and tell the incoming subscribers."""
        self.accounts[login]  # KeyError for an unknown login: fail loudly in tests
        now = self.now()
        record = IncomingRecord(
            id=self._next_incoming,
            login=login,
            phone=normalize_phone(phone) or phone,
            text=text,
            to_phone=normalize_phone(to_phone) or to_phone,
            received_at=now,
            sent_at=now if sent_at is None else sent_at,
            answer_to=answer_to,
        )
        self._next_incoming += 1
        self.incoming.append(record)
        for callback in list(self._incoming_subscribers):
            callback(record)
        return record

    def answers(
        self, login: str, *, hours: float = 24, after_id: int | None = None
    ) -> list[IncomingRecord]:
        """Incoming messages of the last ``hours`` (or after ``after_id``), newest first."""
        now = self.now()
        rows = [r for r in self.incoming if r.login == login]
        if after_id is not None:
            rows = [r for r in rows if r.id > after_id]
        else:
            rows = [r for r in rows if r.received_at >= now - hours * 3600]
        return sorted(rows, key=lambda r: r.id, reverse=True)

    # ---- misc records ----------------------------------------------------------------------

    def next_misc_id(self) -> int:
        """A fresh id for contacts, groups, senders, jobs and download tasks."""
        new = self._next_misc
        self._next_misc += 1
        return new

    def add_download_task(
        self, login: str, name: str, *, status: int = 2, content: bytes | None = None
    ) -> SimDownloadTask:
        """Add a deferred export task; a finished one without content gets a CSV of the
        account's sent messages."""
        account = self.accounts[login]
        now = self.now()
        task_id = self.next_misc_id()
        if content is None:
            lines = ["id;phone;status;cost;send_date;message"]
            for m in self.sent_messages(login):
                text = m.text.replace(";", ",").replace("\n", " ")
                lines.append(
                    f"{m.id};{m.phone};{m.status};{format_money(m.cost)};"
                    f"{format_date(m.submitted_at)};{text}"
                )
            content = ("\r\n".join(lines) + "\r\n").encode()
        task = SimDownloadTask(
            id=task_id,
            name=name,
            status=status,
            created_at=now,
            started_at=now,
            file=f"{name}.csv",
            content=content,
        )
        account.downloads[task_id] = task
        return task

    def register_wait_call(self, login: str, phone: str) -> str:
        """Start a confirm-by-call: the number the subscriber must call within 15 minutes."""
        number = self.wait_call_numbers[0]
        self.wait_calls[(login, phone)] = self.now()
        return number

    def simulate_call(self, login: str, phone: str) -> IncomingRecord:
        """The subscriber calls back: logged as an incoming ``[waitcall] `` message
        (smscentre.com/api/http).

        :raises KeyError: when no confirm-by-call is pending for the phone (or it is older than
            15 minutes).
        """
        norm = normalize_phone(phone) or phone
        started = self.wait_calls.pop((login, norm))
        if self.now() - started > 15 * 60:
            raise KeyError(phone)
        return self.inject_incoming(login, norm, "[waitcall] ", to_phone=self.wait_call_numbers[0])


def parse_schedule(value: str, now: float, tz_hours: float = 0.0) -> float | None:
    """Decode send.php ``time`` into Unix seconds (``None`` = now).

    Forms (smscentre.com/api/http, send.php): ``DDMMYYhhmm``, ``DD.MM.YY hh:mm``, ``h1-h2`` hour
    window, ``0<unix ts>``, ``+<minutes>``, ``0``. ``tz`` is hours relative to Moscow.

    :raises SimError: code 5 for anything else.
    """
    value = value.strip()
    zone = timezone(timedelta(hours=3 + tz_hours))
    if value in ("", "0"):
        return None
    if value.startswith("+"):
        if value[1:].isdigit():
            return now + int(value[1:]) * 60
        raise SimError(5, "invalid time format")
    if value.startswith("0") and value.isdigit() and len(value) > 2:
        return float(int(value[1:]))
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value)
    if match:
        h1, h2 = int(match[1]), int(match[2])
        if not (0 <= h1 <= 24 and 0 <= h2 <= 24):
            raise SimError(5, "invalid time format")
        local = datetime.fromtimestamp(now, zone)
        if h1 <= local.hour < h2:
            return None
        start = local.replace(hour=h1 % 24, minute=0, second=0, microsecond=0)
        if local.hour >= h2:
            start += timedelta(days=1)
        return start.timestamp()
    for pattern in ("%d%m%y%H%M", "%d.%m.%y %H:%M", "%d.%m.%Y %H:%M"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=zone).timestamp()
    raise SimError(5, "invalid time format")


def parse_validity(value: str) -> float:
    """Decode ``valid`` (1..24 hours or ``hh:mm`` from 00:01 to 24:00) into seconds.

    :raises SimError: code 1 when out of range.
    """
    value = value.strip()
    if value.isdigit() and 1 <= int(value) <= 24:
        return int(value) * 3600.0
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match:
        seconds = int(match[1]) * 3600 + int(match[2]) * 60
        if 60 <= seconds <= 24 * 3600 and int(match[2]) < 60:
            return float(seconds)
    raise SimError(1, "invalid valid value")
