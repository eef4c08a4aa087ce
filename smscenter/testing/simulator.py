""":class:`SMSCSimulator`: the simulated provider, served on a real local port.

The HTTP half runs :class:`~smscenter.testing._http_app.SimulatorApp` under uvicorn on a socket
bound to 127.0.0.1 before the server starts, so the port is known (and reserved) at once.
Everything the simulator starts lives in one anyio task group that is closed when the ``async
with`` block ends: no server, task or socket outlives it.

uvicorn runs on asyncio only, so the simulator needs the asyncio backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import sys
from collections.abc import Callable, Coroutine, Generator, Iterator
from decimal import Decimal
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import uvicorn

from smscenter.config import Credentials
from smscenter.testing._http_app import RequestRecord, RequestStats, SimulatorApp
from smscenter.testing._smpp_server import SMPPServer
from smscenter.testing._state import (
    Account,
    Behaviour,
    Clock,
    HlrResult,
    IncomingRecord,
    ManualClock,
    SentMessage,
    SimDownloadTask,
    SimulatorState,
    normalize_phone,
)

__all__ = ("SMSCSimulator",)

logger = logging.getLogger(__name__)

DEFAULT_LOGIN = "demo"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_API_KEY = "demo-api-key"
DEFAULT_SMPP_PASSWORD = "demo-pw"


class _Server(uvicorn.Server):
    """uvicorn's server without signal handling (the test runner owns the signals)."""

    def __init__(self, config: uvicorn.Config, started: anyio.Event) -> None:
        super().__init__(config)
        self._started_event = started

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._started_event.set()


