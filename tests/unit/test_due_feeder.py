"""Restoring a lost due index from a snapshot: all or nothing, and only once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.due_feeder import DueFeeder
from application.ports import DueChange, DueSnapshot
from scheduler.due_index import MemoryDueSchedule


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
