"""Reassembly of incoming multi-part messages (pure: no clock, no I/O).

Parts of one message share a reference (from the UDH, IEI 0x00 or 0x08, or from the SAR TLVs
0x020C/0x020E/0x020F), a total and the two addresses. They may arrive out of order, twice, or
never. :class:`Reassembler` keeps the partial messages in bounded memory; the caller passes
``now`` (any monotonic clock, in seconds) and decides when partials are too old. Nothing is lost
silently: a partial that times out, or is evicted to respect the caps, comes back from
:meth:`Reassembler.expire` as an :class:`ExpiredMessage` with whatever parts did arrive.
"""

from __future__ import annotations

import logging
from typing import Literal, NamedTuple

import attrs

from smscenter.smpp.constants import Tag
from smscenter.smpp.pdu import DeliverSm, SubmitSm
from smscenter.smpp.text import decode_text, parse_udh

__all__ = (
    "AssembledMessage",
    "Concatenation",
    "ExpiredMessage",
    "Fragment",
    "Reassembler",
    "split_user_data",
)

logger = logging.getLogger(__name__)

#: (source_addr, destination_addr, reference, total): the identity of one multi-part message.
#: The total is part of it so a reused reference with a different size never mixes two messages.
GroupKey = tuple[str, str, int, int]


# esm_class bit 6 (SMPP 3.4 §5.2.12): short_message starts with a user data header.
_UDHI = 0x40


class Concatenation(NamedTuple):
    """Which part of which multi-part message a PDU carries."""

    #: The message's reference (8- or 16-bit), shared by its parts.
    reference: int
    #: How many parts the message has (not 0).
    total: int
    #: This part's number, from 1 (not 0; it may exceed ``total`` if the sender is wrong).
    seq: int


def split_user_data(pdu: SubmitSm | DeliverSm) -> tuple[bytes, Concatenation | None]:
    """The user data of a ``submit_sm`` or ``deliver_sm`` (``message_payload`` when
    ``short_message`` is empty) without its UDH, and which part of a multi-part message it is:
    from the UDH (IEI 0x00 or 0x08, TS 23.040 §9.2.3.24.1) when it has a usable element, else
    from the SAR TLVs (SMPP 3.4 §5.3.2.22-24), else None (a message of its own).

    The one reader of these facts: the client's incoming messages and the simulator's submits
    both use it."""
    data = pdu.short_message or pdu.tlv(Tag.MESSAGE_PAYLOAD) or b""
    if pdu.esm_class & _UDHI:
        udh, data = parse_udh(data)
        if udh.is_concatenated:
            assert udh.reference is not None and udh.total and udh.seq
            return data, Concatenation(udh.reference, udh.total, udh.seq)
    ref_raw = pdu.tlv(Tag.SAR_MSG_REF_NUM)
    total_raw = pdu.tlv(Tag.SAR_TOTAL_SEGMENTS)
    seq_raw = pdu.tlv(Tag.SAR_SEGMENT_SEQNUM)
    if ref_raw and total_raw and seq_raw and total_raw[0] and seq_raw[0]:
        return data, Concatenation(int.from_bytes(ref_raw, "big"), total_raw[0], seq_raw[0])
    return data, None


@attrs.frozen(kw_only=True)
class Fragment:
    """One part of a multi-part message, as cut out of a ``deliver_sm``.

    :ivar source: who sent it (``source_addr``); :ivar destination: to whom.
    :ivar reference: the concatenation reference (8- or 16-bit).
    :ivar total: how many parts the message has; :ivar seq: this part's number, from 1.
    :ivar payload: the part's user data with the UDH removed.
    :ivar data_coding: the part's ``data_coding``.
    """

    source: str
    destination: str
    reference: int
    total: int
    seq: int
    payload: bytes
    data_coding: int = 0

    @property
    def key(self) -> GroupKey:
        """The identity of the message this part belongs to."""
        return (self.source, self.destination, self.reference, self.total)


@attrs.frozen(kw_only=True)
class AssembledMessage:
    """A multi-part message with every part present.

    :ivar payload: the parts' payloads joined in order (decode once: a sender that split a
        character across parts still decodes correctly).
    :ivar first_seen: ``now`` when its first part arrived.
    """

    source: str
    destination: str
    reference: int
    total: int
    payload: bytes
    data_coding: int
    first_seen: float

    @property
    def text(self) -> str:
        """The whole text, decoded by the first part's ``data_coding``."""
        return decode_text(self.payload, self.data_coding)


@attrs.frozen(kw_only=True)
class ExpiredMessage:
    """A multi-part message given up on: it timed out, or was evicted to stay within the caps.

    :ivar parts: the parts that did arrive, as ``(seq, payload)`` in order.
    :ivar reason: ``"timeout"`` or ``"evicted"``.
    """

    source: str
    destination: str
    reference: int
    total: int
    parts: tuple[tuple[int, bytes], ...]
    data_coding: int
    first_seen: float
    reason: Literal["timeout", "evicted"]

    @property
    def missing(self) -> tuple[int, ...]:
        """The part numbers that never came."""
        have = {seq for seq, _ in self.parts}
        return tuple(seq for seq in range(1, self.total + 1) if seq not in have)

    @property
    def partial_text(self) -> str:
        """What arrived, decoded and joined in order (gaps are simply skipped)."""
        return decode_text(b"".join(payload for _, payload in self.parts), self.data_coding)


@attrs.define(eq=False)
class _Pending:
    first_seen: float
    data_coding: int
    parts: dict[int, bytes] = attrs.field(factory=dict)


