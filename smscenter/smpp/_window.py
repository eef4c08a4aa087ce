"""In-flight request bookkeeping: who is waiting for which response, until when.

Every operation is O(1) (amortised): requests live in a dict keyed by sequence number, and
deadlines in a FIFO queue. With one response timeout per connection, deadlines are handed out
in increasing order, so the earliest is always at the front; an out-of-order deadline goes to a
small heap instead. Answered requests are marked dead and dropped lazily when they reach the
front (no scan proportional to the outstanding requests: docs/performance.md).
"""

from __future__ import annotations

import heapq
from collections import deque

from smscenter.smpp.constants import CommandId

__all__ = ("InFlight", "Window")


class InFlight:
    """One request waiting for its response."""

    __slots__ = ("alive", "command_id", "counted", "deadline", "sequence_number")

    def __init__(
        self, sequence_number: int, command_id: CommandId, deadline: float | None, counted: bool
    ) -> None:
        self.sequence_number = sequence_number
        self.command_id = command_id
        self.deadline = deadline
        self.counted = counted
        self.alive = True

    def __lt__(self, other: InFlight | _Batch) -> bool:  # heap order
        return (self.deadline or 0.0) < (other.deadline or 0.0)

    def __repr__(self) -> str:
        return (
            f"InFlight(seq={self.sequence_number}, {self.command_id.name}, "
            f"deadline={self.deadline})"
        )


class _Batch:
    """Requests sent together with one deadline (the bulk path): one entry shared by all their
    sequence numbers, so adding a thousand costs one object, not a thousand. It stays alive
    while any of them is still waiting."""

    __slots__ = ("alive", "command_id", "counted", "deadline", "left", "seqs")

    def __init__(self, seqs: list[int], command_id: CommandId, deadline: float | None) -> None:
        self.seqs = seqs
        self.command_id = command_id
        self.deadline = deadline
        self.counted = True
        self.left = len(seqs)
        self.alive = True

    def __lt__(self, other: InFlight | _Batch) -> bool:  # heap order
        return (self.deadline or 0.0) < (other.deadline or 0.0)

    def __repr__(self) -> str:
        return f"_Batch({len(self.seqs)} x {self.command_id.name}, left={self.left})"


Entry = InFlight | _Batch


def _release(entry: Entry) -> None:
    """One request of ``entry`` is answered: a batch stays alive while others still wait."""
    if type(entry) is _Batch:
        entry.left -= 1
        if entry.left:
            return
    entry.alive = False


