"""A pool's binds, kept up: one supervisor task per bind connects and binds it and, when it
drops, binds again with jittered backoff, failing over from the primary host to the backups
(smscentre.com/api/smpp: ``smpp2`` takes over when the primary refuses)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import anyio
import attrs

from smscenter.config import ReconnectPolicy
from smscenter.exceptions import APIError, ConnectError, SMSCenterError
from smscenter.smpp.client.session import SMPPSession
from smscenter.smpp.constants import CommandStatus

if TYPE_CHECKING:
    from smscenter.fleet import Lease, SlotLeases

__all__ = ("Binds",)

logger = logging.getLogger("smscenter.smpp.client.pool")

# Bind refusals after which hammering the server is pointless (smscentre.com/api/smpp / SMPP 3.4
# §5.1.3): already bound (another process holds the login), bind failed, bad password or system_id.
_REFUSALS = frozenset(
    {
        CommandStatus.ESME_RALYBND,
        CommandStatus.ESME_RBINDFAIL,
        CommandStatus.ESME_RINVPASWD,
        CommandStatus.ESME_RINVSYSID,
    }
)


@attrs.define(eq=False)
class _Slot:
    number: int
    host_index: int = 0
    session: SMPPSession | None = None
    failures: int = 0
    binds: int = 0
    last_error: BaseException | None = None
    first_round_done: bool = False
    #: Waiting for a fleet bind slot (every slot is held elsewhere).
    waiting: bool = False


def _permanent(error: BaseException | None) -> bool:
    """Errors that end the start-up once every host gave them: a wrong password or login, a
    bad configuration, nothing listening (retrying cannot cure the first two, and a caller
    with a typo in the host should not wait for the deadline)."""
    if isinstance(error, ValueError | ConnectError):
        return True
    return isinstance(error, APIError) and error.code in (
        CommandStatus.ESME_RINVPASWD,
        CommandStatus.ESME_RINVSYSID,
    )


async def _hold(lease: Lease, session: SMPPSession, scope: anyio.CancelScope) -> None:
    """Renew the bind's fleet lease; when it cannot be renewed in time, stop sending on the
    bind at once, then leave (the session unbinds) before another worker could take the slot."""
    session.hold_until(lambda: lease.stop_at)
    await lease.keep()
    session.stop_sending()
    scope.cancel()


async def _wait_then_cancel(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


class Binds:
    """The binds of one pool and their supervisors.

    :param count: how many binds.
    :param hosts: the primary and the backup hosts, in failover order.
    :param new_session: ``(host, port, slot number) -> SMPPSession``, not yet entered.
    :param reconnect: the backoff between rounds of failed attempts.
    :param leases: the fleet's bind slots: each bind holds one while it is bound (and binds
        only with one); losing it stops the bind's sending, then unbinds.
    """

    def __init__(
        self,
        count: int,
        hosts: tuple[tuple[str, int], ...],
        new_session: Callable[[str, int, int], SMPPSession],
        reconnect: ReconnectPolicy,
        leases: SlotLeases | None = None,
    ) -> None:
        self.slots = [_Slot(number=n) for n in range(count)]
        self._leases = leases
        self._hosts = hosts
        self._new_session = new_session
        self._reconnect = reconnect
        #: Set when the pool closes: the supervisors unbind and stop.
        self.closing = anyio.Event()
        #: Set once a bind is up, or every bind failed for good.
        self.ready = anyio.Event()
        #: Set once every supervisor has stopped.
        self.done = anyio.Event()
        self._running = 0
        self.reconnects = 0

    def __len__(self) -> int:
        return len(self.slots)

    def sessions(self) -> Iterator[SMPPSession]:
        """The sessions that exist now (bound or not)."""
        return (slot.session for slot in self.slots if slot.session is not None)

    def up(self) -> int:
        """How many binds are bound now."""
        return sum(1 for session in self.sessions() if session.bound)

    def waiting(self) -> int:
        """How many binds wait for a fleet bind slot."""
        return sum(1 for slot in self.slots if slot.waiting)

    def first_error(self) -> BaseException | None:
        """The first bind's last error (why start-up failed)."""
        return next((s.last_error for s in self.slots if s.last_error is not None), None)

    def start(self, tg: anyio.abc.TaskGroup) -> None:
        """Start one supervisor per bind in ``tg``."""
        self._running = len(self.slots)
        for slot in self.slots:
            tg.start_soon(self._supervise, slot)

    def _check_ready(self) -> None:
        if (
            self.up()
            or all(slot.first_round_done and _permanent(slot.last_error) for slot in self.slots)
            or all(slot.waiting for slot in self.slots)
        ):
            self.ready.set()

    async def _supervise(self, slot: _Slot) -> None:
        try:
            await self._keep_bound(slot)
        finally:
            self._running -= 1
            if not self._running:
                self.done.set()

    async def _keep_bound(self, slot: _Slot) -> None:
        hosts = self._hosts
        tried = 0
        while not self.closing.is_set():
            lease = None
            if self._leases is not None:
                lease = await self._lease(slot)
                if lease is None:
                    return  # closing
            host, port = hosts[slot.host_index]
            session = self._new_session(host, port, slot.number)
            refused = False
            try:
                async with session:
                    slot.session = session
                    slot.failures = 0
                    tried = 0
                    slot.binds += 1
                    if slot.binds > 1:
                        self.reconnects += 1
                    slot.first_round_done = True
                    self.ready.set()
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(_wait_then_cancel, self.closing, tg.cancel_scope)
                        if lease is not None:
                            tg.start_soon(_hold, lease, session, tg.cancel_scope)
                        await session.wait_closed()
                        tg.cancel_scope.cancel()
                if session.error is not None:
                    slot.last_error = session.error
                slot.failures = 1
                # Unbound by the SMSC: most likely another bind of this login without MCONn
                # took the place (smscentre.com/api/smpp); coming straight back would only kick
                # it in turn.
                refused = session.unbound_by_peer
            except (SMSCenterError, ValueError) as exc:  # the session maps the rest (_stream)
                slot.last_error = exc
                slot.failures += 1
                refused = isinstance(exc, APIError) and exc.code in _REFUSALS
                logger.warning(
                    "smpp pool: bind %d to %s:%d failed: %s", slot.number + 1, host, port, exc
                )
                # Fail over: the next attempt goes to the next host (primary -> smpp2 -> ...),
                # at once; only after a whole round of failures does the backoff apply.
                slot.host_index = (slot.host_index + 1) % len(hosts)
                tried += 1
                if tried < len(hosts) and not self.closing.is_set():
                    continue
                tried = 0
                slot.first_round_done = True
                self._check_ready()
            finally:
                slot.session = None
                if lease is not None:  # (after the unbind)
                    await lease.release()
            if self.closing.is_set():
                return
            pause = self._reconnect.delay(
                slot.failures, refused=refused, random_fraction=random.random()
            )
            logger.info("smpp pool: bind %d reconnects in %.2f s", slot.number + 1, pause)
            with anyio.move_on_after(pause):
                await self.closing.wait()

    async def _lease(self, slot: _Slot) -> Lease | None:
        """A fleet bind slot for ``slot`` (waiting while every one is held); None if the pool
        closes meanwhile."""
        leases = self._leases
        assert leases is not None
        try:
            lease = await leases.try_acquire()
        except Exception as exc:  # Redis away: wait below, like for a held slot
            logger.warning("smpp pool: bind %d: no fleet slot: %s", slot.number + 1, exc)
            lease = None
        if lease is not None:
            return lease
        slot.waiting = True
        self._check_ready()
        try:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(_wait_then_cancel, self.closing, scope)
                    lease = await leases.acquire()
                    scope.cancel()
        finally:
            slot.waiting = False
        return lease