@attrs.define(eq=False)
class Reassembler:
    """Joins parts of incoming multi-part messages, in bounded memory.

    :param timeout: seconds (of the caller's clock) after which a partial message is given up.
    :param max_pending: most partial messages held at once; the oldest is evicted beyond it.
    :param max_parts: most parts held in total across all partial messages.
    :param max_bytes: most payload bytes held in total across all partial messages. A count
        of parts alone does not bound memory: a part carried in ``message_payload`` (SMPP 3.4
        §5.3.2.32) may be up to 64 KiB, not 140 octets. As with ``max_parts``, the oldest
        partials are evicted to make room, but never the message the new part belongs to (so
        one message can always complete; 255 parts at most).
    """

    timeout: float = 300.0
    max_pending: int = 1000
    max_parts: int = 10_000
    max_bytes: int = 8 * 1024 * 1024
    _pending: dict[GroupKey, _Pending] = attrs.field(init=False, factory=dict)
    _parts_held: int = attrs.field(init=False, default=0)
    _bytes_held: int = attrs.field(init=False, default=0)
    _given_up: list[ExpiredMessage] = attrs.field(init=False, factory=list)
    # Recently completed messages (when, and each part's payload), so a late duplicate part does
    # not start a phantom partial, while a new message that reuses the reference still gets in.
    _completed: dict[GroupKey, tuple[float, dict[int, int]]] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.timeout <= 0 or self.max_pending < 1 or self.max_parts < 1 or self.max_bytes < 1:
            raise ValueError("timeout, max_pending, max_parts and max_bytes must be positive")

    @property
    def pending(self) -> int:
        """How many partial messages are held."""
        return len(self._pending)

    @property
    def parts_held(self) -> int:
        """How many parts are held across all partial messages."""
        return self._parts_held

    @property
    def bytes_held(self) -> int:
        """How many payload bytes are held across all partial messages."""
        return self._bytes_held

    def add(self, fragment: Fragment, now: float) -> AssembledMessage | None:
        """Take one part; return the whole message when this part completes it.

        Duplicates (the same part again, also after its message completed, within
        :attr:`timeout`) are dropped; a part with the same reference but a different payload
        starts a new message. A part whose number is outside ``1..total`` is dropped.
        """
        if not 1 <= fragment.seq <= fragment.total:
            logger.debug("dropping part %d of %d", fragment.seq, fragment.total)
            return None
        key = fragment.key
        if fragment.total == 1:
            return self._assembled(key, {1: fragment.payload}, fragment.data_coding, now)
        completed = self._completed.get(key)
        if completed is not None:
            done_at, done_parts = completed
            if now - done_at <= self.timeout and done_parts.get(fragment.seq) == hash(
                fragment.payload
            ):
                return None
            del self._completed[key]
        entry = self._pending.get(key)
        if entry is None:
            while len(self._pending) >= self.max_pending:
                self._evict_oldest()
            entry = self._pending[key] = _Pending(first_seen=now, data_coding=fragment.data_coding)
        if fragment.seq in entry.parts:
            return None
        size = len(fragment.payload)
        while (
            self._parts_held >= self.max_parts or self._bytes_held + size > self.max_bytes
        ) and self._pending:
            if next(iter(self._pending)) == key and len(self._pending) == 1:
                break  # only this message is held: let it finish rather than evict itself
            self._evict_oldest(keep=key)
        entry.parts[fragment.seq] = fragment.payload
        self._parts_held += 1
        self._bytes_held += size
        if len(entry.parts) < fragment.total:
            return None
        del self._pending[key]
        self._parts_held -= len(entry.parts)
        self._bytes_held -= sum(map(len, entry.parts.values()))
        if len(self._completed) >= self.max_pending:
            del self._completed[next(iter(self._completed))]
        # Only hashes of the payloads are kept: enough to recognise a repeat, small in memory.
        self._completed[key] = (now, {seq: hash(body) for seq, body in entry.parts.items()})
        return self._assembled(key, entry.parts, entry.data_coding, entry.first_seen)

    def expire(self, now: float) -> list[ExpiredMessage]:
        """Give up on partial messages older than :attr:`timeout`.

        Returns those, plus any evicted since the last call, oldest first.
        """
        out, self._given_up = self._given_up, []
        limit = now - self.timeout
        for key in [k for k, entry in self._pending.items() if entry.first_seen <= limit]:
            out.append(self._give_up(key, "timeout"))
        for key in [k for k, (at, _) in self._completed.items() if at <= limit]:
            del self._completed[key]
        return out

    def _evict_oldest(self, keep: GroupKey | None = None) -> None:
        for key in self._pending:
            if key != keep:
                self._given_up.append(self._give_up(key, "evicted"))
                return

    def _give_up(self, key: GroupKey, reason: Literal["timeout", "evicted"]) -> ExpiredMessage:
        entry = self._pending.pop(key)
        self._parts_held -= len(entry.parts)
        self._bytes_held -= sum(map(len, entry.parts.values()))
        logger.debug("gave up on multi-part message %r (%s)", key, reason)
        return ExpiredMessage(
            source=key[0],
            destination=key[1],
            reference=key[2],
            total=key[3],
            parts=tuple(sorted(entry.parts.items())),
            data_coding=entry.data_coding,
            first_seen=entry.first_seen,
            reason=reason,
        )

    @staticmethod
    def _assembled(
        key: GroupKey, parts: dict[int, bytes], data_coding: int, first_seen: float
    ) -> AssembledMessage:
        return AssembledMessage(
            source=key[0],
            destination=key[1],
            reference=key[2],
            total=key[3],
            payload=b"".join(parts[seq] for seq in range(1, key[3] + 1)),
            data_coding=data_coding,
            first_seen=first_seen,
        )
