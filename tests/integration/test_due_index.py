"""The due index contract, on Redis and in memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.follower import PositionMoved
from application.ports import DueChange, DueSchedule
from domain.priority import LANES
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
    schedule.apply([("a", 1_000, 0), ("b", 2_000, 0), ("c", 500, 0), ("c", None, 0)], 0, 7)
    # Then the members and the position changed together
    assert (schedule.due_at("a"), schedule.due_at("b"), schedule.due_at("c")) == (1000, 2000, None)
    assert schedule.position() == 7 and schedule.size() == 2


def test_a_stale_writer_is_refused_and_changes_nothing(schedule: DueSchedule) -> None:
    schedule.apply([("a", 1_000, 0)], 0, 5)
    with pytest.raises(PositionMoved):
        schedule.apply([("a", None, 0), ("z", 1, 0)], 0, 9)
    assert schedule.due_at("a") == 1000 and schedule.due_at("z") is None
    assert schedule.position() == 5


def test_claim_takes_due_members_in_order_and_leases_them(schedule: DueSchedule) -> None:
    schedule.apply([("late", 3_000, 0), ("early", 1_000, 0), ("mid", 2_000, 0)], 0, 1)
    assert schedule.claim(2_000, 10, 60_000) == ["early", "mid"]
    # A leased member is not claimed again until its lease expires
    assert schedule.claim(2_500, 10, 60_000) == []
    assert schedule.due_at("early") == 62_000
    assert schedule.claim(62_000, 10, 60_000) == ["late", "early", "mid"]
    # The log moving a member (its next step) replaces the lease
    schedule.apply([("mid", 90_000_000, 0)], 1, 2)
    assert schedule.due_at("mid") == 90_000_000


def test_claim_respects_the_limit(schedule: DueSchedule) -> None:
    schedule.apply([(f"m{i:03d}", i, 0) for i in range(50)], 0, 1)
    first = schedule.claim(100, 20, 1_000)
    assert first == [f"m{i:03d}" for i in range(20)]


def test_concurrent_claimers_never_take_the_same_member(redis_prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    schedule = RedisDueSchedule(client, redis_prefix)
    schedule.apply([(f"m{i}", i % 100, i % LANES) for i in range(5_000)], 0, 1)
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
    schedule.apply([("a", 1, 0)], 0, 40)
    schedule.forget()  # what FLUSHALL does to our keys
    assert schedule.position() == 0
    with pytest.raises(PositionMoved):
        schedule.apply([("b", 1, 0)], 40, 41)
    client.close()


def test_higher_lanes_are_claimed_first_even_when_due_later(schedule: DueSchedule) -> None:
    schedule.apply([("cold", 100, 4), ("warm", 200, 2), ("urgent", 900, 0), ("later", 5_000, 0)],
                   0, 1)
    assert schedule.claim(1_000, 2, 60_000) == ["urgent", "warm"]
    assert schedule.claim(1_000, 5, 60_000) == ["cold"]


def test_a_claim_can_be_limited_to_some_lanes(schedule: DueSchedule) -> None:
    schedule.apply([("urgent", 900, 0), ("warm", 200, 2), ("cold", 100, 4)], 0, 1)
    assert schedule.claim(1_000, 5, 60_000, range(1, LANES)) == ["warm", "cold"]
    assert schedule.claim(1_000, 5, 60_000, range(0, 1)) == ["urgent"]
    assert schedule.claim(1_000, 5, 60_000) == []


def test_a_member_moved_to_another_lane_lives_only_there(schedule: DueSchedule) -> None:
    schedule.apply([("a", 100, 3)], 0, 1)
    schedule.apply([("a", 200, 1)], 1, 2)
    assert schedule.size() == 1 and schedule.due_at("a") == 200
    assert schedule.claim(1_000, 10, 60_000) == ["a"]
    schedule.apply([("a", None, 0)], 2, 3)
    assert schedule.size() == 0 and schedule.due_at("a") is None


CHANGES = st.lists(st.tuples(st.sampled_from("abcdefgh"),
                             st.one_of(st.none(), st.integers(0, 2_000)),
                             st.integers(0, LANES - 1)), max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # forgotten each example
@given(batches=st.lists(st.tuples(CHANGES, st.integers(0, 2_000), st.integers(1, 5)),
                        max_size=6))
def test_redis_claims_exactly_what_the_model_claims(
        redis_prefix: str, batches: list[tuple[list[DueChange], int, int]]) -> None:
    """The Lua scripts against the in-memory model: same members, same order, same leases."""
    client = redis.Redis.from_url(REDIS_URL)
    real = RedisDueSchedule(client, redis_prefix + "-model")
    model = MemoryDueSchedule()
    try:
        for position, (changes, now_ms, limit) in enumerate(batches):
            real.apply(changes, position, position + 1)
            model.apply(changes, position, position + 1)
            assert real.claim(now_ms, limit, 1_000) == model.claim(now_ms, limit, 1_000)
            assert real.size() == model.size()
        for member in "abcdefgh":
            assert real.due_at(member) == model.due_at(member)
    finally:
        real.forget()
        client.close()


def test_an_offer_ahead_of_the_feeder_adds_only_what_the_feeder_has_not_reached(
        schedule: DueSchedule) -> None:
    # Given an index at position 10 holding "held" in lane 2
    schedule.apply([("held", 5_000, 2)], 0, 10)
    # When the trigger offers members scheduled by changes at positions 11 and 9, and "held"
    assert schedule.offer("new", 1_000, 0, 11) is True
    assert schedule.offer("passed", 1_000, 0, 9) is False  # the feeder set it (or moved it)
    assert schedule.offer("held", 1_000, 0, 12) is False  # a lane holds it: one member, one lane
    # Then only the new one is there, claimable at once, and "held" stays where it was
    assert schedule.due_at("new") == 1_000 and schedule.due_at("passed") is None
    assert schedule.due_at("held") == 5_000
    assert schedule.claim(1_000, 10, 60_000) == ["new"]
    # And when the feeder gets to the change at 11, it sets the member as the log says
    schedule.apply([("new", 1_000, 0)], 10, 11)
    assert schedule.due_at("new") == 1_000 and schedule.size() == 2


def test_the_feeder_leaves_a_change_an_offer_made_and_makes_the_later_ones(
        schedule: DueSchedule) -> None:
    # Given a first touch offered ahead of the feeder (its change is at position 11) and claimed
    schedule.apply([], 0, 10)
    assert schedule.offer("hot", 1_000, 0, 11)
    assert schedule.claim(1_000, 10, 60_000) == ["hot"]  # leased until 61,000
    # When the feeder applies that change (and an unrelated one) from the log
    schedule.apply([("other", 2_000, 3), ("hot", 1_000, 0)], 10, 11, [10, 11])
    # Then the lease stands: the step is not claimed a second time
    assert schedule.due_at("hot") == 61_000
    assert schedule.claim(2_000, 10, 60_000) == ["other"]
    # And the next change of that member, as every change of one never offered, is made
    schedule.apply([("hot", 90_000, 2)], 11, 12, [12])
    assert schedule.due_at("hot") == 90_000
    # And an offer whose change was applied without positions (a restore) does not keep a later
    # change from being made
    assert schedule.offer("late", 5_000, 0, 13)
    schedule.apply([("late", 5_000, 0)], 12, 13)
    schedule.apply([("late", 7_000, 0)], 13, 14, [14])
    assert schedule.due_at("late") == 7_000
