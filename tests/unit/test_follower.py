"""The follower's loop: what each wake costs, and when it asks the consumer's position again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from application import follower
from application.follower import Consumer, Follower, Item, PositionMoved, Waiter


@dataclass
class Note:
    id: int
    topic: str = "a"


@dataclass
class Log:
    """The log a follower reads: notification ids 1..n; counts the reads and the rows a read
    went through (as PostgreSQL does, in id order, from ``start`` to a match or the end)."""

    notes: list[Note] = field(default_factory=list)
    reads: int = 0
    scanned: int = 0

    def append(self, n: int = 1, topic: str = "a") -> None:
        first = len(self.notes) + 1
        self.notes += [Note(i, topic) for i in range(first, first + n)]

    def max_notification_id(self) -> int | None:
        return self.notes[-1].id if self.notes else None

    def select_notifications(self, start: int, limit: int, stop: int | None, topics: list[str],
                             inclusive_of_start: bool) -> list[Note]:
        assert not inclusive_of_start
        self.reads += 1
        found = []
        for note in self.notes[start:stop]:  # ids are positions + 1
            self.scanned += 1
            if not topics or note.topic in topics:
                found.append(note)
                if len(found) == limit:
                    break
        return found


class App:
    def __init__(self, log: Log) -> None:
        self.recorder = log
        self.mapper = self

    def to_domain_event(self, note: Note) -> Any:
        return f"event {note.id}"


class Counter(Consumer):
    """A consumer whose stored position can be lost or moved behind the follower's back."""

    name = "counter"

    def __init__(self, topics: tuple[str, ...] = ()) -> None:
        self.topics = topics
        self.stored = 0
        self.asked = 0
        self.applied: list[int] = []
        self.checkpoints: list[int] = []

    def position(self) -> int:
        self.asked += 1
        return self.stored

    def apply(self, items: list[Item], last_position: int) -> None:
        if not items:  # a checkpoint over events of other topics
            self.checkpoints.append(last_position)
            self.stored = max(self.stored, last_position)
            return
        if items[0].position <= self.stored:
            raise PositionMoved("applied elsewhere")
        self.applied += [i.position for i in items]
        self.stored = last_position


class Script(Waiter):
    """Each wait runs the next scripted action; the follower stops when they run out."""

    def __init__(self, follower: list[Follower], *actions: Any) -> None:
        self.follower = follower
        self.actions = list(actions)
        self.waits = 0

    def wait(self, timeout: float) -> bool:
        """Woken when the action wrote something; timed out otherwise."""
        self.waits += 1
        if not self.actions:
            self.follower[0].stop()
            return False
        return self.actions.pop(0)() is not None


def commit(log: Log, n: int, topic: str = "a") -> Any:
    """A commit of ``n`` events, which wakes the follower."""
    def go() -> bool:
        log.append(n, topic)
        return True
    return go


def run(log: Log, consumer: Counter, *actions: Any) -> Script:
    holder: list[Follower] = []
    waiter = Script(holder, *actions)
    holder.append(Follower(App(log), consumer, waiter, batch_size=10))  # type: ignore[arg-type]
    holder[0].run()
    return waiter


def test_under_load_each_wake_costs_one_read_and_no_position_query() -> None:
    # Given a log of 3 events and a consumer at 0
    log, consumer = Log(), Counter()
    log.append(3)
    # When 20 commits of 2 events wake it one after the other
    waiter = run(log, consumer, *[commit(log, 2)] * 20)
    # Then every event was applied once, in order
    assert consumer.applied == list(range(1, 44))
    # And the position was asked only at the start
    assert consumer.asked == 1
    # And each wake read once (a short batch is the end of the log: no second read to find out)
    assert log.reads == 1 + 20 and waiter.waits == 21


def test_a_store_lost_while_idle_is_noticed_after_the_next_idle_wait() -> None:
    # Given a consumer that applied all 5 events of the log
    log, consumer = Log(), Counter()
    log.append(5)

    def lose_the_store() -> None:  # a FLUSHALL of the due index
        consumer.stored = 0

    # When its store is lost while nothing is written
    run(log, consumer, lambda: None, lose_the_store)
    # Then it asks again after the idle wait and applies the log again from the start
    assert consumer.applied == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]


def test_wakes_for_other_topics_cost_one_read_and_no_position_query() -> None:
    # Given a consumer that applied the 2 events of the log
    log, consumer = Log(), Counter()
    log.append(2)
    # When 10 commits of events it does not follow wake it (its read finds nothing)
    waiter = run(log, consumer, *[lambda: True] * 10)
    # Then each wake cost one read, and the position was asked only at the start
    assert log.reads == 1 + 10 and waiter.waits == 11
    assert consumer.asked == 1 and consumer.applied == [1, 2]


def test_a_position_moved_elsewhere_is_asked_again_at_once() -> None:
    # Given a consumer at 2 of a log of 4 events
    log, consumer = Log(), Counter()
    log.append(4)
    consumer.stored = 2

    def another_runner_applies_up_to_6() -> bool:
        log.append(4)
        consumer.stored = 6
        return True

    # When, after a wake, another runner has moved it on to 6
    waiter = run(log, consumer, another_runner_applies_up_to_6)
    # Then its batch from 4 is refused, it asks again and goes on from 6 without waiting
    assert consumer.applied == [3, 4, 7, 8]
    assert waiter.waits == 2 and consumer.asked == 2  # no wait between the refusal and 7-8


def test_a_rare_topic_is_not_read_again_from_its_last_match_at_every_wake() -> None:
    # Given a consumer of topic "a" that applied the one "a" event of the log
    log, consumer = Log(), Counter(topics=("a",))
    log.append(1)
    # When 50 commits of 100 events of another topic wake it, with one "a" among them, and then
    # it idles
    wakes = [commit(log, 100, "b")] * 25 + [commit(log, 1, "a")] + [commit(log, 100, "b")] * 25
    run(log, consumer, *wakes, lambda: None)
    # Then the "a" events were applied once each, in order
    assert consumer.applied == [1, 2502]
    # And the reads went through each event about once, not through every event since the last
    # match at every wake (that would be about 65,000)
    assert log.scanned < 3 * 5_001
    # And its stored position followed the cursor over the other topic before it was asked again
    assert consumer.checkpoints[-1] == consumer.stored == 5_002


def test_the_stored_position_follows_the_cursor_every_checkpoint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(follower, "CHECKPOINT", 300)
    # Given a consumer of topic "a" at the end of a log of one event
    log, consumer = Log(), Counter(topics=("a",))
    log.append(1)
    # When commits of another topic keep waking it, with no idle wait
    run(log, consumer, *[commit(log, 100, "b")] * 10)
    # Then its stored position was moved along while it ran, at least every 300 events
    assert consumer.checkpoints and consumer.checkpoints[0] <= 401
    assert all(b - a <= 400 for a, b in zip([1, *consumer.checkpoints], consumer.checkpoints,
                                           strict=False))
    assert consumer.applied == [1]
