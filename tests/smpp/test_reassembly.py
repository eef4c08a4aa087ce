"""Reassembly of multi-part messages: out of order, duplicated, missing parts, bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.smpp.reassembly import Fragment, Reassembler
from smscenter.smpp.text import (
    GSM_BASIC,
    GSM_EXTENSION,
    TextEncoding,
    concat_udh,
    parse_udh,
    split_text,
)

TEXTS = {
    TextEncoding.GSM: st.text(
        alphabet=st.sampled_from(
            [c for c in GSM_BASIC if c != "\x1b"] + list(GSM_EXTENSION.values())
        ),
        min_size=1,
        max_size=700,
    ),
    TextEncoding.LATIN1: st.text(
        alphabet=st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=600
    ),
    TextEncoding.UCS2: st.text(
        alphabet=st.one_of(
            st.sampled_from("яЖ€😀🎉𝄞"), st.characters(codec="utf-8", exclude_categories=["Cs"])
        ),
        min_size=1,
        max_size=300,
    ),
}


def fragments(text: str, encoding: TextEncoding, ref: int = 7) -> list[Fragment]:
    """What a sender puts on the wire, read back the way the receiver does (through the UDH)."""
    payloads = split_text(text, encoding)
    out = []
    for seq, payload in enumerate(payloads, 1):
        udh, body = parse_udh(concat_udh(ref, len(payloads), seq) + payload)
        assert udh.is_concatenated
        assert udh.reference is not None and udh.total is not None and udh.seq is not None
        out.append(
            Fragment(
                source="79991234567",
                destination="SMSC",
                reference=udh.reference,
                total=udh.total,
                seq=udh.seq,
                payload=body,
                data_coding=encoding.data_coding,
            )
        )
    return out


@pytest.mark.parametrize("encoding", list(TextEncoding))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_split_then_reassemble_in_any_order_with_duplicates(
    encoding: TextEncoding, data: st.DataObject
) -> None:
    text = data.draw(TEXTS[encoding])
    frags = fragments(text, encoding)
    order = data.draw(st.permutations(frags))
    # a one-part message has nothing to join: every copy of it is a message of its own
    dups = data.draw(st.lists(st.sampled_from(frags), max_size=3)) if len(frags) > 1 else []
    # duplicates arrive before the last part, so they must be ignored, not counted
    feed = list(order[:-1]) + dups + [order[-1]]
    r = Reassembler()
    results = [res for f in feed if (res := r.add(f, now=1.0)) is not None]
    assert len(results) == 1
    assert results[0].text == text
    assert results[0].total == len(frags)
    assert r.pending == 0 and r.parts_held == 0
    if len(frags) > 1:
        # a late duplicate of a completed message does not start a phantom partial
        assert r.add(frags[0], now=2.0) is None
        assert r.pending == 0
    assert r.expire(now=1000.0) == []


def test_missing_part_is_reported_on_timeout() -> None:
    frags = fragments("a" * 400, TextEncoding.GSM)
    assert len(frags) == 3
    r = Reassembler(timeout=60)
    assert r.add(frags[2], now=0.0) is None
    assert r.add(frags[0], now=10.0) is None
    assert r.expire(now=59.0) == []
    expired = r.expire(now=60.0)
    assert len(expired) == 1
    gone = expired[0]
    assert gone.reason == "timeout"
    assert gone.missing == (2,)
    assert [seq for seq, _ in gone.parts] == [1, 3]
    assert gone.partial_text == "a" * (153 + 94)
    assert r.pending == 0 and r.parts_held == 0
    # the missing part arriving late starts a new partial, which expires in its turn
    assert r.add(frags[1], now=70.0) is None
    assert r.expire(now=200.0)[0].missing == (1, 3)


def test_pending_cap_evicts_the_oldest_and_reports_it() -> None:
    r = Reassembler(max_pending=2)
    for ref in (1, 2, 3):
        assert r.add(fragments("b" * 200, TextEncoding.GSM, ref=ref)[0], now=float(ref)) is None
    assert r.pending == 2
    evicted = r.expire(now=3.0)
    assert [(e.reference, e.reason) for e in evicted] == [(1, "evicted")]
    assert r.expire(now=3.0) == []  # reported once


def test_parts_cap_bounds_memory() -> None:
    r = Reassembler(max_parts=4)
    for ref in range(10):
        r.add(fragments("c" * 400, TextEncoding.GSM, ref=ref)[0], now=0.0)
        assert r.parts_held <= 4
    assert len(r.expire(now=0.0)) == 6
    assert r.parts_held == 4


def test_same_reference_from_different_senders_does_not_mix() -> None:
    a = fragments("x" * 200, TextEncoding.GSM)
    b = [
        Fragment(
            source="70000000000",
            destination=f.destination,
            reference=f.reference,
            total=f.total,
            seq=f.seq,
            payload=f.payload.replace(b"x", b"y"),
        )
        for f in a
    ]
    r = Reassembler()
    assert r.add(a[0], 0.0) is None
    assert r.add(b[1], 0.0) is None
    done_a = r.add(a[1], 0.0)
    done_b = r.add(b[0], 0.0)
    assert done_a is not None and done_a.text == "x" * 200
    assert done_b is not None and done_b.text == "y" * 200


def test_bad_part_numbers_and_single_part() -> None:
    r = Reassembler()
    bad = Fragment(source="1", destination="2", reference=1, total=2, seq=3, payload=b"z")
    assert r.add(bad, 0.0) is None
    assert r.pending == 0
    one = Fragment(source="1", destination="2", reference=1, total=1, seq=1, payload=b"z")
    done = r.add(one, 0.0)
    assert done is not None and done.text == "z"
    with pytest.raises(ValueError):
        Reassembler(timeout=0)


def test_reused_reference_with_new_content_is_a_new_message() -> None:
    r = Reassembler(timeout=300)
    first = fragments("p" * 200, TextEncoding.GSM, ref=9)
    second = fragments("q" * 200, TextEncoding.GSM, ref=9)
    assert r.add(first[0], 0.0) is None
    done = r.add(first[1], 0.0)
    assert done is not None and done.text == "p" * 200
    assert r.add(first[1], 1.0) is None  # a repeat: dropped
    assert r.pending == 0
    assert r.add(second[1], 2.0) is None  # same reference, other content: a new message
    done = r.add(second[0], 2.0)
    assert done is not None and done.text == "q" * 200
