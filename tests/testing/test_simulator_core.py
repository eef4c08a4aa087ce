"""The simulator over a real socket: send, status, balance, auth, errors, counters."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from urllib.parse import quote, urlencode

import anyio
import anyio.abc
import httpx
import pytest

from smscenter import Credentials
from smscenter.testing import SMSCSimulator

from ._helpers import call

PHONE = "79991234567"


async def test_send_cost3_bills_and_answers_provider_shape(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    body = await call(http, sim, "send", phones="+" + PHONE, mes="hello", cost=3)
    assert body == {"id": 1, "cnt": 1, "cost": "2.5", "balance": "997.5"}
    assert sim.balance() == Decimal("997.5")
    [message] = sim.sent
    assert (message.phone, message.text, message.parts) == (PHONE, "hello", 1)


@pytest.mark.parametrize(
    ("cost", "expected_keys"),
    [("0", {"id", "cnt"}), ("1", {"cost", "cnt"}), ("2", {"id", "cnt", "cost"})],
)
async def test_send_cost_modes(
    sim: SMSCSimulator, http: httpx.AsyncClient, cost: str, expected_keys: set[str]
) -> None:
    body = await call(http, sim, "send", phones=PHONE, mes="x" * 161, cost=cost)
    assert set(body) == expected_keys
    assert body["cnt"] == 2
    if cost == "1":
        assert sim.sent == [] and sim.balance() == Decimal(1000)
    else:
        assert sim.balance() == Decimal(995)


async def test_comment_is_stored_not_billed(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    body = await call(http, sim, "send", phones=PHONE, mes="a" * 160 + "\n~~~\n" + "c" * 50)
    assert body["cnt"] == 1
    assert sim.sent[0].comment == "c" * 50
    status = await call(http, sim, "status", id=body["id"], phone=PHONE, all=1)
    assert status["comment"] == "c" * 50 and status["message"] == "a" * 160


async def test_status_progresses_with_simulated_time(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sent = await call(http, sim, "send", phones=PHONE, mes="hi")
    first = await call(http, sim, "status", id=sent["id"], phone=PHONE)
    assert first["status"] == -1
    sim.advance(sim.behaviour.transmit_delay)
    assert (await call(http, sim, "status", id=sent["id"], phone=PHONE))["status"] == 0
    sim.advance(sim.behaviour.delivery_delay)
    final = await call(http, sim, "status", id=sent["id"], phone=PHONE)
    assert final["status"] == 1 and final["err"] == 0
    assert final["last_timestamp"] == int(sim.sent[0].submitted_at + sim.behaviour.delivery_delay)


async def test_bulk_status_is_an_array_and_unknown_gets_minus3(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sent = await call(http, sim, "send", phones=PHONE, mes="hi")
    single_bulk = await call(http, sim, "status", id=f"{sent['id']},", phone=f"{PHONE},")
    assert isinstance(single_bulk, list) and single_bulk[0]["id"] == sent["id"]
    many = await call(http, sim, "status", id=f"{sent['id']},777", phone=f"{PHONE},79990000000")
    assert [row["status"] for row in many] == [-1, -3]
    assert many[1]["id"] == 777


async def test_unknown_single_status_is_error_3(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    body = await call(http, sim, "status", id=12345, phone=PHONE)
    assert body["error_code"] == 3


async def test_auth_forms(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    md5 = hashlib.md5(b"demo-password").hexdigest()
    ok_md5 = await http.post("/sys/balance.php", data={"login": "demo", "psw": md5, "fmt": "3"})
    assert ok_md5.json() == {"balance": "1000.0"}
    ok_key = await http.post("/sys/balance.php", data={"apikey": "demo-api-key", "fmt": "3"})
    assert ok_key.json()["balance"] == "1000.0"
    bad = await http.post("/sys/balance.php", data={"login": "demo", "psw": "nope", "fmt": "3"})
    assert bad.json() == {"error": "authorise error", "error_code": 2}
    upper = await http.post(
        "/sys/balance.php", data={"login": "demo", "psw": md5.upper(), "fmt": "3"}
    )
    assert upper.json()["error_code"] == 2


async def test_added_account_and_balance(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    creds = sim.add_account("shop", balance=Decimal("3"))
    assert isinstance(creds, Credentials)
    response = await http.post("/sys/balance.php", data={**creds.http_params(), "fmt": "3"})
    assert response.json() == {"balance": "3.0"}
    sim.set_balance("shop", Decimal("1.2"))
    data = {**creds.http_params(), "fmt": "3", "phones": PHONE, "mes": "hi"}
    refused = (await http.post("/sys/send.php", data=data)).json()
    assert refused["error_code"] == 3 and isinstance(refused["id"], int)
    assert sim.balance("shop") == Decimal("1.2")


async def test_errors_7_5_1_and_6(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    invalid = await call(http, sim, "send", phones="123", mes="hi")
    assert invalid["error_code"] == 7 and "id" in invalid
    bad_time = await call(http, sim, "send", phones=PHONE, mes="hi", time="yesterday")
    assert bad_time["error_code"] == 5
    no_phones = await call(http, sim, "send", mes="hi")
    assert no_phones["error_code"] == 1
    sim.behaviour.forbidden_words.add("casino")
    forbidden = await call(http, sim, "send", phones=PHONE, mes="Best CASINO")
    assert forbidden["error_code"] == 6 and "id" in forbidden


async def test_duplicate_send_refused_within_a_minute(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    first = await call(http, sim, "send", phones=PHONE, mes="same")
    assert "id" in first
    again = await call(http, sim, "send", phones=PHONE, mes="same")
    assert again == {"error": "duplicate request, wait a minute", "error_code": 9}
    assert len(sim.sent) == 1
    sim.advance(61)
    assert "id" in await call(http, sim, "send", phones=PHONE, mes="same")


async def test_failed_send_does_not_count_as_duplicate(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sim.set_balance(None, 0)
    assert (await call(http, sim, "send", phones=PHONE, mes="x"))["error_code"] == 3
    sim.set_balance(None, 10)
    assert "id" in await call(http, sim, "send", phones=PHONE, mes="x")


async def test_fmt_0_and_1_forms(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    assert await call(http, sim, "send", fmt="1", phones=PHONE, mes="a", cost=3) == "1,1,2.5,997.5"
    assert await call(http, sim, "send", fmt="0", phones=PHONE, mes="b") == "OK - 1 SMS, ID - 2"
    assert (await call(http, sim, "send", fmt="1", phones="12", mes="c")).endswith(",-7")
    assert await call(http, sim, "balance", fmt="0") == "995.0"
    assert (await call(http, sim, "balance", fmt="0", auth=False)).startswith("ERROR = 2 (")
    xml = await call(http, sim, "balance", fmt="2", auth=False)
    assert "<error_code>2</error_code>" in xml


async def test_get_request_and_counters(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    params = {**sim.credentials.http_params(), "fmt": "3"}
    response = await http.get("/sys/balance.php", params=params)
    assert response.json()["balance"] == "1000.0"
    await call(http, sim, "balance")
    assert sim.requests == {"balance": 2}
    get_record, post_record = sim.records
    assert "psw" in get_record.query
    assert "psw" in post_record.form and "psw" not in post_record.query
    assert "demo-password" not in repr(post_record)


async def test_concurrency_limit_and_max_in_flight(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sim.behaviour.latency = 0.3
    answers: list[dict[str, object]] = []

    async def one() -> None:
        answers.append(await call(http, sim, "balance"))

    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=sim.base_url, limits=limits, timeout=10) as wide:
        http = wide
        async with anyio.create_task_group() as group:
            for _ in range(16):
                group.start_soon(one)
    refused = [a for a in answers if a.get("error_code") == 9]
    assert len(refused) == 2  # the 15th and 16th in flight are refused
    assert sim.max_concurrent() == 16


async def test_forced_error_empty_body_and_dropped_connection(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sim.behaviour.fail_next("balance", 4)
    assert (await call(http, sim, "balance"))["error_code"] == 4
    assert "balance" in await call(http, sim, "balance")
    sim.behaviour.empty_responses = 1
    empty = await http.post("/sys/balance.php", data=sim.credentials.http_params())
    assert empty.status_code == 200 and empty.content == b""
    sim.behaviour.drop_connections = 1
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/sys/balance.php", data=sim.credentials.http_params())
    assert "balance" in await call(http, sim, "balance")


async def test_windows_1251_is_the_default_charset(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    text = "Привет"
    data = {**sim.credentials.http_params(), "fmt": "3", "phones": PHONE}
    body = urlencode(data) + "&mes=" + quote(text.encode("cp1251"))
    response = await http.post(
        "/sys/send.php",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.headers["content-type"] == "application/json; charset=windows-1251"
    assert "id" in response.json()
    assert sim.sent[0].text == text


async def test_fixture_from_plugin(smsc_simulator: SMSCSimulator) -> None:
    async with httpx.AsyncClient(base_url=smsc_simulator.base_url) as client:
        response = await client.post(
            "/sys/balance.php", data={**smsc_simulator.credentials.http_params(), "fmt": "3"}
        )
    assert response.json() == {"balance": "1000.0"}


async def test_nothing_outlives_the_context() -> None:
    sim = SMSCSimulator()
    async with sim:
        url = sim.base_url
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/sys/balance.php")


async def test_exception_in_body_still_shuts_down_cleanly() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(RuntimeError, match="boom"):
            async with SMSCSimulator() as sim:
                url = sim.base_url + "/sys/balance.php"
                response = await client.post(url, data={**sim.credentials.http_params()})
                assert response.status_code == 200  # keep-alive connection left open
                raise RuntimeError("boom")
        with pytest.raises(httpx.TransportError):
            await client.post(url, data={"fmt": "3"})


async def test_cancelled_body_still_shuts_down_cleanly() -> None:
    with anyio.move_on_after(0.2) as scope:
        async with SMSCSimulator() as sim:
            sim.behaviour.latency = 5
            async with httpx.AsyncClient(base_url=sim.base_url) as client:
                await client.post("/sys/balance.php", data=sim.credentials.http_params())
    assert scope.cancelled_caught


async def test_lost_answer_after_a_processed_send(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sim.behaviour.fault_endpoint = "send"
    sim.behaviour.lose_answers = 1
    assert "balance" in await call(http, sim, "balance")  # other endpoints unaffected
    with pytest.raises(httpx.RemoteProtocolError):
        await call(http, sim, "send", phones="79991234567", mes="maybe", id=77)
    [message] = sim.sent  # stored and billed although the client never heard
    assert message.id == 77 and sim.balance() == Decimal("997.5")
    retry = await call(http, sim, "send", phones="79991234567", mes="maybe", id=77)
    assert retry["error_code"] == 9
    status = await call(http, sim, "status", id=77, phone="79991234567")
    assert status["status"] == -1


async def test_start_service_lives_and_dies_with_the_simulator() -> None:
    events: list[str] = []

    async def service(name: str, *, task_status: anyio.abc.TaskStatus[str]) -> None:
        task_status.started(f"{name} ready")
        try:
            await anyio.sleep_forever()
        finally:
            events.append("stopped")

    async with SMSCSimulator() as sim:
        assert await sim.start_service(service, "smpp") == "smpp ready"
        assert events == []
    assert events == ["stopped"]


def test_trio_backend_is_refused_clearly() -> None:
    async def main() -> None:
        async with SMSCSimulator():
            pass  # pragma: no cover

    with pytest.raises(RuntimeError, match="asyncio"):
        anyio.run(main, backend="trio")


async def test_assertion_helpers(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    await call(http, sim, "send", phones="+7 999 123-45-67", mes="one", id="order-7")
    sent = await call(http, sim, "send", phones="79991234567,79991234568", mes="two")
    assert [m.text for m in sim.sent_to("+7 (999) 123-45-67")] == ["one", "two"]
    assert sim.message(sent["id"], "79991234568") is not None
    assert sim.message(str(sent["id"]), "79991234568") is not None
    assert sim.message("order-7") is not None and sim.message(999) is None
    shop = sim.add_account("shop", "pw")
    response = await http.post(
        "/sys/send.php", data={**shop.http_params(), "phones": "79991234567", "mes": "x"}
    )
    assert response.text.startswith("OK")
    assert sim.message(3) is not None and sim.message(3).login == "shop"  # type: ignore[union-attr]
    assert sim.max_concurrent("shop") == 1
