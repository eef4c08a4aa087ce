"""``tuned_gc``: a worker process's collector settings, applied and then undone."""

from __future__ import annotations

import gc

import pytest

from smscenter.fleet import GC_THRESHOLD, tuned_gc


def test_tuned_gc_freezes_what_lives_and_raises_the_young_threshold_then_restores() -> None:
    before = gc.get_threshold()
    kept = [object() for _ in range(10)]  # a set-up object: alive when the send starts
    with tuned_gc():
        assert gc.get_threshold() == GC_THRESHOLD
        # What lives now is in the permanent generation: no collection traverses it again.
        assert gc.get_freeze_count() > len(kept)
        assert gc.collect(2) >= 0 and gc.get_freeze_count() > len(kept)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_tuned_gc_restores_after_an_error_and_checks_its_threshold() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), tuned_gc((5_000, 5, 5)):
        assert gc.get_threshold() == (5_000, 5, 5)
        raise RuntimeError("the send failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(ValueError, match="three numbers"), tuned_gc((1, 2)):  # type: ignore[arg-type]
        pass
    with pytest.raises(ValueError, match="three numbers"), tuned_gc((-1, 2, 3)):
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
