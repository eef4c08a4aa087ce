"""RedisStore's own behaviour on a real redis-server (the shared contract is in tests/store/):
the key layout under one hash tag, one script per batch, senders that stop mid-send, the id
index's expiry, receipts kept until their id is settled, refused writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import redis.asyncio

from smscenter._provider import Transport
from smscenter.models import DeliveryReport, MessageStatus
from smscenter.store import (
    NotTrackedError,
    PlannedSend,
    Settlement,
    StoreError,
    TrackedState,
)
from smscenter.store.redis import RedisStore

LOGIN = "acme"
PHONE = "79990000000"


def planned(*cids: int | str) -> list[PlannedSend]:
    return [
        PlannedSend(client_id=c, recipient="79990000000", transport=Transport.SMPP) for c in cids
    ]


def accepted(cid: int | str, *ids: str) -> Settlement:
    return Settlement(
        client_id=cid, state=TrackedState.ACCEPTED, message_id=ids[0], part_ids=ids, parts=len(ids)
    )


def receipt(mid: str, status: MessageStatus = MessageStatus.DELIVERED) -> DeliveryReport:
    return DeliveryReport(
        message_id=mid, status=status, phone="79990000000", transport=Transport.SMPP
    )


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    async with RedisStore(redis_url, login=LOGIN) as opened:
        yield opened


async def pause(store: RedisStore) -> None:
    """Stop a store's heartbeat as a paused (SIGSTOP) process would: its connection stays."""
    assert store._heartbeat is not None
    store._heartbeat.cancel()


async def die(store: RedisStore) -> None:
    """Drop a store as SIGKILL would: no clean goodbye (its liveness key is left to expire)."""
    await pause(store)
    client, store._redis = store._redis, None
    assert client is not None
    await client.aclose()


def _evals(url: str) -> int:
    """How many scripts the server has run so far."""
    with redis.Redis.from_url(url) as client:
        stats = client.info("commandstats")
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")
    )


async def test_every_key_is_under_the_login_hash_tag(store: RedisStore, redis_url: str) -> None:
    await store.prepare(planned(1, 2))
    await store.settle([accepted(1, "A1", "A2")])
    await store.record(receipt("A1"), receipt("ZZ"))
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        keys = client.keys("*")
        assert keys and all(k.startswith("smsc:{acme}:") for k in keys), keys
        assert client.ttl("smsc:{acme}:mid:A2") > 71 * 3600  # the id index expires (72 h)
        assert client.ttl("smsc:{acme}:msg:1") == -1  # records stay until purged


async def test_a_batch_is_one_script_call(store: RedisStore, redis_url: str) -> None:
    before = _evals(redis_url)
    assert await store.prepare(planned(*range(300))) == [None] * 300
    await store.settle([accepted(i, f"{i:X}0") for i in range(300)])
    await store.record(*(receipt(f"{i:X}0") for i in range(300)))
    assert _evals(redis_url) - before == 3
    counts = await store.counts()
    assert counts == {TrackedState.DELIVERED: 300}


async def test_logins_do_not_see_each_other(redis_url: str) -> None:
    async with (
        RedisStore(redis_url, login="one") as one,
        RedisStore(redis_url, login="two") as two,
    ):
        await one.prepare(planned(7))
        with pytest.raises(NotTrackedError):
            await two.get(7)
        assert await two.counts() == {}


async def test_a_stopped_senders_records_read_unknown_and_are_not_sent_again(
    redis_url: str,
) -> None:
    dead = RedisStore(redis_url, login=LOGIN, owner="dead-worker", lease=timedelta(seconds=1))
    await dead.open()
    assert await dead.prepare(planned(1, 2)) == [None, None]
    async with RedisStore(redis_url, login=LOGIN) as other:
        # The owner is alive: its sends are its own (not sent twice, still SENDING).
        (held,) = await other.prepare(planned(1))
        assert held is not None and held.state is TrackedState.SENDING
        # Paused past its lease: nothing renews the liveness key any more.
        await pause(dead)
        with redis.Redis.from_url(redis_url) as client:
            client.delete("smsc:{acme}:live:dead-worker")
        assert (await other.get(1)).state is TrackedState.UNKNOWN
        (held,) = await other.prepare(planned(1))
        assert held is not None and held.state is TrackedState.UNKNOWN
        assert held.error and "stopped" in held.error
        assert await other.counts() == {TrackedState.UNKNOWN: 2}
        # Asked to resend: it goes again, owned by the live store, one more attempt.
        assert await other.prepare(planned(2), resend_unknown=True) == [None]
        assert (await other.get(2)).attempts == 2
        # The late answer of the stopped sender (it was only paused) still wins: ids are facts.
        await dead.settle([accepted(1, "77")])
        assert (await other.get(1)).state is TrackedState.ACCEPTED
    await die(dead)


async def test_liveness_expires_and_a_clean_close_gives_it_up(redis_url: str) -> None:
    dead = RedisStore(redis_url, login=LOGIN, owner="paused", lease=timedelta(seconds=1))
    await dead.open()
    await dead.prepare(planned(5))
    await pause(dead)
    with redis.Redis.from_url(redis_url) as client:
        assert 0 < client.pttl("smsc:{acme}:live:paused") <= 1000
    await dead.aclose()  # a clean close gives the liveness up at once
    async with RedisStore(redis_url, login=LOGIN) as other:
        assert (await other.get(5)).state is TrackedState.UNKNOWN


