"""A slow or silent SMSC (issue 14): one probe at a time and spaced, no feeding a bind whose
answers are overdue, late answers reported with their message id. Real sockets on 127.0.0.1
(tests/smpp/_edges_smsc.py)."""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterator

import anyio
import pytest
from _edges_smsc import EdgeSMSC, LateSMSC

from smscenter import Credentials, Limits, Message, Timeouts, UnknownOutcomeError
from smscenter.config import SMPPOptions
from smscenter.smpp.client.overdue import LateAnswer
from smscenter.smpp.client.pool import ReconnectPolicy, SMPPPool
from smscenter.smpp.client.results import SendOutcome

CREDS = Credentials("acme", "secret")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The session runs on both of anyio's backends."""
    return str(request.param)


FAST = ReconnectPolicy(initial=0.01, maximum=0.05, refused=0.05)


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    with anyio.fail_after(limit):
        while not predicate():  # noqa: ASYNC110 - polling server-side state, bounded
            await anyio.sleep(0.002)


def messages(n: int) -> Iterator[Message]:
    for i in range(n):
        yield Message(to=f"+7999{i:07d}", text="bulk", client_id=f"c{i}")


def pool(port: int, **kwargs: object) -> SMPPPool:
    kwargs.setdefault("limits", Limits(max_rate=None))
    kwargs.setdefault("reconnect", FAST)
    return SMPPPool("127.0.0.1", port, CREDS, **kwargs)  # type: ignore[arg-type]


async def test_late_answers_get_spaced_probes_not_a_storm() -> None:
    # Every submit is answered 0.25 s after it came, past the 0.1 s response timeout; the
    # probes are answered at once. Sends spread by a rate limit expire one by one: before, each
    # expiry sent a probe of its own (about one per expired submit).
    spacing = 0.1
    async with LateSMSC(delay=0.25) as smsc:
        timeouts = Timeouts(5, response=spacing, enquire_link=5)
        async with pool(smsc.port, timeouts=timeouts, limits=Limits(max_rate=400)) as p:
            start = anyio.current_time()
            outcomes = [o async for o in p.send_many(messages(80))]
            elapsed = anyio.current_time() - start
    assert len(outcomes) == 80
    assert all(isinstance(o.error, UnknownOutcomeError) for o in outcomes)
    probes = smsc.probe_times
    assert 1 <= len(probes) <= elapsed / spacing + 2, (len(probes), elapsed)
    # Spaced (as the SMSC sees them: minus what the loopback's delivery jitter can take off).
    gaps = [b - a for a, b in zip(probes, probes[1:], strict=False)]
    assert all(gap >= spacing / 2 for gap in gaps), gaps


async def test_a_silent_link_is_not_fed_beyond_one_window() -> None:
    # Bind 1 falls silent after 30 submits (socket open, nothing written); bind 2 stays healthy.
    # The rate limit makes the run outlast the response timeout and the probe's: before, the
    # silent bind took new submits into every slot a timed-out request freed.
    window = 10
    async with EdgeSMSC() as smsc:
        smsc.silent_after = (0, 30)
        timeouts = Timeouts(5, response=0.2, enquire_link=5)
        async with pool(
            smsc.port, timeouts=timeouts, limits=Limits(max_rate=800, connections=2, window=window)
        ) as p:
            await until(lambda: p.statistics().binds_up == 2)
            outcomes = [o async for o in p.send_many(messages(500))]
            stats = p.statistics()
            # the unanswered probe declares the silent link dead; a new bind replaces it
            await until(lambda: len(smsc.binds) == 3 and p.statistics().binds_up == 2)
            late = p.statistics().late_accepted + p.statistics().late_refused
    kinds = collections.Counter(type(o.error).__name__ for o in outcomes)
    assert len(outcomes) == 500
    assert set(kinds) <= {"NoneType", "UnknownOutcomeError"}, kinds
    assert stats.unknown == kinds["UnknownOutcomeError"]
    # What the silent SMSC received after it fell silent: at most the one window in flight.
    assert smsc.silent_submits == len(smsc.silent_to) <= window, smsc.silent_submits
    unknown = [o.recipient for o in outcomes if o.error is not None]
    stuck = [to for to in unknown if to.lstrip("+") in smsc.silent_to]
    assert 0 < len(stuck) <= window
    # Any other unknown outcome is the healthy bind's, answered after the 0.2 s response timeout
    # (a loaded machine): reported as a late answer, never a send to the silent link.
    assert len(unknown) - len(stuck) <= late, (unknown, smsc.silent_to, late)


async def test_late_answer_is_reported_with_its_message_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[LateAnswer] = []
    async with LateSMSC(delay=0.3) as smsc:
        timeouts = Timeouts(5, response=0.1, enquire_link=5)
        async with pool(
            smsc.port, timeouts=timeouts, options=SMPPOptions(on_late_answer=answers.append)
        ) as p:
            outcomes: list[SendOutcome] = []
            with caplog.at_level(logging.WARNING, logger="smscenter.smpp.client.session"):
                outcomes = [o async for o in p.send_many(messages(3))]
                assert all(isinstance(o.error, UnknownOutcomeError) for o in outcomes)
                await until(lambda: len(answers) == 3)
            stats = p.statistics()
    assert stats.unknown == 3 and stats.late_accepted == 3 and stats.late_refused == 0
    by_index = {a.index: a for a in answers}
    assert sorted(by_index) == [0, 1, 2]
    for index, answer in by_index.items():
        assert answer.accepted
        assert answer.message is not None and answer.message.client_id == f"c{index}"
        assert answer.client_id == f"c{index}"
        assert answer.recipient == f"+7999{index:07d}"
        assert (answer.part, answer.parts) == (0, 1)
        assert answer.bind.endswith("#1")
    assert sorted(a.message_id for a in answers) == ["1000", "1001", "1002"]
    logged = [r.getMessage() for r in caplog.records if "late submit_sm_resp" in r.getMessage()]
    assert len(logged) == 3
    assert all("message id '10" in line for line in logged), logged


async def test_a_failing_late_answer_handler_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(answer: LateAnswer) -> None:
        raise RuntimeError("handler bug")

    # The answer comes well after the response timeout, and the timeout leaves the second send
    # room even on a busy machine.
    async with LateSMSC(delay=1.5) as smsc:
        timeouts = Timeouts(5, response=0.5, enquire_link=5)
        async with pool(
            smsc.port, timeouts=timeouts, options=SMPPOptions(on_late_answer=boom)
        ) as p:
            with pytest.raises(UnknownOutcomeError):
                await p.send(Message(to="+79991234567", text="x"))
            await until(lambda: p.statistics().late_accepted == 1)
            # the bind still works
            smsc.delay = 0
            assert (await p.send(Message(to="+79991234567", text="y"))).message_id == "1001"
    assert any("on_late_answer failed" in r.getMessage() for r in caplog.records)
