"""A campaign process for the drills: ``python -m tests.drills._campaign '<json config>'``.

Sends ``count`` messages through an ``SMPPPool(store=SQLiteStore(path))`` of transceiver binds,
client ids ``c0``, ``c1``, ... with the client id in the text (``Drill c17``) so the
simulator's side can count what it accepted per client id. Meanwhile it drains the pool's
report stream (the pool writes each receipt to the store before acknowledging it), and after
the last outcome it keeps listening until no record is left waiting for its receipt, or
``wait`` seconds pass.

It prints ``bound`` once the pool is up, then, at the end, one JSON line: the outcomes of this
run by kind, and the client ids that got no outcome or more than one.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from smscenter import Credentials, Limits, Message, SMPPPool
from smscenter.store import SQLiteStore, TrackedState


def client_id(n: int) -> str:
    """The client id of message ``n``."""
    return f"c{n}"


def phone(n: int) -> str:
    """The recipient of message ``n`` (a distinct one each)."""
    return f"7990{n:07d}"


def text(n: int) -> str:
    """The text of message ``n``: it names the client id (the simulator counts by it)."""
    return f"Drill {client_id(n)}"


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    count: int = cfg["count"]
    outcomes: Counter[str] = Counter()
    per_client: Counter[str] = Counter()
    async with SQLiteStore(Path(cfg["store"])) as store:
        pool = SMPPPool(
            cfg["host"],
            cfg["port"],
            Credentials(cfg["login"], cfg["password"]),
            limits=Limits(connections=2, window=cfg.get("window", 50), max_rate=cfg.get("rate")),
            store=store,
        )

        def messages() -> Iterator[Message]:
            for n in range(count):
                yield Message(to=phone(n), text=text(n), client_id=client_id(n))

        async with pool:
            sys.stdout.write("bound\n")
            sys.stdout.flush()

            async def drain() -> None:
                async with pool.reports() as stream:
                    async for _ in stream:
                        pass

            async with anyio.create_task_group() as group:
                group.start_soon(drain)
                resend = bool(cfg.get("resend_unknown"))
                async for outcome in pool.send_many(messages(), resend_unknown=resend):
                    per_client[str(outcome.message.client_id)] += 1
                    kind = "ok" if outcome.error is None else type(outcome.error).__name__
                    outcomes[kind] += 1
                # Receipts still due: listen until none is awaited, within the deadline.
                for _ in range(int(cfg.get("wait", 20) / 0.05)):
                    if not (await store.counts()).get(TrackedState.ACCEPTED, 0):
                        break
                    await anyio.sleep(0.05)
                counts = await store.counts()
                group.cancel_scope.cancel()
    wanted = {client_id(n) for n in range(count)}
    return {
        "outcomes": dict(outcomes),
        "missing": sorted(wanted - set(per_client)),
        "repeated": sorted(c for c, k in per_client.items() if k > 1),
        "counts": {state.value: n for state, n in counts.items()},
    }


def main() -> None:
    cfg = json.loads(sys.argv[1])
    sys.stdout.write(json.dumps(anyio.run(run, cfg, backend="asyncio")) + "\n")


if __name__ == "__main__":
    main()
