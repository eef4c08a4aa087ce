"""A real store seen from the side: :class:`Watched` forwards every call to the store it wraps
(a real ``SQLiteStore`` in the tests) and notes what it was asked and when, or fails on demand,
so the tests can check the order of things (recorded before sent, settled before yielded,
recorded before acknowledged) without replacing the store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio

from smscenter.models import DeliveryReport
from smscenter.store import PlannedSend, Settlement, StoreError, TrackedMessage


class Watched:
    """Forwards to ``inner``; ``fail_*`` make the next calls of that kind raise StoreError
    (a count, or -1 for every call) and ``gate_record`` holds record() until it is set.

    :ivar on_prepare: / :ivar on_record: called before forwarding, with the batch.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prepares: list[list[str]] = []
        self.settles: list[list[str]] = []
        self.records: list[int] = []
        self.settled: set[str] = set()
        self.fail_prepare = 0
        self.fail_settle = 0
        self.fail_record = 0
        self.gate_record: anyio.Event | None = None
        self.on_prepare: Callable[[Sequence[PlannedSend]], None] | None = None
        self.on_record: Callable[[Sequence[DeliveryReport]], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def __aenter__(self) -> Watched:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    @staticmethod
    def _take(count: int) -> tuple[bool, int]:
        if count == 0:
            return False, 0
        return True, count - 1 if count > 0 else -1

    async def prepare(
        self, sends: Sequence[PlannedSend], *, resend_unknown: bool = False
    ) -> list[TrackedMessage | None]:
        fail, self.fail_prepare = self._take(self.fail_prepare)
        if fail:
            raise StoreError("the disk is full (test)")
        if self.on_prepare is not None:
            self.on_prepare(sends)
        self.prepares.append([s.client_id for s in sends])
        answers: list[TrackedMessage | None] = await self.inner.prepare(
            sends, resend_unknown=resend_unknown
        )
        return answers

    async def settle(self, settlements: Sequence[Settlement]) -> None:
        fail, self.fail_settle = self._take(self.fail_settle)
        if fail:
            raise StoreError("the disk is full (test)")
        await self.inner.settle(settlements)
        ids = [s.client_id for s in settlements]
        self.settles.append(ids)
        self.settled.update(ids)

    async def record(self, *reports: DeliveryReport) -> None:
        if self.gate_record is not None:
            await self.gate_record.wait()
        fail, self.fail_record = self._take(self.fail_record)
        if fail:
            raise StoreError("the disk is full (test)")
        if self.on_record is not None:
            self.on_record(reports)
        await self.inner.record(*reports)
        self.records.append(len(reports))
