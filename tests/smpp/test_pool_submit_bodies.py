"""Personalised texts through SMPPPool to the simulator's SMSC over a real socket: every body the
builder makes from a shape's pieces reads back as its own text; what the encoder refuses is
refused before anything is written."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from smscenter import Limits, Message, MessageKind, SMPPPool, Timeouts
from smscenter.exceptions import LocalProtocolError
from smscenter.smpp.client.pool import ReconnectPolicy
from smscenter.smpp.submit import SubmitOptions, build_submit_sm
from smscenter.testing import SMSCSimulator

FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)
NAMES = ["Anna", "Анна", "Zoë", "Ёжик", "Ïñès", "{Bob}", "€uro", "Jo 😀"]


@pytest.fixture
async def sim() -> AsyncIterator[SMSCSimulator]:
    async with SMSCSimulator(seed=3, balance=100_000) as simulator:
        simulator.behaviour.smpp.throughput = None
        yield simulator


def pool(sim: SMSCSimulator, **kwargs: object) -> SMPPPool:
    return SMPPPool(
        sim.smpp_host,
        sim.smpp_port,
        sim.smpp_credentials,
        limits=Limits(max_rate=None),
        reconnect=FAST,
        timeouts=Timeouts(5),
        **kwargs,  # type: ignore[arg-type]
    )


def personalised(n: int) -> Iterator[Message]:
    for i in range(n):
        phone = f"+7999{i:07d}"
        name = NAMES[i % len(NAMES)]
        if i % 5 == 0:
            # long: three UCS-2 parts or two GSM ones, each with its own reference
            text = f"Здравствуйте, {name}! " * 8 if i % 2 else f"Dear {name}, " * 20
        else:
            text = f"Hello, {name}! Your code is {i:06d}"
        kind = MessageKind.FLASH if i % 7 == 3 else MessageKind.SMS
        yield Message(to=phone, text=text, sender="Shop", kind=kind)


@pytest.mark.parametrize("iso", [False, True])
async def test_every_personalised_text_arrives_as_written(sim: SMSCSimulator, iso: bool) -> None:
    sent = list(personalised(120))
    async with pool(sim, system_type="ISO" if iso else "") as p:
        outcomes = [o async for o in p.send_many(sent)]
    assert [o.error for o in outcomes] == [None] * len(sent)
    by_phone = {m.phone: m for m in sim.sent}
    assert len(by_phone) == len(sent)
    for message in sent:
        stored = by_phone[message.to[0].lstrip("+")]
        assert stored.text == message.text, message
    # one submit_sm per part, as many parts as build_submit_sm makes
    parts = [len(build_submit_sm(m, options=SubmitOptions(iso=iso))) for m in sent]
    assert sim.smpp.counters.submits == sum(parts) and max(parts) >= 3


async def test_a_ton_the_encoder_refuses_is_refused_before_the_smsc_sees_it(
    sim: SMSCSimulator,
) -> None:
    async with pool(sim, submit_options=SubmitOptions(dest_ton=300)) as p:
        with pytest.raises(LocalProtocolError, match="dest_addr_ton"):
            await p.send(Message(to="+79991234567", text="one"))
        outcomes = [o async for o in p.send_many(personalised(5))]
    assert all(isinstance(o.error, LocalProtocolError) for o in outcomes)
    assert len(outcomes) == 5
    assert sim.sent == []
