"""The simulator's pure state, driven by a fake clock (no sockets)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from smscenter._provider import MOSCOW
from smscenter.testing import (
    IncomingRecord,
    ManualClock,
    SendRequest,
    SimError,
    SimulatorState,
    SMSCSimulator,
    StatusChange,
    count_parts,
)
from smscenter.testing._state import (
    format_money,
    normalize_phone,
    parse_schedule,
    parse_validity,
    split_comment,
)

from ._helpers import call

T0 = 1_700_000_000.0


def make_state(**kwargs: object) -> tuple[SimulatorState, ManualClock]:
    clock = ManualClock(T0)
    state = SimulatorState(clock=clock, **kwargs)  # type: ignore[arg-type]
    state.add_account("acme", "pw", api_key="key", balance=Decimal("100"))
    return state, clock


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(10.0)
    clock.advance(2.5)
    assert clock() == 12.5
    with pytest.raises(ValueError):
        clock.advance(-1)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("4.1", "4.1"), ("83.60", "83.6"), ("1871.62", "1871.62"), ("4", "4.0"), ("0.005", "0.01")],
)
def test_format_money(amount: str, text: str) -> None:
    assert format_money(Decimal(amount)) == text


def test_count_parts_boundaries() -> None:
    assert count_parts("") == 1
    assert [count_parts("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert [count_parts("ж" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert count_parts("€" * 80) == 1 and count_parts("€" * 81) == 2  # extension chars count 2
    assert count_parts("ж" * 100, latin=True) == 1


@settings(max_examples=60, deadline=None)
@given(hst.text(max_size=1000))
def test_count_parts_never_exceeds_the_split_rule(text: str) -> None:
    parts = count_parts(text)
    assert 1 <= parts <= max(1, -(-len(text) * 2 // 67))
    assert count_parts(text + "x") >= parts


def test_split_comment() -> None:
    assert split_comment("hi\n~~~\nnote") == ("hi", "note")
    assert split_comment("hi ~~~ no") == ("hi ~~~ no", None)


def test_normalize_phone() -> None:
    assert normalize_phone("+7 (999) 123-45-67") == "79991234567"
    assert normalize_phone("89991234567") == "79991234567"
    assert normalize_phone("+89991234567") == "89991234567"
    assert normalize_phone("123") is None


def test_parse_schedule_forms() -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=MOSCOW).timestamp()
    assert parse_schedule("0", now) is None
    assert parse_schedule("+15", now) == now + 900
    assert parse_schedule("01700000000", now) == 1700000000
    at = datetime(2026, 1, 11, 9, 30, tzinfo=MOSCOW).timestamp()
    assert parse_schedule("1101260930", now) == at
    assert parse_schedule("11.01.26 09:30", now) == at
    assert parse_schedule("11.01.26 08:30", now, tz_hours=-1) == at
    assert parse_schedule("9-18", now) is None  # inside the window: now
    assert parse_schedule("14-18", now) == now + 2 * 3600
    assert parse_schedule("8-11", now) == datetime(2026, 1, 11, 8, tzinfo=MOSCOW).timestamp()
    for bad in ("tomorrow", "+x", "25-30", "32.13.26 10:00"):
        with pytest.raises(SimError) as info:
            parse_schedule(bad, now)
        assert info.value.code == 5


def test_parse_validity() -> None:
    assert parse_validity("2") == 7200
    assert parse_validity("00:30") == 1800
    for bad in ("0", "25", "00:00", "24:01"):
        with pytest.raises(SimError):
            parse_validity(bad)


def test_authenticate_forms() -> None:
    state, _ = make_state()
    account = state.accounts["acme"]
    assert state.authenticate("acme", "pw", None) is account
    assert state.authenticate("acme", account.password_md5, None) is account
    assert state.authenticate(None, None, "key") is account
    for login, psw, key in (("acme", "bad", None), ("nobody", "pw", None), (None, None, "x")):
        with pytest.raises(SimError) as info:
            state.authenticate(login, psw, key)
        assert info.value.code == 2
    assert "pw" not in repr(account)


def test_status_timeline_and_subscribers() -> None:
    state, clock = make_state()
    state.behaviour.transmit_delay = 2
    state.behaviour.delivery_delay = 10
    changes: list[StatusChange] = []
    unsubscribe = state.subscribe_status(changes.append)
    outcome = state.send("acme", SendRequest(phones=("79991234567",), text="hi"))
    [message] = outcome.messages
    assert message.status == -1 and state.accounts["acme"].balance == Decimal("97.5")
    clock.advance(1.9)
    assert state.poll() == [] and message.status == -1
    clock.advance(100)  # both transitions are due: both are reported, in order, at their times
    state.poll()
    assert [(c.old_status, c.new_status, c.at) for c in changes] == [
        (-1, 0, T0 + 2),
        (0, 1, T0 + 10),
    ]
    assert message.changed_at == T0 + 10
    unsubscribe()
    state.send("acme", SendRequest(phones=("79991234568",), text="again"))
    clock.advance(100)
    state.poll()
    assert len(changes) == 2


def test_validity_expires_before_delivery() -> None:
    state, clock = make_state()
    state.behaviour.delivery_delay = 7200
    outcome = state.send(
        "acme", SendRequest(phones=("79991234567",), text="hi", valid_seconds=3600)
    )
    clock.advance(3600)
    state.poll()
    assert outcome.messages[0].status == 3


def test_fingerprint_duplicates_and_window_knob() -> None:
    state, clock = make_state()
    request = SendRequest(phones=("79991234567",), text="hi", fingerprint=("a", "b"))
    state.send("acme", request)
    with pytest.raises(SimError) as info:
        state.send("acme", request)
    assert info.value.code == 9
    clock.advance(60)
    state.send("acme", request)
    state.behaviour.duplicate_window = 0
    state.send("acme", request)
    assert len(state.sent_messages()) == 3


def test_incoming_subscribers_and_answers_window() -> None:
    state, clock = make_state()
    heard: list[IncomingRecord] = []
    state.subscribe_incoming(heard.append)
    old = state.inject_incoming("acme", "+79991234567", "old")
    clock.advance(25 * 3600)
    new = state.inject_incoming("acme", "79991234567", "new", to_phone="79005550001")
    assert heard == [old, new]
    assert [r.text for r in state.answers("acme")] == ["new"]
    assert [r.text for r in state.answers("acme", hours=48)] == ["new", "old"]
    assert [r.text for r in state.answers("acme", after_id=old.id)] == ["new"]
    with pytest.raises(KeyError):
        state.inject_incoming("nobody", "79991234567", "x")


def test_outcome_mix_follows_weights_deterministically() -> None:
    def finals(seed: int) -> list[int]:
        state, clock = make_state(seed=seed)
        state.behaviour.outcomes = {(1, 0): 3.0, (20, 6): 1.0}
        for n in range(200):
            state.send("acme", SendRequest(phones=(f"7999000{n:04d}",), text="x"))
            state.accounts["acme"].balance = Decimal(100)
        clock.advance(3600)
        state.poll()
        return [m.status for m in state.sent_messages()]

    first = finals(3)
    assert first == finals(3)
    assert first != finals(4)
    assert 100 < first.count(1) < 190 and first.count(20) == 200 - first.count(1)


async def test_smpp_style_send_is_visible_over_http() -> None:
    """The hook the SMPP half uses: a send with transport="smpp" shows up in status.php."""
    async with SMSCSimulator() as sim:
        receipts: list[StatusChange] = []
        token = object()
        sim.subscribe_status(lambda c: receipts.append(c) if c.message.origin is token else None)
        outcome = sim.state.send(
            sim.login,
            SendRequest(
                phones=("79991234567",),
                text="over smpp",
                transport="smpp",
                origin=token,
                fingerprint=("smpp", "79991234567", "over smpp"),
            ),
        )
        sim.advance(60)
        assert [c.new_status for c in receipts] == [0, 1]
        async with httpx.AsyncClient(base_url=sim.base_url) as http:
            status = await call(http, sim, "status", id=outcome.id, phone="79991234567", all=1)
        assert status["status"] == 1 and status["message"] == "over smpp"
        assert sim.message(outcome.id) is not None
