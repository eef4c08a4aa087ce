"""Every endpoint beyond send/status/balance, over a real socket with plain httpx."""

from __future__ import annotations

from decimal import Decimal

import httpx

from smscenter.testing import HlrResult, SMSCSimulator

from ._helpers import call

PHONE = "79161234567"


async def test_op1_per_phone_details_and_partial_invalid(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    body = await call(http, sim, "send", phones=f"{PHONE},123", mes="hi", op=1, cost=2)
    assert body["cnt"] == 1 and body["cost"] == "2.5"
    by_phone = {row["phone"]: row for row in body["phones"]}
    assert by_phone[PHONE]["mccmnc"] == "25001" and by_phone[PHONE]["cost"] == "2.5"
    assert by_phone["123"]["status"] == "22" and by_phone["123"]["error"] == "249"


async def test_status_all_levels_and_delete(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    sent = await call(http, sim, "send", phones=PHONE, mes="hello", sender="Shop")
    basic = await call(http, sim, "status", id=sent["id"], phone=PHONE)
    assert set(basic) == {"status", "last_date", "last_timestamp", "flag", "err"}
    full = await call(http, sim, "status", id=sent["id"], phone=PHONE, all=1)
    assert full["sender_id"] == "Shop" and full["message"] == "hello" and full["cost"] == "2.5"
    assert "country" not in full
    geo = await call(http, sim, "status", id=sent["id"], phone=PHONE, all=2)
    assert (geo["country"], geo["operator"]) == ("Russia", "MTS")
    assert await call(http, sim, "status", id=sent["id"], phone=PHONE, del_=1) == {"result": "OK"}
    assert (await call(http, sim, "status", id=sent["id"], phone=PHONE))["error_code"] == 3


async def test_hlr_result_in_status(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    sim.set_hlr_result(PHONE, HlrResult(imsi="250011234567890", mcc="250", mnc="01", cn="RU"))
    sent = await call(http, sim, "send", phones=PHONE, hlr=1, cost=2)
    assert sent["cost"] == "0.5"
    sim.advance(60)
    status = await call(http, sim, "status", id=sent["id"], phone=PHONE)
    assert status["status"] == 1 and status["imsi"] == "250011234567890"
    assert status["flag"] == 4  # type bits: HLR


async def test_outcome_mix_is_seeded_and_deterministic() -> None:
    async def run() -> list[int]:
        async with SMSCSimulator(seed=7) as sim:
            sim.behaviour.outcomes = {(1, 0): 1.0, (20, 6): 1.0}
            async with httpx.AsyncClient(base_url=sim.base_url) as client:
                for n in range(20):
                    await call(client, sim, "send", phones=f"7916000{n:04d}", mes="x")
            sim.advance(3600)
            return [m.status for m in sim.sent]

    first, second = await run(), await run()
    assert first == second
    assert set(first) == {1, 20}


async def test_phone_outcome_and_undeliverable(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    sim.behaviour.phone_outcomes[PHONE] = (25, 1)
    sent = await call(http, sim, "send", phones=PHONE, mes="x")
    sim.advance(60)
    status = await call(http, sim, "status", id=sent["id"], phone=PHONE)
    assert (status["status"], status["err"]) == (25, 1)
    sim.behaviour.undeliverable_phones.add("79160000000")
    refused = await call(http, sim, "send", phones="79160000000", mes="x")
    assert refused["error_code"] == 8 and "id" in refused


async def test_scheduled_send_stays_queued_until_its_time(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sent = await call(http, sim, "send", phones=PHONE, mes="later", time="+10")
    sim.advance(300)
    assert (await call(http, sim, "status", id=sent["id"], phone=PHONE))["status"] == -1
    sim.advance(600)
    assert (await call(http, sim, "status", id=sent["id"], phone=PHONE))["status"] == 1


async def test_list_send_and_client_id(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    body = await call(http, sim, "send", list=f"{PHONE}:first\n79161234568:second", id=42, cost=3)
    assert body["id"] == 42 and body["cnt"] == 2 and body["cost"] == "5.0"
    texts = {m.phone: m.text for m in sim.sent}
    assert texts == {PHONE: "first", "79161234568": "second"}
    status = await call(http, sim, "status", id=42, phone="79161234568", all=1)
    assert status["message"] == "second"


async def test_get_messages_and_answers(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    assert (await call(http, sim, "get", get_messages=1))["error_code"] == 3
    await call(http, sim, "send", phones=PHONE, mes="one")
    await call(http, sim, "send", phones=PHONE, mes="two")
    rows = await call(http, sim, "get", get_messages=1, cnt=10)
    assert [r["message"] for r in rows] == ["two", "one"]
    assert rows[0]["id"] == 2 and rows[0]["country"] == "Russia"
    assert await call(http, sim, "get", get_answers=1) == []
    first = sim.inject_incoming("+79160000001", "yes", to_phone="79005550001", answer_to=1)
    sim.advance(1)
    sim.inject_incoming("79160000002", "no")
    answers = await call(http, sim, "get", get_answers=1)
    assert [a["message"] for a in answers] == ["no", "yes"]
    assert answers[1]["phone"] == "79160000001" and answers[1]["to_phone"] == "79005550001"
    after = await call(http, sim, "get", get_answers=1, after_id=first.id)
    assert [a["message"] for a in after] == ["no"]
    assert (await call(http, sim, "get", get_answers=1, hour=200))["error_code"] == 1


async def test_get_stat_price_mega(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    await call(http, sim, "send", phones=PHONE, mes="x" * 200)
    [stat] = await call(http, sim, "get", get_stat=1)
    assert stat == {
        "login": "demo",
        "sms": "2",
        "credit": "5.0",
        "debit": "0.0",
        "currency": "RUR",
    }
    price = await call(http, sim, "get", get_price=1)
    assert price["zones"][0]["api"] == "2.5" and "mail" in price
    assert (await call(http, sim, "get", get_mega_accounts=1))["error_code"] == 3
    sim.account().mega_accounts.append({"account": "111", "phone": PHONE, "balance": "10.0"})
    assert (await call(http, sim, "get", get_mega_accounts=1))[0]["account"] == "111"


async def test_info_get_operator(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    info = await call(http, sim, "info", get_operator=1, phone="+79251234567")
    assert info == {
        "country": "Russia",
        "operator": "MegaFon",
        "region": "Moscow",
        "mcc": "250",
        "mnc": "02",
        "tz": "3",
    }
    assert (await call(http, sim, "info", get_operator=1, phone="999123456789"))["error_code"] == 3


async def test_receive_phones(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    available = await call(http, sim, "receive_phones", get=1)
    phone = available[0]["phone"]
    assert set(available[0]) == {"phone", "type", "cost", "current_cost", "info"}
    bought = await call(http, sim, "receive_phones", buy=1, phone=phone)
    assert Decimal(bought["cost"]) == Decimal(available[0]["current_cost"])
    assert sim.balance() == Decimal(1000) - Decimal(bought["cost"])
    assert phone not in [p["phone"] for p in await call(http, sim, "receive_phones", get=1)]
    changed = await call(http, sim, "receive_phones", chg=1, phone=phone, noprolong=1)
    assert changed == {"result": "OK"}
    sim.set_balance(None, 0)
    other = available[1]["phone"]
    assert (await call(http, sim, "receive_phones", buy=1, phone=other))["error_code"] == 3


async def test_wait_call(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    body = await call(http, sim, "wait_call", phone=PHONE)
    assert body["phone"] in body["all_phones"]
    record = sim.simulate_call(PHONE)
    assert record.text == "[waitcall] "
    answers = await call(http, sim, "get", get_answers=1)
    assert answers[0]["message"] == "[waitcall] "
    await call(http, sim, "phones", add_black=1, phone="79160000009")
    assert (await call(http, sim, "wait_call", phone="79160000009"))["error_code"] == 5


async def test_downloads(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    await call(http, sim, "send", phones=PHONE, mes="exported")
    task = sim.add_download_task("report")
    sim.add_download_task("pending", status=0)
    tasks = await call(http, sim, "downloads", get_list=1)
    assert [(t["name"], t["status"]) for t in tasks] == [("report", "2"), ("pending", "0")]
    params = {**sim.credentials.http_params(), "get_file": "1", "id": str(task.id)}
    response = await http.post("/sys/downloads.php", data=params)
    assert response.headers["content-type"].startswith("text/csv")
    assert b"exported" in response.content and PHONE.encode() in response.content
    by_name = await http.post("/sys/downloads.php", data={**params, "id": "", "name": "report"})
    assert by_name.content == response.content
    missing = await call(http, sim, "downloads", get_file=1, name="pending")
    assert missing["error_code"] == 5


async def test_senders(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    added = await call(http, sim, "senders", add=1, sender="MyShop")
    assert await call(http, sim, "senders", get=1) == [{"id": added["id"], "sender": "MyShop"}]
    sim.behaviour.check_senders = True
    assert "id" in await call(http, sim, "send", phones=PHONE, mes="a", sender="MyShop")
    assert (await call(http, sim, "send", phones=PHONE, mes="b", sender="Other"))["error_code"] == 6
    assert await call(http, sim, "senders", send_code=1, sender="79160000001") == {"result": "OK"}
    assert (await call(http, sim, "senders", send_code=1, sender="79160000001"))["error_code"] == 10
    wrong = await call(http, sim, "senders", check_code=1, sender="79160000001", code="0")
    assert wrong["error_code"] == 11
    code = sim.account().sender_codes["79160000001"]
    ok = await call(http, sim, "senders", check_code=1, sender="79160000001", code=code)
    assert ok == {"result": "OK"}
    assert await call(http, sim, "senders", del_=1, sender="MyShop") == {"result": "OK"}
    names = [s["sender"] for s in await call(http, sim, "senders", get=1)]
    assert names == ["79160000001"]


async def test_phones_contacts_groups_and_group_send(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    group = await call(http, sim, "phones", add_group=1, name="VIP", num=5)
    assert group == {"id": 5}
    await call(http, sim, "phones", add=1, phone=PHONE, name="Ann", grp=5)
    await call(http, sim, "phones", add=1, phone="79161234568", name="Bob")
    contacts = await call(http, sim, "phones", get=1)
    assert [(c["name"], c["grp"]) for c in contacts] == [("Ann", "5"), ("Bob", "")]
    await call(http, sim, "phones", move_group=2, phone="79161234568", grp=5)
    [vip] = await call(http, sim, "phones", get_group=1)
    assert vip["cnt"] == 2
    sent = await call(http, sim, "send", phones="G5", mes="to the group")
    assert sent["cnt"] == 2
    assert (await call(http, sim, "phones", del_=1, phone="70000000000"))["error_code"] == 3


async def test_jobs(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    priced = await call(http, sim, "jobs", add=1, name="promo", phones=PHONE, mes="x", cost=1)
    assert priced["cost"] == "2.5"
    job = await call(http, sim, "jobs", add=1, name="promo", phones=PHONE, mes="sale")
    got = await call(http, sim, "jobs", get=1, id=job["id"])
    assert got["name"] == "promo" and got["status"] == "active"
    assert [j["id"] for j in await call(http, sim, "jobs", get_all=1)] == [job["id"]]
    assert await call(http, sim, "jobs", cancel=1, id=job["id"]) == {"result": "OK"}
    assert (await call(http, sim, "jobs", get=1, id=job["id"]))["status"] == "cancelled"
    assert sim.sent[0].status == -2
    assert (await call(http, sim, "jobs", get=1, id=999))["error_code"] == 3


async def test_multipart_post_with_file(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    data = {**sim.credentials.http_params(), "fmt": "3", "phones": PHONE, "mms": "1"}
    data["subj"] = "Pic"
    files = {"file0": ("a.png", b"\x89PNG" + b"0" * 200, "image/png")}
    response = await http.post("/sys/send.php", data=data, files=files)
    assert response.json()["cnt"] == 1
    [record] = sim.records
    assert record.files == ("a.png",) and record.form["subj"] == "Pic"


async def test_part_counting_over_the_wire(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    cases = [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3)]
    cases += [("я" * 70, 1), ("я" * 71, 2), ("я" * 134, 2), ("я" * 135, 3), ("[" * 80, 1)]
    for text, parts in cases:
        body = await call(http, sim, "send", phones=PHONE, mes=text, cost=1)
        assert body["cnt"] == parts, (len(text), text[0])


async def test_maxsms_truncates(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    body = await call(http, sim, "send", phones=PHONE, mes="a" * 1000, maxsms=2)
    assert body["cnt"] == 2
    assert len(sim.sent[0].text) == 306


async def test_rate_limits_knob(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    sim.behaviour.rate_limits = True
    answers = [await call(http, sim, "balance") for _ in range(11)]
    assert [a.get("error_code") for a in answers].count(9) == 1
    sim.advance(60)
    assert "balance" in await call(http, sim, "balance")


async def test_rest_json_send(sim: SMSCSimulator, http: httpx.AsyncClient) -> None:
    body = {**sim.credentials.http_params(), "phones": PHONE, "mes": "Привет", "cost": 3}
    response = await http.post("/rest/send/", json=body)
    assert response.json() == {"id": 1, "cnt": 1, "cost": "2.5", "balance": "997.5"}
    assert sim.sent[0].text == "Привет"
    assert sim.requests == {"send": 1}


async def test_status_fmt1_columns_like_the_official_libraries(
    sim: SMSCSimulator, http: httpx.AsyncClient
) -> None:
    sent = await call(http, sim, "send", phones=PHONE, mes="a,b", sender="Shop")
    sim.advance(60)
    ts = int(sim.sent[0].final_at)
    basic = await call(http, sim, "status", fmt="1", id=sent["id"], phone=PHONE)
    assert basic == f"1,{ts},0"
    full = await call(http, sim, "status", fmt="1", id=sent["id"], phone=PHONE, all=1)
    submitted = int(sim.sent[0].submitted_at)
    assert full == f"1,{ts},0,{submitted},{PHONE},2.5,Shop,Delivered,a,b"
    bulk = await call(http, sim, "status", fmt="1", id=f"{sent['id']},9", phone=f"{PHONE},7900")
    assert bulk.splitlines() == [f"1,{ts},0,{sent['id']},{PHONE}", "-3,0,0,9,7900"]
    hlr = await call(http, sim, "send", phones=PHONE, hlr=1)
    sim.advance(60)
    line = await call(http, sim, "status", fmt="1", id=hlr["id"], phone=PHONE)
    assert line.split(",")[3:7] == ["250019161234567", "79999999999", "250", "01"]
