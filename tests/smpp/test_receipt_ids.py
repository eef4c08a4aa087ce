from __future__ import annotations


def test_learning_memory_keeps_the_newest_ids_and_stays_bounded() -> None:
    from smscenter.smpp.receipt_ids import MEMORY, ReceiptIdMatcher

    matcher = ReceiptIdMatcher()
    extra = 1_024
    for start in range(0, MEMORY + extra, 512):
        matcher.saw(str(n) for n in range(start, start + 512))
    seen = matcher._seen
    assert len(seen) == MEMORY
    assert "0" not in seen and str(extra - 1) not in seen
    assert str(extra) in seen and str(MEMORY + extra - 1) in seen
    assert next(iter(seen)) == str(extra)
