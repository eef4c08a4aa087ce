"""The simulator's records: accounts, sent and incoming messages, and its knobs.

The values :class:`~smscenter.testing._state.SimulatorState` keeps and hands out
(:class:`Account`, :class:`SentMessage`, :class:`IncomingRecord`, ...), what the transports
hand it (:class:`SendRequest`) and get back (:class:`SimSendOutcome`), the error it raises
(:class:`SimError`), its clock (:class:`ManualClock`) and :class:`Behaviour`, the knobs a test
turns. Named ``Sim*`` where a public model has the plain name: one word per concept.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

import attrs

from smscenter.testing._formats import (
    FINAL_STATUSES,
    ST_DELIVERED,
    ST_QUEUED,
    TYPE_BIN,
    TYPE_CALL,
    TYPE_FLASH,
    TYPE_HLR,
    TYPE_MAIL,
    TYPE_MMS,
    TYPE_PING,
    TYPE_PUSH,
    TYPE_SMS,
    TYPE_SOC,
    TYPE_VIBER,
    UNTYPED_KINDS,
)
from smscenter.testing._smpp_knobs import SMPPBehaviour

Clock = Callable[[], float]


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
    smpp: SMPPBehaviour = attrs.field(factory=SMPPBehaviour)

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
