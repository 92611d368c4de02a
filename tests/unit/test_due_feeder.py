"""The due feeder: restoring a lost index from a snapshot (all or nothing, and only once), and
waking the claim loop for an urgent step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from application.due_feeder import DUE_TOPICS, DueFeeder, due_change, epoch_ms
from application.follower import Item
from application.ports import DueChange, DueSnapshot
from domain.execution import WorkflowExecution
from domain.priority import lane
from scheduler.claimer import Claimer
from scheduler.due_index import MemoryDueSchedule
from tests.conftest import FakeClock
from tests.unit.conftest import T0


class Snapshot(DueSnapshot):
    def __init__(self, position: int, chunks: list[list[DueChange]],
                 fail_after: int | None = None) -> None:
        self.position, self.chunks, self.fail_after = position, chunks, fail_after
        self.reads = 0

    def snapshot(self, chunk: int = 10_000) -> tuple[int, Iterator[list[DueChange]]]:
        self.reads += 1

        def rows() -> Iterator[list[DueChange]]:
            for i, part in enumerate(self.chunks):
                if self.fail_after is not None and i == self.fail_after:
                    raise ConnectionError("the database went away mid-read")
                yield part

        return self.position, rows()


CHUNKS: list[list[DueChange]] = [[("a", 1_000, 0), ("b", 2_000, 4)], [("c", 3_000, 2)]]


def test_an_empty_index_is_restored_and_followed_from_the_snapshot_position() -> None:
    schedule = MemoryDueSchedule()
    assert DueFeeder(schedule, Snapshot(42, CHUNKS)).position() == 42
    assert schedule.position() == 42 and schedule.size() == 3
    assert schedule.claim(10_000, 10, 1) == ["a", "c", "b"]  # lanes kept


class LosableSchedule(MemoryDueSchedule):
    """The in-memory index standing in for one that should have kept its data (Redis)."""

    lost_when_empty = True


@pytest.mark.parametrize(("kind", "level"), [(LosableSchedule, "WARNING"),
                                             (MemoryDueSchedule, "INFO")])
def test_a_restore_is_a_warning_only_where_the_index_should_have_kept_its_data(
        kind: type[MemoryDueSchedule], level: str, caplog: pytest.LogCaptureFixture) -> None:
    # Each run gets an empty index of its own (one built at import is restored once per process)
    caplog.set_level("INFO", logger="application.due_feeder")
    assert DueFeeder(kind(), Snapshot(42, CHUNKS)).position() == 42
    [record] = [r for r in caplog.records if "found empty" in r.getMessage()]
    assert record.levelname == level and "restored 3 members" in record.getMessage()


def test_nothing_to_restore_at_position_zero() -> None:
    schedule = MemoryDueSchedule()
    assert DueFeeder(schedule, Snapshot(0, [])).position() == 0 and schedule.size() == 0


def test_an_index_that_is_not_empty_is_left_alone() -> None:
    schedule = MemoryDueSchedule()
    schedule.apply([("z", 5, 1)], 0, 9)
    snapshot = Snapshot(42, CHUNKS)
    assert DueFeeder(schedule, snapshot).position() == 9
    assert snapshot.reads == 0 and schedule.size() == 1


def test_a_restore_cut_short_leaves_position_zero_so_the_next_start_does_it_again() -> None:
    schedule = MemoryDueSchedule()
    with pytest.raises(ConnectionError):
        DueFeeder(schedule, Snapshot(42, CHUNKS, fail_after=1)).position()
    assert schedule.position() == 0  # never a position with only part of the members
    assert DueFeeder(schedule, Snapshot(42, CHUNKS)).position() == 42
    assert schedule.size() == 3


def test_a_feeder_that_finds_another_finished_first_takes_its_position() -> None:
    schedule = MemoryDueSchedule()

    class Racing(Snapshot):
        def snapshot(self, chunk: int = 10_000) -> tuple[int, Iterator[list[DueChange]]]:
            position, rows = super().snapshot(chunk)

            def racing() -> Iterator[list[DueChange]]:
                yield from rows
                schedule.apply([], 0, 50)  # another feeder restored a later snapshot meanwhile

            return position, racing()

    assert DueFeeder(schedule, Racing(42, CHUNKS)).position() == 50


# Waking the claim loop for an urgent step ----------------------------------------


def _events() -> tuple[object, object, object]:
    """A live crossing's start (step 1 urgent), a backfilled start, and a sent step."""
    steps = [{"channel": "email", "template_id": str(uuid4()), "delay_minutes": 0}] * 2
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def start(kind: str) -> WorkflowExecution:
        return WorkflowExecution.start(execution_id=uuid4(), lead_id=uuid4(),
                                       workflow_id=uuid4(), workflow_version=1, steps=steps,
                                       trigger={"kind": kind, "new": 85}, timezone="UTC",
                                       now=now)

    live, backfill = start("score"), start("backfill")
    live_scheduled = live.collect_events()[-1]
    backfill_scheduled = backfill.collect_events()[-1]
    backfill.dispatch(0, uuid4(), now)
    backfill.record_sent(0, backfill.step(0).message_id, now)
    return live_scheduled, backfill_scheduled, backfill.collect_events()[-1]


def test_the_feeder_wakes_the_claim_loop_only_for_an_urgent_step() -> None:
    live, backfilled, sent = _events()
    woken: list[int] = []
    feeder = DueFeeder(MemoryDueSchedule(), on_urgent=lambda: woken.append(1))
    feeder.position()
    # When a batch of non-urgent changes is applied, nothing is woken
    feeder.apply([Item(1, backfilled), Item(2, sent)], 2)
    assert woken == []
    # When a batch holds a live crossing's first step, the claim loop is woken once
    feeder.apply([Item(3, backfilled), Item(4, live), Item(5, sent)], 5)
    assert woken == [1]


def test_a_woken_claim_loop_claims_at_once_not_at_the_end_of_its_idle_wait() -> None:
    clock = FakeClock()
    schedule = MemoryDueSchedule()
    taken = threading.Event()
    claimer = Claimer(schedule, lambda ids: None, clock, idle_wait=30.0,
                      urgent=lambda ids: taken.set())
    thread = threading.Thread(target=claimer.run, daemon=True)
    thread.start()
    time.sleep(0.2)  # it found nothing and waits (30 s)
    now_ms = int(clock.now().timestamp() * 1000)
    schedule.apply([("hot-lead", now_ms, 0)], 0, 1)
    claimer.wake()
    try:
        assert taken.wait(5.0), "the woken claim loop did not claim the urgent step"
    finally:
        claimer.stop()
        thread.join(5.0)
    assert not thread.is_alive()


def test_a_released_step_is_set_due_like_a_scheduled_one() -> None:
    # Given an execution whose step 0 was held while its workflow was paused
    execution = WorkflowExecution.start(
        execution_id=uuid4(), lead_id=uuid4(), workflow_id=uuid4(), workflow_version=1,
        steps=[{"channel": "email", "template_id": "t", "delay_minutes": 0}],
        trigger={"kind": "score", "new": 85}, timezone="UTC", now=T0)
    execution.hold(0, "the workflow is paused", T0)
    execution.collect_events()
    # When the workflow resumes
    later = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    execution.release(later)
    [released] = execution.collect_events()
    # Then the index sets the member due at once, in the lane of the lead's score
    assert get_topic(type(released)) in DUE_TOPICS
    assert due_change(released) == (str(execution.id), epoch_ms(later), lane(85))
    # And a hold itself changes nothing in the index (its lease brings the step back)
    assert get_topic(WorkflowExecution.StepHeld) not in DUE_TOPICS
