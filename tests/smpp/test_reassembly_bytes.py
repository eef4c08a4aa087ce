"""The reassembler bounds the payload bytes it holds, not only the number of parts: a part in
``message_payload`` may be 64 KiB (SMPP 3.4 §5.3.2.32)."""

from __future__ import annotations

import pytest

from smscenter.smpp.reassembly import Fragment, Reassembler

BIG = b"x" * 65_535  # the most a message_payload TLV carries


def part(reference: int, seq: int, payload: bytes = BIG, total: int = 2) -> Fragment:
    return Fragment(
        source="79990000001",
        destination="1234",
        reference=reference,
        total=total,
        seq=seq,
        payload=payload,
    )


def test_default_cap_holds_bytes_not_just_parts() -> None:
    """2,000 first halves of 64 KiB each: within the default part cap (10,000), but 128 MiB.
    The bytes cap evicts the oldest partials (reported, not lost)."""
    reassembler = Reassembler()
    highest = 0
    for reference in range(2000):
        assert reassembler.add(part(reference, 1), now=0.0) is None
        highest = max(highest, reassembler.bytes_held)
    assert highest <= reassembler.max_bytes == 8 * 1024 * 1024
    evicted = reassembler.expire(now=1.0)
    assert len(evicted) + reassembler.pending == 2000  # every partial is accounted for
    assert all(e.reason == "evicted" and e.missing == (2,) for e in evicted)


def test_bytes_bound_and_accounting() -> None:
    reassembler = Reassembler(max_bytes=1000)
    for reference in range(10):
        reassembler.add(part(reference, 1, b"a" * 400, total=3), now=float(reference))
        assert reassembler.bytes_held <= 1000
    assert reassembler.pending == 2
    given_up = reassembler.expire(now=10.0)
    assert [e.reference for e in given_up] == list(range(8))
    # Completing one message releases its bytes; the other times out and releases its own.
    assert reassembler.add(part(8, 2, b"b" * 400, total=3), now=11.0) is None
    assert reassembler.bytes_held <= 1000
    assert reassembler.expire(now=1000.0) != []
    assert (reassembler.pending, reassembler.bytes_held, reassembler.parts_held) == (0, 0, 0)


def test_one_message_larger_than_the_cap_still_completes() -> None:
    reassembler = Reassembler(max_bytes=1000)
    assert reassembler.add(part(1, 1, b"a" * 800), now=0.0) is None
    done = reassembler.add(part(1, 2, b"b" * 800), now=0.0)
    assert done is not None and done.payload == b"a" * 800 + b"b" * 800
    assert reassembler.bytes_held == 0


def test_max_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        Reassembler(max_bytes=0)