async def test_a_receipt_before_its_settlement_is_kept_then_matched(store: RedisStore) -> None:
    await store.prepare(planned("x"))
    await store.record(receipt("00ab"), receipt("AB"))  # one event, two spellings
    assert await store.find("AB") is None
    with pytest.raises(NotTrackedError):
        await store.settle([accepted("nope", "1")])
    await store.settle([accepted("x", "AB")])
    record = await store.get("x")
    assert record.state is TrackedState.DELIVERED
    assert len(record.reports) == 1
    assert (await store.find("000ab")) == record


async def test_a_report_for_an_unknown_send_with_client_id_matches_and_learns_the_id(
    store: RedisStore,
) -> None:
    await store.prepare(planned("c1"))
    await store.settle(
        [Settlement(client_id="c1", state=TrackedState.UNKNOWN, error="TimeoutError: no answer")]
    )
    report = DeliveryReport(
        message_id="555",
        status=MessageStatus.DELIVERED,
        phone="79990000000",
        client_id="c1",
        cost=Decimal("2.5"),
    )
    await store.record(report)
    record = await store.get("c1")
    assert record.state is TrackedState.DELIVERED
    assert record.message_id == "555" and record.cost == Decimal("2.5")
    assert record.error is None
    assert await store.find("555") == record


async def test_changes_resume_from_a_version(store: RedisStore) -> None:
    await store.prepare(planned(1, 2, 3))
    await store.settle([accepted(2, "B")])
    seen = []
    async for record in store.changes(since=0):
        seen.append((record.client_id, record.version))
        if len(seen) == 3:
            break
    assert [c for c, _ in seen] == ["1", "3", "2"]
    after = seen[0][1]
    resumed = []
    async for record in store.changes(since=after):
        resumed.append(record.client_id)
        if len(resumed) == 2:
            break
    assert resumed == ["3", "2"]


async def test_purge_deletes_the_old_and_their_ids(store: RedisStore, redis_url: str) -> None:
    await store.prepare(planned(1))
    await store.settle([accepted(1, "P1")])
    await store.record(receipt("orphan"))
    assert await store.purge(older_than=timedelta(hours=1)) == 0
    assert await store.purge(older_than=timedelta(0)) == 1
    assert await store.find("P1") is None
    assert await store.counts() == {}
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        left = [k for k in client.keys("*") if ":live:" not in k]
    assert left == ["smsc:{acme}:ver"]


async def test_a_full_server_refuses_and_nothing_counts_as_recorded(
    store: RedisStore, redis_url: str
) -> None:
    with redis.Redis.from_url(redis_url) as client:
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")
        try:
            with pytest.raises(StoreError, match="OOM"):
                await store.prepare(planned(1))
        finally:
            client.config_set("maxmemory", "0")
    with pytest.raises(NotTrackedError):
        await store.get(1)


async def test_a_lost_server_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        async with RedisStore("redis://127.0.0.1:1/0", login=LOGIN):
            pass


def test_bad_logins_and_no_password_in_repr() -> None:
    for bad in ("", "a{b", "a}b", "a b"):
        with pytest.raises(ValueError):
            RedisStore("redis://x", login=bad)
    store = RedisStore("redis://:s3cret@127.0.0.1:1/0", login="acme")
    assert "s3cret" not in repr(store)


async def test_a_killed_senders_records_read_unknown_at_once(redis_url: str) -> None:
    # Its lease has long to run, but its connections closed (the kernel closes a killed
    # process's sockets): the server's client list shows it gone.
    dead = RedisStore(redis_url, login=LOGIN, owner="killed", lease=timedelta(minutes=5))
    await dead.open()
    await dead.prepare(planned(1, 2))
    async with RedisStore(redis_url, login=LOGIN) as other:
        (held,) = await other.prepare(planned(1))
        assert held is not None and held.state is TrackedState.SENDING  # alive: its own
        await die(dead)
        assert (await other.get(1)).state is TrackedState.UNKNOWN
        assert await other.prepare(planned(1), resend_unknown=True) == [None]
        assert await other.counts() == {TrackedState.SENDING: 1, TrackedState.UNKNOWN: 1}
        with redis.Redis.from_url(redis_url) as client:
            assert not client.exists("smsc:{acme}:live:killed")


async def test_retention_runs_when_a_store_opens(redis_url: str) -> None:
    async with RedisStore(redis_url, login=LOGIN) as store:
        await store.prepare(planned(1, 2))
        await store.record(receipt("never-settled"))
    async with RedisStore(redis_url, login=LOGIN, retention=None) as store:
        assert sum((await store.counts()).values()) == 2  # None keeps everything
    async with RedisStore(redis_url, login=LOGIN, retention=timedelta(microseconds=1)) as store:
        assert await store.counts() == {}
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        assert not [k for k in client.keys("*") if ":pend" in k or ":msg:" in k]
    with pytest.raises(ValueError):
        RedisStore(redis_url, login=LOGIN, retention=timedelta(0))
