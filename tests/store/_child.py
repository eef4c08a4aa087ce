"""A second process on the same store, for the conformance suite (run as a script).

``python _child.py <backend> <location> write <client_id>...``: records each id as sent and
accepted (message id ``9<client_id>``), then exits.
``python _child.py <backend> <location> hold <client_id>...``: claims each id for sending,
prints ``ready``, and waits to be killed (a sender that dies mid-send).
"""

from __future__ import annotations

import asyncio
import sys

from smscenter import Transport
from smscenter.store import PlannedSend, Settlement, TrackedState
from tests.store._backends import open_store


async def main(name: str, location: str, mode: str, client_ids: list[str]) -> None:
    async with open_store(name, location) as store:
        sends = [PlannedSend(client_id=c, recipient=f"7900{c}", transport=Transport.SMPP)
                 for c in client_ids]  # fmt: skip
        answers = await store.prepare(sends)
        assert answers == [None] * len(sends), answers
        if mode == "hold":
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await asyncio.sleep(3600)
        await store.settle(
            [
                Settlement(client_id=c, state=TrackedState.ACCEPTED, message_id=f"9{c}")
                for c in client_ids
            ]
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
