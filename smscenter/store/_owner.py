"""Who is sending a record: an owner token, and whether its process still lives.

A record in ``SENDING`` carries the token of the process that claimed it. When another process
opens the store, it must tell "that sender is still working" (leave the record alone: do not
send it again) from "that sender died mid-send" (the message may or may not have gone out: read
it as ``UNKNOWN``). On one host this can be checked: the process id must exist and must have
been started when the token says (process ids are reused). A token from another host cannot be
checked and is taken as alive, the safe side (see the one-host note on
:class:`~smscenter.store.SQLiteStore`).
"""

from __future__ import annotations

import os
import secrets
import socket

__all__ = ("OwnerCheck", "new_owner_token")

_SEP = "|"


def _stat(pid: int) -> tuple[str, str]:
    """The process's state letter and start time as the kernel gives them (Linux
    ``/proc/<pid>/stat`` fields 3 and 22, the start in clock ticks since boot), or ``("", "")``
    where there is no ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read()
    except OSError:
        return "", ""
    # The command name (field 2) is in parentheses and may hold spaces: split after its end.
    fields = raw[raw.rfind(b")") + 2 :].split()
    if len(fields) <= 19:
        return "", ""
    return fields[0].decode(), fields[19].decode()


def _start_time(pid: int) -> str:
    return _stat(pid)[1]


def _host() -> str:
    return socket.gethostname().replace(_SEP, "_")


def new_owner_token() -> str:
    """A token naming this store instance: host, process id, the process's start time and a
    random part (so that two stores in one process are told apart)."""
    pid = os.getpid()
    return _SEP.join((_host(), str(pid), _start_time(pid), secrets.token_hex(4)))


class OwnerCheck:
    """Answers "is the sender behind this token still alive?" for one store."""

    def __init__(self, own_token: str) -> None:
        self.own_token = own_token
        self._host = own_token.split(_SEP, 1)[0]

    def alive(self, token: str | None) -> bool:
        """True unless the token's process is known to have stopped (a token from another host,
        or one this check cannot read, counts as alive: never resend on a guess)."""
        if not token:
            return False
        if token == self.own_token:
            return True
        parts = token.split(_SEP)
        if len(parts) != 4 or parts[0] != self._host or not parts[1].isdigit():
            return True
        pid = int(parts[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, under another user
        except OSError:
            return True
        state, started = _stat(pid)
        if state in ("Z", "X"):
            return False  # killed, not yet reaped by its parent
        # A different start time means the id was reused by a new process: the owner is gone.
        return not (parts[2] and started and started != parts[2])