class Window:
    """Requests in flight on one connection, with a cap on the counted ones.

    :param capacity: how many counted requests may be outstanding at once.
    :param remember_expired: how many expired sequence numbers to remember so that a late
        response is recognised as such (bounded memory).
    """

    __slots__ = ("_counted", "_entries", "_expired", "_expired_order", "_fifo", "_heap", "capacity")

    def __init__(self, capacity: int, *, remember_expired: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("the window capacity must be at least 1")
        self.capacity = capacity
        self._entries: dict[int, Entry] = {}
        self._fifo: deque[Entry] = deque()
        self._heap: list[Entry] = []
        self._counted = 0
        self._expired: dict[int, CommandId] = {}
        self._expired_order: deque[int] = deque(maxlen=max(1, remember_expired))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, sequence_number: int) -> bool:
        return sequence_number in self._entries

    @property
    def in_flight(self) -> int:
        """Counted requests outstanding."""
        return self._counted

    @property
    def available(self) -> int:
        """Counted requests that may still be sent."""
        return self.capacity - self._counted

    def add(
        self, sequence_number: int, command_id: CommandId, deadline: float | None, counted: bool
    ) -> None:
        """Track a request about to be sent.

        :raises ValueError: the sequence number is already in flight.
        """
        if sequence_number in self._entries:
            raise ValueError(f"sequence number {sequence_number} is already in flight")
        entry = InFlight(sequence_number, command_id, deadline, counted)
        self._entries[sequence_number] = entry
        if counted:
            self._counted += 1
        self._expired.pop(sequence_number, None)
        if deadline is not None:
            self._schedule(entry, deadline)

    def _schedule(self, entry: Entry, deadline: float) -> None:
        fifo = self._fifo
        # Keep the FIFO sorted: append when not earlier than the last one, else use the heap.
        if not fifo or (fifo[-1].deadline or 0.0) <= deadline:
            fifo.append(entry)
        else:
            heapq.heappush(self._heap, entry)

    def add_batch(
        self, sequence_numbers: list[int], command_id: CommandId, deadline: float | None
    ) -> None:
        """Track counted requests about to be sent together, all with one deadline (one entry
        for all of them: the bulk path).

        :raises ValueError: one of the sequence numbers is already in flight.
        """
        if not sequence_numbers:
            return
        entries = self._entries
        if not entries.keys().isdisjoint(sequence_numbers):
            raise ValueError("a sequence number of the batch is already in flight")
        batch = _Batch(sequence_numbers, command_id, deadline)
        entries.update(dict.fromkeys(sequence_numbers, batch))
        self._counted += len(sequence_numbers)
        expired = self._expired
        if expired:
            for seq in sequence_numbers:
                expired.pop(seq, None)
        if deadline is not None:
            self._schedule(batch, deadline)

    def get(self, sequence_number: int) -> Entry | None:
        """The request waiting under this sequence number, if any (its ``command_id``,
        ``deadline``, ``counted``)."""
        return self._entries.get(sequence_number)

    def pop(self, sequence_number: int) -> Entry | None:
        """Stop tracking a request (its response arrived)."""
        entry = self._entries.pop(sequence_number, None)
        if entry is None:
            return None
        _release(entry)
        if entry.counted:
            self._counted -= 1
        fifo = self._fifo
        while fifo and not fifo[0].alive:
            fifo.popleft()
        return entry

    def pop_answered(
        self, answers: list[tuple[int, str]], start: int, command_id: CommandId
    ) -> int:
        """Stop tracking the requests answered by ``answers[start:]`` (sequence number first),
        in order, while each is in flight and is a ``command_id``; return the index of the first
        one that is not (``len(answers)`` when all were). :meth:`pop` for a batch, in one loop.
        """
        entries = self._entries
        pop = entries.pop
        count = len(answers)
        index = start
        counted = 0
        while index < count:
            seq = answers[index][0]
            entry = entries.get(seq)
            if entry is None or entry.command_id is not command_id:
                break
            pop(seq)
            # _release(entry), inline: this loop runs once per accepted message.
            if type(entry) is _Batch:
                entry.left -= 1
                if not entry.left:
                    entry.alive = False
            else:
                entry.alive = False
            if entry.counted:
                counted += 1
            index += 1
        self._counted -= counted
        fifo = self._fifo
        while fifo and not fifo[0].alive:
            fifo.popleft()
        return index

    def pop_expired(self, sequence_number: int) -> CommandId | None:
        """If this sequence number belonged to a request that expired: forget it, return its
        command_id (the caller reports a late response)."""
        return self._expired.pop(sequence_number, None)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a request still waiting."""
        fifo, heap = self._fifo, self._heap
        while fifo and not fifo[0].alive:
            fifo.popleft()
        while heap and not heap[0].alive:
            heapq.heappop(heap)
        best: float | None = None
        if fifo:
            best = fifo[0].deadline
        if heap and (best is None or (heap[0].deadline or 0.0) < best):
            best = heap[0].deadline
        return best

    def expire(self, now: float) -> list[InFlight]:
        """Remove and return every request whose deadline is at or before ``now``."""
        due: list[Entry] = []
        fifo, heap = self._fifo, self._heap
        while fifo and (not fifo[0].alive or (fifo[0].deadline or 0.0) <= now):
            entry = fifo.popleft()
            if entry.alive:
                due.append(entry)
        while heap and (not heap[0].alive or (heap[0].deadline or 0.0) <= now):
            entry = heapq.heappop(heap)
            if entry.alive:
                due.append(entry)
        out: list[InFlight] = []
        for entry in due:
            out.extend(self._split(entry))
        for request in out:
            self._forget(request)
            self._remember_expired(request)
        return out

    def _split(self, entry: Entry) -> list[InFlight]:
        """The requests of an entry still waiting, one each (a batch's, in sending order)."""
        entry.alive = False
        if type(entry) is not _Batch:
            assert isinstance(entry, InFlight)
            return [entry]
        entries = self._entries
        return [
            InFlight(seq, entry.command_id, entry.deadline, entry.counted)
            for seq in entry.seqs
            if entries.get(seq) is entry
        ]

    def drain(self) -> list[InFlight]:
        """Remove and return everything still waiting (the connection closed)."""
        out: list[InFlight] = []
        for seq, entry in self._entries.items():  # in sending order
            entry.alive = False
            if type(entry) is _Batch:
                out.append(InFlight(seq, entry.command_id, entry.deadline, entry.counted))
            else:
                assert isinstance(entry, InFlight)
                out.append(entry)
        self._entries.clear()
        self._fifo.clear()
        self._heap.clear()
        self._counted = 0
        return out

    def _forget(self, entry: InFlight) -> None:
        entry.alive = False
        del self._entries[entry.sequence_number]
        if entry.counted:
            self._counted -= 1

    def _remember_expired(self, entry: InFlight) -> None:
        order = self._expired_order
        if len(order) == order.maxlen:
            self._expired.pop(order[0], None)
        order.append(entry.sequence_number)
        self._expired[entry.sequence_number] = entry.command_id
