"""The codec benchmark runs (tiny budget) and reports every library and both targets."""

from __future__ import annotations

import logging
import warnings

import pytest

from benchmarks import bench_codec


def test_bench_codec_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_codec.main(["--time", "0.02", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("smscenter", "aiosmpplib", "smpplib", "smpp34"):
        assert name in out
    assert "smscenter targets: op 1" in out
    # The run's silencing of peer warnings and logs does not leak into the process.
    assert logging.root.manager.disable == logging.NOTSET
    with pytest.raises(UserWarning), warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.warn("still an error", UserWarning, stacklevel=1)
