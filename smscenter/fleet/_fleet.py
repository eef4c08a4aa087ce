"""``Fleet``: what the workers of one provider login share, on one Redis server."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.abc
import attrs
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from smscenter.exceptions import ValidationError
from smscenter.fleet._leases import SlotLeases
from smscenter.fleet._rate import GCRA_SCRIPT, FleetRate, burst_for
from smscenter.smpp.client._ratelimit import RateLimiter

__all__ = ("Fleet", "FleetKeys")

logger = logging.getLogger("smscenter.fleet")


@attrs.frozen
class FleetKeys:
    """The Redis keys of one login. All carry the hash tag ``{login}``, so a Redis Cluster keeps
    them in one slot (one script may touch several).

    :ivar rate: the GCRA arrival time (microseconds on the server's clock).
    :ivar pause: present while the fleet pauses after a 0x58 (with PX).
    """

    prefix: str
    login: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{{self.login}}}"

    @property
    def rate(self) -> str:
        return f"{self.base}:rate"

    @property
    def pause(self) -> str:
        return f"{self.base}:pause"

    def slot(self, kind: str, number: int) -> str:
        """A slot lease: ``bind:1`` .. ``bind:N``, ``http:1`` .. ``http:14``."""
        return f"{self.base}:{kind}:{number}"


class Fleet:
    """The limits of one provider login, shared by every worker process on every machine
    through one Redis server (asyncio only: redis-py's asyncio client). An async context
    manager; give it to ``SMPPPool(..., fleet=fleet)`` and ``HTTPClient(..., fleet=fleet)``::

        async with Fleet("redis://redis:6379/0", login="acme", rate=30, mcon=4) as fleet:
            async with SMPPPool(host, 3700, credentials, fleet=fleet) as pool:
                ...

    :param url: the Redis server (``redis://``, ``rediss://`` or ``unix://``). Configure it for
        durability: ``appendonly yes`` and ``maxmemory-policy noeviction`` (an evicted lease
        lets a bind too many in; the server checks at entry and logs a warning).
    :param login: the provider login the limits belong to.
    :param rate: message parts per second for the whole fleet (the provider's default account
        limit is 30 SMS/s). Counted on the Redis server's clock.
    :param burst: parts that may go back to back after an idle spell (default: a tenth of a
        second's worth, at least 1). In any one second the provider sees at most
        ``rate + burst`` parts (plus the rest of a long message whose first part was allowed).
    :param mcon: the account's ``MCONn``: binds of the login across the fleet (1..9). Every
        bind declares ``MCONn`` with this n.
    :param http_concurrency: HTTP requests in flight across the fleet (the provider refuses 15
        or more per login).
    :param lease_ttl: how long a bind lease lives on the server without renewal (renewed every
        quarter of it); a dead worker's bind slot is free after this.
    :param lease_margin: how long before its lease could expire a bind whose lease could not be
        renewed has stopped sending and unbound (default a third of ``lease_ttl``); it must
        exceed the pool's ``Timeouts.unbind``.
    :param http_lease_ttl: the lease of one HTTP request (a dead holder's slot is free after
        it); a request should end well within it.
    :param throttle_pause: how long a 0x58 (ESME_RTHROTTLED) pauses every worker.
    :param prefix: the first part of every key.
    :param redis_options: more keyword arguments for :meth:`redis.asyncio.Redis.from_url`.
    """

    def __init__(
        self,
        url: str,
        *,
        login: str,
        rate: float = 30.0,
        burst: int | None = None,
        mcon: int = 1,
        http_concurrency: int = 14,
        lease_ttl: float = 30.0,
        lease_margin: float | None = None,
        http_lease_ttl: float = 60.0,
        throttle_pause: float = 1.0,
        prefix: str = "smsc",
        redis_options: dict[str, Any] | None = None,
    ) -> None:
        if not login:
            raise ValidationError("a fleet needs the provider login")
        if not rate > 0:
            raise ValidationError("the fleet rate must be positive")
        if not 1 <= mcon <= 9:
            raise ValidationError(f"mcon is 1..9 (the provider's MCONn), got {mcon!r}")
        if not 1 <= http_concurrency <= 14:
            raise ValidationError("http_concurrency is 1..14 (the provider refuses 15 at once)")
        if burst is not None and burst < 1:
            raise ValidationError("burst must be at least 1")
        self.url = url
        self.login = login
        self.rate = float(rate)
        self.burst = burst if burst is not None else burst_for(self.rate)
        self.mcon = mcon
        self.throttle_pause = throttle_pause
        self.keys = FleetKeys(prefix, login)
        #: Who holds a lease (in lease tokens): host, process, random.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        margin = lease_ttl / 3 if lease_margin is None else lease_margin
        #: The bind-slot leases (``MCONn`` slots).
        self.bind_slots = SlotLeases(self, "bind", mcon, lease_ttl, margin)
        #: The HTTP request leases.
        self.http_slots = SlotLeases(self, "http", http_concurrency, http_lease_ttl, 0.0)
        options: dict[str, Any] = {"socket_timeout": 5.0, "socket_connect_timeout": 5.0}
        options.update(redis_options or {})
        self._options = options
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._stack: AsyncExitStack | None = None
        #: Redis commands sent (for the cost per message): rate scripts, pause sets and reads,
        #: lease attempts, renewals and releases.
        self.round_trips = 0

    def __repr__(self) -> str:
        state = "open" if self._tg is not None else "closed"
        return (
            f"<Fleet {self.keys.base} {state} rate={self.rate:g}/s burst={self.burst} "
            f"mcon={self.mcon} http={self.http_slots.count}>"
        )

    @property
    def client(self) -> aioredis.Redis:
        """The Redis client (while entered)."""
        if self._client is None:
            raise RuntimeError("enter the Fleet (async with) first")
        return self._client

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("a Fleet can be entered once at a time")
        async with AsyncExitStack() as stack:
            client = aioredis.Redis.from_url(self.url, **self._options)
            stack.push_async_callback(client.aclose)
            await client.ping()
            await self._check_durability(client)
            self._client = client
            # The first grant should not wait for a NOSCRIPT answer and a load (set-up, like the
            # ping: not in round_trips).
            self._scripts["gcra"] = script = client.register_script(GCRA_SCRIPT)
            await client.script_load(script.script)
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            self._tg = tg
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        self._tg = None
        if stack is not None:
            await stack.aclose()
        self._client = None

    @staticmethod
    async def _check_durability(client: aioredis.Redis) -> None:
        try:
            config = await client.config_get("appendonly")
            config.update(await client.config_get("maxmemory-policy"))
        except RedisError:  # managed Redis often refuses CONFIG
            logger.debug("fleet: CONFIG GET refused; durability not checked")
            return
        if config.get("appendonly") != "yes":
            logger.warning("fleet: Redis runs without appendonly: a restart forgets the leases")
        if config.get("maxmemory-policy", "noeviction") != "noeviction":
            logger.warning("fleet: Redis may evict keys (maxmemory-policy): leases can vanish")

    # --- for the transports ---------------------------------------------------------------------

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Run ``fn(*args)`` in the fleet's task group (from synchronous code)."""
        if self._tg is None:
            raise RuntimeError("enter the Fleet (async with) first")
        self._tg.start_soon(fn, *args)

    async def script(self, name: str, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script (EVALSHA, loaded again after a server restart)."""
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self.client.register_script(source)
        self.round_trips += 1
        return await script(keys=list(keys), args=list(args))

    def send_rate(
        self,
        local: RateLimiter,
        wake: Callable[[], None],
        backlog: Callable[[], int] | None = None,
    ) -> FleetRate:
        """A pool's rate limiter in fleet mode (the pool runs its loop, :meth:`FleetRate.run`);
        ``backlog`` says how many messages wait in the pool's queue."""
        return FleetRate(self, local, wake, throttle_pause=self.throttle_pause, backlog=backlog)

    async def pause(self, seconds: float) -> None:
        """Pause every worker of the login for ``seconds`` (after 0x58). A pause running
        already is left as it is: the answers that follow belong to parts sent before it."""
        try:
            self.round_trips += 1
            await self.client.set(
                self.keys.pause, self.holder, px=max(1, int(seconds * 1000)), nx=True
            )
        except (RedisError, OSError) as exc:  # this worker pauses anyway (FleetRate)
            logger.warning("fleet: cannot share the pause: %s", exc)

    async def paused_for(self) -> float:
        """Seconds of fleet pause left (0.0: none)."""
        self.round_trips += 1
        left = await self.client.pttl(self.keys.pause)
        return max(0, int(left)) / 1000