class SMSCSimulator:
    """A simulated SMS Center provider for tests and demos, serving the HTTP API on 127.0.0.1.

    >>> async with SMSCSimulator() as sim:                     # doctest: +SKIP
    ...     async with HTTPClient(sim.credentials, base_url=sim.base_url) as client:
    ...         result = await client.send(Message(to="+79991234567", text="hi"))
    ...     sim.advance(10)                                     # statuses move on

    :param host: the address to listen on (keep it on loopback).
    :param http_port: the port; 0 picks a free one (see :attr:`base_url`).
    :param clock: returns the simulated Unix time. By default a :class:`ManualClock` that only
        moves with :meth:`advance`, so status changes are deterministic. Pass ``time.time`` to
        let statuses progress in real time.
    :param seed: seeds the random draw of delivery outcomes.
    :param behaviour: the initial knobs (:class:`Behaviour`); also reachable as
        :attr:`behaviour` and changeable at any time.
    :param login: login of the default account; :param password: its password;
    :param api_key: its API key; :param balance: its starting balance.
    :param smpp: also serve SMPP 3.4 (the SMSC side, see :attr:`smpp_host` / :attr:`smpp_port`
        and :attr:`smpp`), sharing accounts, messages and balance with the HTTP half.
    :param smpp_port: its port; 0 picks a free one.
    :param smpp_password: the default account's SMPP access password (SMPP allows at most 8
        characters; see :attr:`smpp_credentials`).
    :param smpp_ssl_context: serve SMPP over TLS with this server context (the provider's port
        3443 speaks TLS).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        http_port: int = 0,
        clock: Clock | None = None,
        seed: int = 0,
        behaviour: Behaviour | None = None,
        login: str = DEFAULT_LOGIN,
        password: str = DEFAULT_PASSWORD,
        api_key: str | None = DEFAULT_API_KEY,
        balance: Decimal = Decimal("1000"),
        smpp: bool = True,
        smpp_port: int = 0,
        smpp_password: str = DEFAULT_SMPP_PASSWORD,
        smpp_ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._http_port = http_port
        self.state = SimulatorState(
            clock=clock if clock is not None else ManualClock(),
            seed=seed,
            behaviour=behaviour if behaviour is not None else Behaviour(),
        )
        self.stats = RequestStats()
        self.app = SimulatorApp(self.state, self.stats)
        self._default_login = login
        self.state.add_account(login, password, api_key=api_key, balance=Decimal(balance))
        self._port: int | None = None
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._server: _Server | None = None
        self._smpp_enabled = smpp
        self._smpp_port = smpp_port
        self._smpp_ssl = smpp_ssl_context
        self._smpp_address: tuple[str, int] | None = None
        #: The SMPP half (counters, sessions, ...); knobs are on ``behaviour.smpp``.
        self.smpp = SMPPServer(self.state, lambda: self.state.behaviour.smpp)
        self.smpp.passwords[login] = smpp_password

    # ---- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> SMSCSimulator:
        if self._exit_stack is not None:
            raise RuntimeError("this simulator is already running")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "the simulator runs uvicorn, which needs the asyncio backend"
            ) from None
        self._owner = asyncio.current_task()
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
            # proto says TCP, and without it Nagle + delayed ACK add ~40 ms to every answer.
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            stack.callback(sock.close)
            if sys.platform != "win32":  # on Windows it would let others share the port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._http_port))
            sock.listen(128)
            sock.setblocking(False)
            self._port = sock.getsockname()[1]
            config = uvicorn.Config(
                self.app,
                lifespan="off",
                ws="none",
                http="h11",
                log_level="warning",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=1,
                timeout_keep_alive=30,
            )
            started = anyio.Event()
            server = _Server(config, started)
            self._server = server
            group = await stack.enter_async_context(anyio.create_task_group())
            self._group = group
            self._served = anyio.Event()
            self._stopping = False
            # Runs before the task group exits (LIFO), so even when the body raised, the server
            # shuts down gracefully (closing its connections) instead of being cancelled.
            stack.push_async_callback(self._stop)
            group.start_soon(self._serve, server, sock)
            group.start_soon(self._tick)
            with anyio.fail_after(10):
                await started.wait()
        except BaseException:
            await stack.aclose()
            raise
        self._exit_stack = stack
        if self._smpp_enabled:
            try:
                self._smpp_address = await self.start_service(
                    self.smpp.serve, self._host, self._smpp_port, self._smpp_ssl
                )
            except BaseException:
                await self.__aexit__(None, None, None)
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._exit_stack = self._exit_stack, None
        if stack is not None and asyncio.current_task() is not self._owner:
            # anyio's task group can only be exited by the task that entered it; pytest-asyncio
            # runs an async fixture's teardown in another task than its setup. Stop what can be
            # stopped from here, then say what to do instead of anyio's cryptic error.
            self._stopping = True
            if self._server is not None:
                self._server.should_exit = True
            if self._group is not None:
                self._group.cancel_scope.cancel()
            raise RuntimeError(
                "SMSCSimulator was stopped in another task than the one that started it (as "
                "pytest-asyncio does with an async fixture's setup and teardown); use "
                "'async with smscenter.testing.simulator_in_task() as sim' there, or the "
                "smsc_simulator fixture of smscenter.testing.pytest_plugin"
            )
        if stack is not None:
            # The body's own exception is not fed to the task group (which would wrap it in an
            # ExceptionGroup); it propagates unchanged once everything has stopped.
            await stack.aclose()

    async def _serve(self, server: _Server, sock: socket.socket) -> None:
        try:
            await server.serve([sock])
        finally:
            self._served.set()

    async def _stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.should_exit = True
        with anyio.move_on_after(10, shield=True):
            await self._served.wait()
        if not self._served.is_set():
            logger.warning("the simulator's server did not stop in time; cancelling it")
        if self._group is not None:
            # Ends the ticker and any service started with start_service().
            self._group.cancel_scope.cancel()

    _stopping = False
    _owner: asyncio.Task[Any] | None = None
    _group: anyio.abc.TaskGroup | None = None
    _served: anyio.Event

    async def _tick(self) -> None:
        # Real-time clocks: apply due status changes so subscribers (SMPP receipts) hear of them
        # without waiting for a request. With a ManualClock this finds nothing to do.
        while not self._stopping:
            self.state.poll()
            await anyio.sleep(0.05)

    async def start_service(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        """Run another listener (the SMPP half, say) for as long as the simulator runs.

        ``func(*args, task_status=...)`` is started with :meth:`anyio.abc.TaskGroup.start`: it
        calls ``task_status.started(value)`` once it listens, and that value is returned. It is
        cancelled when the simulator stops.
        """
        if self._group is None or self._exit_stack is None:
            raise RuntimeError("the simulator is not running; use 'async with'")
        return await self._group.start(func, *args)

    # ---- addresses and accounts -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The HTTP port (known once the simulator runs)."""
        if self._port is None:
            raise RuntimeError("the simulator is not running; use 'async with'")
        return self._port

    @property
    def smpp_host(self) -> str:
        """The address the SMPP listener is bound to (``127.0.0.1`` by default)."""
        if self._smpp_address is None:
            raise RuntimeError("the SMPP listener is not running (smpp=False, or not started)")
        return self._smpp_address[0]

    @property
    def smpp_port(self) -> int:
        """The SMPP port (known once the simulator runs)."""
        if self._smpp_address is None:
            raise RuntimeError("the SMPP listener is not running (smpp=False, or not started)")
        return self._smpp_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: give it to the client as its base URL."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def behaviour(self) -> Behaviour:
        """The knobs (latency, delays, outcome mix, faults ...); change them at any time."""
        return self.state.behaviour

    @property
    def login(self) -> str:
        """The default account's login."""
        return self._default_login

    @property
    def credentials(self) -> Credentials:
        """Login + password of the default account."""
        account = self.state.account(self._default_login)
        return Credentials(account.login, account.password)

    @property
    def smpp_credentials(self) -> Credentials:
        """Login + SMPP access password of the default account (for a bind)."""
        return Credentials(self._default_login, self.smpp.passwords[self._default_login])

    @property
    def api_key_credentials(self) -> Credentials:
        """The default account's API key as :class:`Credentials`."""
        account = self.state.account(self._default_login)
        if account.api_key is None:
            raise RuntimeError("the default account has no API key")
        return Credentials.from_api_key(account.api_key)

    def add_account(
        self,
        login: str,
        password: str | None = None,
        *,
        api_key: str | None = None,
        balance: Decimal | int | str = Decimal("1000"),
        smpp_password: str | None = None,
    ) -> Credentials:
        """Add an account (or replace one with the same login).

        :param password: its password (default: ``"<login>-password"``).
        :param api_key: an API key that also logs in to it.
        :param smpp_password: an SMPP access password for binds (at most 8 characters); the
            password itself is accepted too when it is that short.
        :returns: login + password credentials for it.
        """
        password = password if password is not None else f"{login}-password"
        self.state.add_account(login, password, api_key=api_key, balance=Decimal(balance))
        if smpp_password is not None:
            self.smpp.passwords[login] = smpp_password
        return Credentials(login, password)

    def account(self, login: str | None = None) -> Account:
        """The account record (senders, contacts, downloads ... can be edited directly)."""
        return self.state.account(login or self._default_login)

    def set_balance(self, login: str | None, amount: Decimal | int | str) -> None:
        """Set an account's balance (``None`` for the default account)."""
        self.state.set_balance(login or self._default_login, Decimal(amount))

    def balance(self, login: str | None = None) -> Decimal:
        """An account's current balance."""
        return self.state.account(login or self._default_login).balance

    # ---- time -----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move simulated time forward and apply the status changes that became due.

        :raises TypeError: when the simulator runs on a clock it cannot move.
        """
        clock = self.state.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance() needs the default ManualClock")
        clock.advance(seconds)
        self.state.poll()

    def now(self) -> float:
        """The simulated Unix time."""
        return self.state.now()

    # ---- messages and events --------------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        """Every message accepted so far (one entry per recipient), oldest first."""
        return self.state.sent_messages()

    def sent_to(self, phone: str) -> list[SentMessage]:
        """Messages accepted for one recipient (``"+7 999 123-45-67"`` or ``"79991234567"``)."""
        wanted = normalize_phone(phone) or phone
        return [m for m in self.state.sent_messages() if m.phone == wanted]

    def message(self, message_id: int | str, phone: str | None = None) -> SentMessage | None:
        """One stored message by id (and phone when the send had several); ``None`` when
        there is none or it was deleted."""
        text = str(message_id)
        owner = self._owner_of(int(text)) if text.isdigit() else self._default_login
        return self.state.find(owner, message_id, phone)

    def _owner_of(self, message_id: int) -> str:
        for (mid, _phone), message in self.state.messages.items():
            if mid == message_id:
                return message.login
        return self._default_login

    def inject_incoming(
        self,
        phone: str,
        text: str,
        *,
        to_phone: str = "",
        login: str | None = None,
        answer_to: int | None = None,
    ) -> IncomingRecord:
        """An incoming SMS from ``phone`` arrives for an account (get_answers shows it).

        :param to_phone: the number it was sent to (a dedicated receive number, say).
        :param answer_to: the id of the message it answers (``sms_id`` in callbacks).
        """
        return self.state.inject_incoming(
            login or self._default_login,
            phone,
            text,
            to_phone=to_phone,
            answer_to=answer_to,
        )

    def set_hlr_result(self, phone: str, result: HlrResult) -> None:
        """What an HLR lookup of ``phone`` will answer."""
        digits = phone.lstrip("+")
        self.state.hlr_results[digits] = result

    def simulate_call(self, phone: str, *, login: str | None = None) -> IncomingRecord:
        """The subscriber of a pending confirm-by-call (wait_call.php) calls back."""
        return self.state.simulate_call(login or self._default_login, phone.lstrip("+"))

    def add_download_task(
        self,
        name: str,
        *,
        status: int = 2,
        content: bytes | None = None,
        login: str | None = None,
    ) -> SimDownloadTask:
        """Add a deferred export task (downloads.php); finished ones hold a CSV of the sent
        messages unless ``content`` is given."""
        return self.state.add_download_task(
            login or self._default_login, name, status=status, content=content
        )

    def subscribe_status(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Hear of every status change (a :class:`StatusChange`); returns an unsubscriber."""
        return self.state.subscribe_status(callback)

    # ---- counters -------------------------------------------------------------------------

    @property
    def requests(self) -> dict[str, int]:
        """HTTP requests received per endpoint (``"send"``, ``"status"`` ...)."""
        return dict(self.stats.requests)

    def max_concurrent(self, login: str | None = None) -> int:
        """The most requests of ``login`` ever in flight at once."""
        return self.stats.max_in_flight[login or self._default_login]

    @property
    def records(self) -> list[RequestRecord]:
        """The requests received (their raw parameters), oldest first."""
        return list(self.stats.records)

    def iter_records(self, endpoint: str | None = None) -> Iterator[RequestRecord]:
        """The recorded requests, optionally of one endpoint."""
        return (r for r in self.stats.records if endpoint is None or r.endpoint == endpoint)
