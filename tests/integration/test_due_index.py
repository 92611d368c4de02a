"""The due index contract, on Redis and in memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from application.follower import PositionMoved
from application.ports import DueSchedule
from scheduler.due_index import MemoryDueSchedule, RedisDueSchedule
from tests.conftest import REDIS_URL


@pytest.fixture(params=["redis", "memory"])
def schedule(request: pytest.FixtureRequest, redis_prefix: str) -> Iterator[DueSchedule]:
    if request.param == "memory":
        yield MemoryDueSchedule()
        return
    client = redis.Redis.from_url(REDIS_URL)
    yield RedisDueSchedule(client, redis_prefix)
    client.close()


def test_changes_and_position_move_together(schedule: DueSchedule) -> None:
    # Given an empty index
    assert schedule.position() == 0
    # When a batch sets two members and removes one
    schedule.apply([("a", 1_000), ("b", 2_000), ("c", 500), ("c", None)], 0, 7)
    # Then the members and the position changed together
    assert (schedule.due_at("a"), schedule.due_at("b"), schedule.due_at("c")) == (1000, 2000, None)
    assert schedule.position() == 7 and schedule.size() == 2


def test_a_stale_writer_is_refused_and_changes_nothing(schedule: DueSchedule) -> None:
    schedule.apply([("a", 1_000)], 0, 5)
    with pytest.raises(PositionMoved):
        schedule.apply([("a", None), ("z", 1)], 0, 9)
    assert schedule.due_at("a") == 1000 and schedule.due_at("z") is None
    assert schedule.position() == 5


def test_claim_takes_due_members_in_order_and_leases_them(schedule: DueSchedule) -> None:
    schedule.apply([("late", 3_000), ("early", 1_000), ("mid", 2_000)], 0, 1)
    assert schedule.claim(2_000, 10, 60_000) == ["early", "mid"]
    # A leased member is not claimed again until its lease expires
    assert schedule.claim(2_500, 10, 60_000) == []
    assert schedule.due_at("early") == 62_000
    assert schedule.claim(62_000, 10, 60_000) == ["late", "early", "mid"]
    # The log moving a member (its next step) replaces the lease
    schedule.apply([("mid", 90_000_000)], 1, 2)
    assert schedule.due_at("mid") == 90_000_000


def test_claim_respects_the_limit(schedule: DueSchedule) -> None:
    schedule.apply([(f"m{i:03d}", i) for i in range(50)], 0, 1)
    first = schedule.claim(100, 20, 1_000)
    assert first == [f"m{i:03d}" for i in range(20)]


def test_concurrent_claimers_never_take_the_same_member(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    schedule = RedisDueSchedule(client, redis_prefix)
    schedule.apply([(f"m{i}", i % 100) for i in range(5_000)], 0, 1)
    taken: list[str] = []
    lock = threading.Lock()

    def claimer() -> None:
        own = RedisDueSchedule(redis.Redis.from_url(REDIS_URL), redis_prefix)
        while batch := own.claim(1_000, 37, 600_000):
            with lock:
                taken.extend(batch)

    threads = [threading.Thread(target=claimer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 5_000 and len(set(taken)) == 5_000
    client.close()


def test_a_flushed_redis_reads_as_position_zero_so_the_feeder_rebuilds(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    schedule = RedisDueSchedule(client, redis_prefix)
    schedule.apply([("a", 1)], 0, 40)
    client.delete(schedule.due_key, schedule.position_key)  # what FLUSHALL does to our keys
    assert schedule.position() == 0
    with pytest.raises(PositionMoved):
        schedule.apply([("b", 1)], 40, 41)
    client.close()
