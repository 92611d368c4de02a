"""The follower's loop: what each wake costs, and when it asks the consumer's position again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest

from application import failures, follower
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
        return Event(UUID(int=note.id))


@dataclass(frozen=True)
class Event:
    originator_id: UUID


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


# A part that cannot apply an event ---------------------------------------------------


class Member(Counter):
    """A consumer that refuses the events at ``poison`` (a handler's bug, a value its store
    refuses) until they are taken out."""

    def __init__(self, name: str, poison: Sequence[int] = ()) -> None:
        super().__init__()
        self.name = name
        self.poison = set(poison)

    def check(self, items: list[Item]) -> None:
        bad = [i.position for i in items if i.position in self.poison]
        if bad:
            raise ValueError(f"cannot apply the event at {bad[0]}")

    def apply(self, items: list[Item], last_position: int) -> None:
        self.check(items)
        super().apply(items, last_position)


class Group(Consumer):
    """Members fed from one reading of the log, applied in one transaction (all or none)."""

    name = "group"

    def __init__(self, *members: Member) -> None:
        self.members = list(members)
        self.applies = 0

    def position(self) -> int:
        return min(m.position() for m in self.members)

    def parts(self) -> Sequence[Consumer]:
        return self.members

    def apply(self, items: list[Item], last_position: int) -> None:
        self.apply_parts(self.members, items, last_position)

    def apply_parts(self, parts: Sequence[Consumer], items: list[Item],
                    last_position: int) -> None:
        self.applies += 1
        todo = [(m, [i for i in items if i.position > m.stored]) for m in parts
                if isinstance(m, Member) and m.stored < last_position]
        for member, mine in todo:  # nothing is written unless every member can apply
            member.check(mine)
        for member, mine in todo:
            Counter.apply(member, mine, last_position)


def following(consumer: Consumer, log: Log) -> Follower:
    return Follower(App(log), consumer, Script([]), batch_size=10)  # type: ignore[arg-type]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_a_member_that_cannot_apply_an_event_stops_before_it_and_the_others_go_on(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="application.follower")
    # Given a group of two members, one of which cannot apply the event at 3
    log, history, inbox = Log(), Member("history", poison=[3]), Member("inbox")
    log.append(6)
    reader = following(Group(history, inbox), log)
    # When the follower reads the log
    reader.catch_up()
    # Then the other member applied every event, and the failing one stopped right before 3
    assert inbox.applied == [1, 2, 3, 4, 5, 6]
    assert history.applied == [1, 2] and history.stored == 2
    # And it is reported, with the event it stopped at, and logged once, naming the event
    failing, well = reader.status()
    assert failing["name"] == "history" and failing["position"] == 2
    assert failing["failing"]["eventId"] == 3 and failing["failing"]["error"] == "ValueError"
    assert failing["failing"]["originatorId"] == str(UUID(int=3))
    assert well["position"] == 6 and well["failing"] is None and reader.failing
    [line] = errors(caplog)
    assert "history stopped at event 3" in line and str(UUID(int=3)) in line
    assert "cannot apply" not in line  # the error's type, never its text
    # When more events arrive while the cause is still there
    log.append(2)
    reader.catch_up()
    # Then the other member goes on, the failing one still holds before 3, logged only once
    assert inbox.applied[-2:] == [7, 8] and history.applied == [1, 2]
    assert len(errors(caplog)) == 1 and reader.status()[0]["failing"]["attempts"] == 2


def test_once_the_cause_is_gone_the_member_catches_up_and_rejoins_the_group(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="application.follower")
    # Given a member held before event 3 while the other went on to 8
    log, history, inbox = Log(), Member("history", poison=[3]), Member("inbox")
    log.append(8)
    group = Group(history, inbox)
    reader = following(group, log)
    reader.catch_up()
    # When the cause is gone (a fix deployed) and it is tried again
    history.poison.clear()
    reader.catch_up()
    # Then it applied every event once, in order, and reports well
    assert history.applied == list(range(1, 9)) and inbox.applied == list(range(1, 9))
    assert [s["failing"] for s in reader.status()] == [None, None] and not reader.failing
    assert any("history recovered" in r.getMessage() for r in caplog.records
               if r.levelno == logging.INFO)
    # And it is back in the group: the next batch is one apply for both members
    log.append(2)
    applies = group.applies
    assert reader.run_once() == 2
    assert group.applies == applies + 1
    assert history.applied[-2:] == inbox.applied[-2:] == [9, 10]


def test_a_lone_consumer_that_cannot_apply_an_event_holds_there_and_skips_nothing() -> None:
    # Given a consumer (the trigger, say) that cannot apply the event at 3 of 5
    log, trigger = Log(), Member("trigger", poison=[3])
    log.append(5)
    reader = following(trigger, log)
    reader.catch_up()
    # Then it stopped right before it, and nothing after it is applied while it fails
    assert trigger.applied == [1, 2]
    log.append(2)
    reader.catch_up()
    assert trigger.applied == [1, 2] and reader.status()[0]["failing"]["eventId"] == 3
    # When the cause is gone, it goes on from there
    trigger.poison.clear()
    reader.catch_up()
    assert trigger.applied == [1, 2, 3, 4, 5, 6, 7] and not reader.failing


def test_the_loop_retries_a_failing_part_by_itself_and_never_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "RETRY_FIRST", 0.0)  # retried at every turn
    # Given a group whose first member cannot apply event 2 for now
    log, history, inbox = Log(), Member("history", poison=[2]), Member("inbox")
    log.append(3)

    def fix() -> bool:  # a transient cause that goes away
        history.poison.clear()
        log.append(1)
        return True

    # When it runs, events arrive, and later the cause goes away
    holder: list[Follower] = []
    waiter = Script(holder, commit(log, 2), fix, commit(log, 1))
    holder.append(Follower(App(log), Group(history, inbox), waiter,  # type: ignore[arg-type]
                           batch_size=10))
    holder[0].run()
    # Then the loop went on throughout, and both members applied every event once, in order
    assert inbox.applied == history.applied == list(range(1, 8))
    assert not holder[0].failing


def test_a_member_catching_up_after_a_fix_reads_on_without_waiting_for_wakes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "RETRY_FIRST", 0.0)
    # Given a member held before event 3 while the other read a log of 50 on
    log, history, inbox = Log(), Member("history", poison=[3]), Member("inbox")
    log.append(50)

    def fix() -> None:  # nothing new is written: the wait times out
        history.poison.clear()

    # When the cause goes away during the first wait, and nothing is written after that
    holder: list[Follower] = []
    waiter = Script(holder, fix)
    holder.append(Follower(App(log), Group(history, inbox), waiter,  # type: ignore[arg-type]
                           batch_size=10))
    holder[0].run()
    # Then the held member caught up on the 48 events behind it before the loop waited again
    assert history.applied == inbox.applied == list(range(1, 51))
    assert waiter.waits == 2 and not holder[0].failing


def test_when_nothing_fails_a_group_costs_one_read_and_one_apply_per_wake() -> None:
    log, group = Log(), Group(Member("history"), Member("inbox"))
    log.append(3)
    holder: list[Follower] = []
    waiter = Script(holder, *[commit(log, 2)] * 10)
    holder.append(Follower(App(log), group, waiter, batch_size=10))  # type: ignore[arg-type]
    holder[0].run()
    assert log.reads == group.applies == 11
    assert all(m.applied == list(range(1, 24)) for m in group.members)


class FlakyLog(Log):
    """A log whose reads fail ``failures`` times (the database went away)."""

    failures = 0

    def select_notifications(self, *args: Any, **kwargs: Any) -> list[Note]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database went away")
        return super().select_notifications(*args, **kwargs)


def test_a_failed_read_of_the_log_is_reported_once_and_the_loop_goes_on(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(failures, "RETRY_FIRST", 0.0)
    caplog.set_level(logging.INFO, logger="application.follower")
    log, consumer = FlakyLog(), Counter()
    log.append(2)

    def outage() -> bool:
        log.failures = 3
        log.append(2)
        return True

    run(log, consumer, outage)
    assert consumer.applied == [1, 2, 3, 4]
    [line] = errors(caplog)
    assert "counter failed" in line and "ConnectionError" in line
    assert any("counter recovered after 3 attempts" in r.getMessage() for r in caplog.records)
