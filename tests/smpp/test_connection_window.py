"""The in-flight window: O(1) bookkeeping, deadlines in any order, bounded memory; one entry
type, whether one request or many are sent together."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscenter.smpp._window import Window
from smscenter.smpp.constants import CommandId

SUBMIT = CommandId.SUBMIT_SM


def test_capacity_counts_only_counted_requests() -> None:
    window = Window(2)
    window.add([1], SUBMIT, 10.0, counted=True)
    window.add([2], CommandId.ENQUIRE_LINK, 10.0, counted=False)
    assert (len(window), window.in_flight, window.available) == (2, 1, 1)
    assert 1 in window and 3 not in window
    with pytest.raises(ValueError, match="already in flight"):
        window.add([1], SUBMIT, None, counted=True)
    assert window.pop(1) is not None
    assert window.pop(1) is None
    assert window.available == 2
    with pytest.raises(ValueError):
        Window(0)


def test_answered_requests_do_not_pile_up() -> None:
    # Responses arrive in order: the deadline queue is trimmed as they do, so its size stays
    # bounded by what is really outstanding (no scan, no growth).
    window = Window(10)
    for seq in range(1, 100_001):
        window.add([seq], SUBMIT, float(seq), counted=True)
        if seq > 5:
            window.pop(seq - 5)
    assert len(window) == 5
    assert len(window._fifo) == 5
    assert window.next_deadline() == 99_996.0


def test_expired_memory_is_bounded() -> None:
    window = Window(10, remember_expired=3)
    for seq in range(1, 7):
        window.add([seq], SUBMIT, 1.0, counted=True)
    assert [seq for seq, _ in window.expire(1.0)] == [1, 2, 3, 4, 5, 6]
    assert window.pop_expired(1) is None  # forgotten: only the last 3 are remembered
    assert window.pop_expired(6) is SUBMIT
    assert window.pop_expired(6) is None  # reported once
    assert len(window._expired) <= 3


def test_drain() -> None:
    window = Window(3)
    window.add([1], SUBMIT, 5.0, counted=True)
    window.add([2], SUBMIT, None, counted=True)
    assert [seq for seq, _ in window.drain()] == [1, 2]
    assert len(window) == 0 and window.available == 3
    assert window.expire(100.0) == []
    assert window.next_deadline() is None


@settings(max_examples=100, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["add", "pop", "expire"]),
            st.integers(1, 30),
            st.one_of(st.none(), st.floats(0, 100)),
        ),
        max_size=80,
    )
)
def test_matches_a_simple_model(ops: list[tuple[str, int, float | None]]) -> None:
    window = Window(1000)
    model: dict[int, float | None] = {}
    for op, seq, value in ops:
        if op == "add":
            if seq in model:
                continue
            window.add([seq], SUBMIT, value, counted=True)
            model[seq] = value
        elif op == "pop":
            assert (window.pop(seq) is not None) == (seq in model)
            model.pop(seq, None)
        else:
            now = value if value is not None else 50.0
            expired = {seq for seq, _ in window.expire(now)}
            expected = {s for s, d in model.items() if d is not None and d <= now}
            assert expired == expected
            for s in expected:
                del model[s]
        live = [d for d in model.values() if d is not None]
        assert window.next_deadline() == (min(live) if live else None)
        assert len(window) == len(model)


@settings(max_examples=150, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["add", "batch", "pop", "answered", "expire", "drain"]),
            st.integers(1, 40),
            st.integers(1, 6),
            st.one_of(st.none(), st.floats(0, 100)),
        ),
        max_size=80,
    )
)
def test_batches_match_the_same_simple_model(
    ops: list[tuple[str, int, int, float | None]],
) -> None:
    # Many requests added together (one entry for all) behave as that many added one by one
    # with one deadline, whatever else happens to the requests one by one.
    window = Window(1000)
    model: dict[int, float | None] = {}
    for op, seq, size, value in ops:
        if op == "add":
            if seq in model:
                continue
            window.add([seq], SUBMIT, value, counted=True)
            model[seq] = value
        elif op == "batch":
            seqs = [s for s in range(seq, seq + size) if s not in model]
            window.add(seqs, SUBMIT, value, counted=True)
            model.update(dict.fromkeys(seqs, value))
        elif op == "pop":
            entry = window.pop(seq)
            assert (entry is not None) == (seq in model)
            assert entry is None or entry.command_id is SUBMIT
            model.pop(seq, None)
        elif op == "answered":
            answers = [(s, "id") for s in range(seq, seq + size)]
            stop = window.pop_answered(answers, 0, SUBMIT)
            expected_stop = 0
            while expected_stop < size and answers[expected_stop][0] in model:
                del model[answers[expected_stop][0]]
                expected_stop += 1
            assert stop == expected_stop
        elif op == "drain":
            drained = window.drain()
            assert drained == [(s, SUBMIT) for s in model]  # in sending order
            model.clear()
        else:
            now = value if value is not None else 50.0
            expired = [seq for seq, _ in window.expire(now)]
            expected = {s for s, d in model.items() if d is not None and d <= now}
            assert sorted(expired) == sorted(expected) and len(expired) == len(expected)
            for s in expected:
                del model[s]
                assert window.pop_expired(s) is SUBMIT
        live = [d for d in model.values() if d is not None]
        assert window.next_deadline() == (min(live) if live else None)
        assert len(window) == len(model) == window.in_flight
        assert all(s in window for s in model)


def test_a_batch_refuses_numbers_in_flight() -> None:
    window = Window(10)
    window.add([3], SUBMIT, None, counted=True)
    with pytest.raises(ValueError, match="already in flight"):
        window.add([2, 3, 4], SUBMIT, 1.0, counted=True)
    assert len(window) == 1 and window.in_flight == 1
    window.add([], SUBMIT, 1.0, counted=True)
    assert len(window) == 1
