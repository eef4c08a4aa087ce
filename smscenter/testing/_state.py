"""The simulator's shared state: accounts, messages, statuses, incoming messages.

Pure logic: no I/O, no event loop. The HTTP app (and later the SMPP listener) translate wire
requests into calls on :class:`SimulatorState` and its answers back into wire formats, so a
message sent over one transport is visible over the other.

The state's records (:mod:`smscenter.testing._records`), the provider's codes and formats
(:mod:`smscenter.testing._formats`) and its sending half (:mod:`smscenter.testing._sending`)
live beside it; the records and formats are re-exported here, so the transports read one
namespace (``_state as st``).

Time comes from an injectable clock (a zero-argument callable returning Unix seconds); statuses
move when :meth:`SimulatorState.poll` runs, which every request and :meth:`ManualClock`-driven
``advance`` do. Randomness (the delivery outcome mix) comes from a seeded :class:`random.Random`,
so a run is reproducible.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable
from decimal import Decimal

import attrs

from smscenter.testing._formats import (
    FINAL_STATUSES,
    KIND_OF_TYPE,
    OPERATORS,
    ST_DELIVERED,
    ST_NOT_FOUND,
    ST_QUEUED,
    ST_TRANSMITTED,
    STATUS_NAMES,
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
    SimError,
    count_parts,
    format_date,
    format_money,
    lookup_operator,
    normalize_phone,
    parse_schedule,
    parse_validity,
    split_comment,
    truncate_to_parts,
)
from smscenter.testing._records import (
    Account,
    Behaviour,
    Clock,
    HlrResult,
    IncomingRecord,
    ManualClock,
    ReceivePhone,
    SendRequest,
    SentMessage,
    SimContact,
    SimDownloadTask,
    SimMailing,
    SimRecipientOutcome,
    SimSendOutcome,
    StatusChange,
)
from smscenter.testing._sending import SendingState

__all__ = (
    "Account",
    "Behaviour",
    "Clock",
    "FINAL_STATUSES",
    "HlrResult",
    "IncomingRecord",
    "KIND_OF_TYPE",
    "ManualClock",
    "OPERATORS",
    "ReceivePhone",
    "STATUS_NAMES",
    "ST_DELIVERED",
    "ST_NOT_FOUND",
    "ST_QUEUED",
    "ST_TRANSMITTED",
    "SendRequest",
    "SentMessage",
    "SimContact",
    "SimDownloadTask",
    "SimError",
    "SimMailing",
    "SimRecipientOutcome",
    "SimSendOutcome",
    "SimulatorState",
    "StatusChange",
    "TYPE_BIN",
    "TYPE_CALL",
    "TYPE_FLASH",
    "TYPE_HLR",
    "TYPE_MAIL",
    "TYPE_MMS",
    "TYPE_PING",
    "TYPE_PUSH",
    "TYPE_SMS",
    "TYPE_SOC",
    "TYPE_VIBER",
    "UNTYPED_KINDS",
    "count_parts",
    "format_date",
    "format_money",
    "lookup_operator",
    "normalize_phone",
    "parse_schedule",
    "parse_validity",
    "split_comment",
    "truncate_to_parts",
)


@attrs.define
class SimulatorState(SendingState):
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

    # ---- sending (the rest is SendingState's) ---------------------------------------------

    def allocate_id(self) -> int:
        """A fresh provider message id."""
        new = self._next_id
        self._next_id += 1
        return new

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
