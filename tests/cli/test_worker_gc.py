"""``smscenter worker`` is an application's entry point: once set up, it sends with the
collector settled (``smscenter.fleet.tuned_gc``: what lives as long as the process frozen, fewer
young collections), and leaves the process as it found it (the CLI runs in-process here)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from smscenter.fleet import GC_THRESHOLD

from .conftest import SimThread


def test_worker_sends_with_the_collector_tuned_and_restores_it(
    run: Callable[..., Result], redis_url: str, tmp_path: Path, sim_thread: SimThread
) -> None:
    source = tmp_path / "gc.csv"
    source.write_text("phone\n" + "".join(f"+7999700{i:04d}\n" for i in range(30)))
    env = sim_thread.env
    assert run("bulk", str(source), "--text", "Hi", "--redis", redis_url, env=env).exit_code == 0
    before = gc.get_threshold()
    assert before != GC_THRESHOLD
    # Watch the process's collector from another thread while the worker runs (bounded).
    seen: set[tuple[tuple[int, int, int], bool]] = set()
    done = threading.Event()

    def watch() -> None:
        for _ in range(200_000):
            seen.add((gc.get_threshold(), gc.get_freeze_count() > 0))
            if done.wait(0.0005):
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        sent = run("worker", "--redis", redis_url, "--rate", "1000", "--until-empty", env=env)
    finally:
        done.set()
        watcher.join()
    assert sent.exit_code == 0, sent.output
    assert (GC_THRESHOLD, True) in seen  # while it sent: tuned and frozen
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0  # and after: as before
