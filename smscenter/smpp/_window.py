"""In-flight request bookkeeping: who is waiting for which response, until when.

Every operation is O(1) (amortised): requests live in a dict keyed by sequence number, and
deadlines in a FIFO queue. With one response timeout per connection, deadlines are handed out
in increasing order, so the earliest is always at the front; an out-of-order deadline goes to a
small heap instead. Answered requests are dropped lazily when they reach the front (no scan
proportional to the outstanding requests: docs/performance.md).

One entry type, :class:`Sent`: the requests queued by one call, sharing a command_id and a
deadline (a lone request is a group of one). A bulk write of a thousand submits then costs one
object and one deadline, not a thousand.
"""

from __future__ import annotations

import heapq
from collections import deque

from smscenter.smpp.constants import CommandId

__all__ = ("Sent", "Window")


class Sent:
    """Requests sent together (one call), waiting for their responses: they share a
    command_id, a deadline and whether they count against the window. The entry is alive while
    any of them still waits (``left``)."""

    __slots__ = ("command_id", "counted", "deadline", "left", "seqs")

    def __init__(
        self, seqs: list[int], command_id: CommandId, deadline: float | None, counted: bool
    ) -> None:
        self.seqs = seqs
        self.command_id = command_id
        self.deadline = deadline
        self.counted = counted
        self.left = len(seqs)

    def __lt__(self, other: Sent) -> bool:  # heap order
        return (self.deadline or 0.0) < (other.deadline or 0.0)

    def __repr__(self) -> str:
        return (
            f"Sent({len(self.seqs)} x {self.command_id.name}, left={self.left}, "
            f"deadline={self.deadline})"
        )


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
        self._entries: dict[int, Sent] = {}
        self._fifo: deque[Sent] = deque()
        self._heap: list[Sent] = []
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
        self,
        sequence_numbers: list[int],
        command_id: CommandId,
        deadline: float | None,
        counted: bool,
    ) -> None:
        """Track requests about to be sent together (one entry for all of them).

        :raises ValueError: one of the sequence numbers is already in flight.
        """
        count = len(sequence_numbers)
        entries = self._entries
        if count == 1:
            seq = sequence_numbers[0]
            if seq in entries:
                raise ValueError(f"sequence number {seq} is already in flight")
            entry = Sent(sequence_numbers, command_id, deadline, counted)
            entries[seq] = entry
        elif count:
            if not entries.keys().isdisjoint(sequence_numbers):
                raise ValueError("a sequence number of the group is already in flight")
            entry = Sent(sequence_numbers, command_id, deadline, counted)
            entries.update(dict.fromkeys(sequence_numbers, entry))
        else:
            return
        if counted:
            self._counted += count
        expired = self._expired
        if expired:
            for seq in sequence_numbers:
                expired.pop(seq, None)
        if deadline is not None:
            fifo = self._fifo
            # Keep the FIFO sorted: append when not earlier than the last one, else the heap.
            if not fifo or (fifo[-1].deadline or 0.0) <= deadline:
                fifo.append(entry)
            else:
                heapq.heappush(self._heap, entry)

    def get(self, sequence_number: int) -> Sent | None:
        """The requests one of which waits under this sequence number, if any (their
        ``command_id``, ``deadline``, ``counted``)."""
        return self._entries.get(sequence_number)

    def pop(self, sequence_number: int) -> Sent | None:
        """Stop tracking a request (its response arrived)."""
        entry = self._entries.pop(sequence_number, None)
        if entry is None:
            return None
        entry.left -= 1
        if entry.counted:
            self._counted -= 1
        fifo = self._fifo
        while fifo and not fifo[0].left:
            fifo.popleft()
        return entry

    def pop_answered(
        self, answers: list[tuple[int, str]], start: int, command_id: CommandId
    ) -> int:
        """Stop tracking the requests answered by ``answers[start:]`` (sequence number first),
        in order, while each is in flight and is a ``command_id``; return the index of the first
        one that is not (``len(answers)`` when all were). :meth:`pop` for a run, in one loop.
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
            entry.left -= 1
            counted += entry.counted
            index += 1
        self._counted -= counted
        fifo = self._fifo
        while fifo and not fifo[0].left:
            fifo.popleft()
        return index

    def pop_expired(self, sequence_number: int) -> CommandId | None:
        """If this sequence number belonged to a request that expired: forget it, return its
        command_id (the caller reports a late response)."""
        return self._expired.pop(sequence_number, None)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a request still waiting."""
        fifo, heap = self._fifo, self._heap
        while fifo and not fifo[0].left:
            fifo.popleft()
        while heap and not heap[0].left:
            heapq.heappop(heap)
        best: float | None = None
        if fifo:
            best = fifo[0].deadline
        if heap and (best is None or (heap[0].deadline or 0.0) < best):
            best = heap[0].deadline
        return best

    def expire(self, now: float) -> list[tuple[int, CommandId]]:
        """Remove every request whose deadline is at or before ``now``; return their
        ``(sequence_number, command_id)`` pairs (a group's in sending order)."""
        due: list[Sent] = []
        fifo, heap = self._fifo, self._heap
        while fifo and (not fifo[0].left or (fifo[0].deadline or 0.0) <= now):
            entry = fifo.popleft()
            if entry.left:
                due.append(entry)
        while heap and (not heap[0].left or (heap[0].deadline or 0.0) <= now):
            entry = heapq.heappop(heap)
            if entry.left:
                due.append(entry)
        out: list[tuple[int, CommandId]] = []
        entries = self._entries
        for entry in due:
            entry.left = 0
            cid = entry.command_id
            for seq in entry.seqs:
                if entries.get(seq) is entry:
                    del entries[seq]
                    if entry.counted:
                        self._counted -= 1
                    self._remember_expired(seq, cid)
                    out.append((seq, cid))
        return out

    def drain(self) -> list[tuple[int, CommandId]]:
        """Remove everything still waiting (the connection closed); return the
        ``(sequence_number, command_id)`` pairs in sending order."""
        out = [(seq, entry.command_id) for seq, entry in self._entries.items()]
        for entry in self._entries.values():
            entry.left = 0
        self._entries.clear()
        self._fifo.clear()
        self._heap.clear()
        self._counted = 0
        return out

    def _remember_expired(self, sequence_number: int, command_id: CommandId) -> None:
        order = self._expired_order
        if len(order) == order.maxlen:
            self._expired.pop(order[0], None)
        order.append(sequence_number)
        self._expired[sequence_number] = command_id
