"""A sub-client's password (users.php ``pswc``) is a secret like the account's own: it stays
out of provider error text, of request reprs and of the simulator's request records."""

from __future__ import annotations

import json

import pytest

from smscenter import APIError, HTTPClient
from smscenter.http import _account_protocol as acct
from smscenter.testing import SMSCSimulator
from tests.http.conftest import FAST_RETRY
from tests.http.test_secrets_and_tls import CREDS, _client, answering, assert_no_secret

SUB_PASSWORD = "shop-Pass-9731"


async def test_provider_error_quoting_the_sub_client_password_is_scrubbed() -> None:
    text = f"wrong parameters (user=acme_shop&pswc={SUB_PASSWORD})"
    body = json.dumps({"error": text, "error_code": 1}).encode()
    async with answering(body) as url, _client(url, CREDS) as client:
        with pytest.raises(APIError) as add:
            await client.add_sub_client("acme_shop", SUB_PASSWORD)
        with pytest.raises(APIError) as change:
            await client.change_sub_client("acme_shop", password=SUB_PASSWORD)
    for info in (add, change):
        assert "***" in info.value.description
        assert_no_secret(info.value, SUB_PASSWORD)


def test_request_repr_hides_the_sub_client_password() -> None:
    add = acct.add_sub_client_request("acme_shop", SUB_PASSWORD)
    change = acct.change_sub_client_request("acme_shop", password=SUB_PASSWORD)
    for request in (add, change):
        assert SUB_PASSWORD not in repr(request)
        assert "pswc" in repr(request)
        assert request.get("pswc") == SUB_PASSWORD  # still sent as given


async def test_simulator_records_hide_the_sub_client_password() -> None:
    async with (
        SMSCSimulator() as sim,
        HTTPClient(sim.credentials, base_url=sim.base_url, retry=FAST_RETRY) as client,
    ):
        await client.add_sub_client("acme_shop", SUB_PASSWORD)
        await client.change_sub_client("acme_shop", password=SUB_PASSWORD + "x")
        records = list(sim.iter_records("users"))
    assert len(records) == 2
    assert records[0].form["pswc"] == SUB_PASSWORD  # kept for assertions
    for record in records:
        assert SUB_PASSWORD not in repr(record)
