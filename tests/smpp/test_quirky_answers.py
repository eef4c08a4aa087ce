"""Answers to submit_sm that look like success but carry no message id (a generic_nack with
status 0, an OK submit_sm_resp with an empty message_id) end as unknown outcomes, never as
success with id "": against a quirky SMSC on a real 127.0.0.1 socket."""

from __future__ import annotations

import contextlib

import anyio
import pytest
from _quirky_smsc import QuirkySMSC

from smscenter import (
    Credentials,
    Limits,
    Message,
    SMSCenterError,
    Timeouts,
    UnknownOutcomeError,
)
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.client.session import SMPPSession

CREDS = Credentials("acme", "secret")
MSG = Message(to="+79991234567", text="hello")
ANSWERS = ["nack0", "empty_id"]


@pytest.mark.parametrize("answer", ANSWERS)
async def test_session_send_is_not_success_without_an_id(answer: str) -> None:
    smsc = QuirkySMSC(answer)
    async with smsc, SMPPSession("127.0.0.1", smsc.port, CREDS, timeouts=Timeouts(5)) as session:
        with pytest.raises(UnknownOutcomeError) as info:
            await session.send(MSG)
        # The session stays usable: the next message gets a real id.
        smsc.quirky = lambda n: False
        result = await session.send(MSG)
    assert smsc.quirky_answers == 1
    assert isinstance(info.value, SMSCenterError)
    assert "message_id" in str(info.value.cause) or "generic_nack" in str(info.value.cause)
    assert result.message_id


@pytest.mark.parametrize("answer", ANSWERS)
async def test_pool_send_many_counts_no_empty_ids(answer: str) -> None:
    """A bulk run (the batched read path): every third answer is quirky; those end as unknown
    outcomes, the rest with real ids; nothing is a success with id ""."""
    async with QuirkySMSC(answer, quirky=lambda n: n % 3 == 0) as smsc:
        pool = SMPPPool(
            "127.0.0.1",
            smsc.port,
            CREDS,
            limits=Limits(max_rate=None),
            reconnect=ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05),
            timeouts=Timeouts(5),
        )
        outcomes = []
        with anyio.fail_after(20):
            async with (
                pool,
                contextlib.aclosing(
                    pool.send_many(Message(to=f"+7999{i:07d}", text="bulk") for i in range(60))
                ) as results,
            ):
                async for outcome in results:
                    outcomes.append(outcome)
    assert len(outcomes) == 60
    ok = [o for o in outcomes if o.ok]
    unknown = [o for o in outcomes if isinstance(o.error, UnknownOutcomeError)]
    assert all(o.message_id for o in ok)
    assert len(unknown) == smsc.quirky_answers == 20
    assert len(ok) + len(unknown) == 60
