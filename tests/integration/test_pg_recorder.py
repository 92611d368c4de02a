"""The one-statement event store writes, on real PostgreSQL: order, conflicts, tracking."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.pg_recorder import OneStatementProcessRecorder
from adapters.settings import Settings
from application.core import Core


class Thing(Aggregate):
    @event("Made")
    def __init__(self, n: int) -> None:
        self.n = n

    @event("Bumped")
    def bump(self) -> None:
        self.n += 1


@pytest.fixture
def app(pg_url: str) -> Iterator[Core]:
    core = Core(env=Settings(database_url=pg_url).eventsourcing_env())
    yield core
    core.close()


def test_the_store_writes_through_the_one_statement_recorder(app: Core) -> None:
    assert isinstance(app.recorder, OneStatementProcessRecorder)
    things = [Thing(i) for i in range(3)]
    recordings = app.save(*things)
    ids = [r.notification.id for r in recordings]
    assert ids == sorted(ids) and len(set(ids)) == 3
    notifications = app.recorder.select_notifications(start=None, limit=10)
    assert [n.id for n in notifications] == ids
    assert [n.originator_id for n in notifications] == [t.id for t in things]
    assert app.repository.get(things[1].id).n == 1


def test_a_stale_version_is_refused_and_nothing_of_its_batch_is_written(app: Core) -> None:
    thing = Thing(1)
    app.save(thing)
    first, second = app.repository.get(thing.id), app.repository.get(thing.id)
    first.bump()
    app.save(first)
    other = Thing(7)
    second.bump()
    with pytest.raises(IntegrityError):
        app.save(other, second)
    assert other.id not in app.repository
    assert app.repository.get(thing.id).n == 2
    assert len(app.recorder.select_notifications(start=None, limit=10)) == 2


def test_a_tracking_position_is_written_once_and_only_forwards(app: Core) -> None:
    app.save(Thing(1), tracking=Tracking("upstream", 5))
    assert app.recorder.max_tracking_id("upstream") == 5
    again = Thing(2)
    with pytest.raises(IntegrityError):
        app.save(again, tracking=Tracking("upstream", 5))
    with pytest.raises(IntegrityError):
        app.save(again, tracking=Tracking("upstream", 3))
    assert again.id not in app.repository
    assert app.recorder.max_tracking_id("upstream") == 5
    later = Thing(3)  # (a refused save has taken its aggregate's pending events)
    app.save(later, tracking=Tracking("upstream", 9))
    assert app.recorder.max_tracking_id("upstream") == 9 and later.id in app.repository


def test_a_reader_tailing_the_log_under_concurrent_writers_misses_nothing(app: Core) -> None:
    """Ids commit in the order they are issued: a reader that asks only for what comes after the
    last id it saw, while eight threads write, still sees every event."""
    writers, per_writer = 8, 60
    done = threading.Event()
    seen: list[int] = []

    def write() -> None:
        for i in range(per_writer):
            app.save(*(Thing(i) for _ in range(1 + i % 3)))

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            batch: Any = app.recorder.select_notifications(start=last, limit=100,
                                                           inclusive_of_start=False)
            seen.extend(n.id for n in batch)
            last = batch[-1].id if batch else last
            if finished and not batch:
                return

    reader = threading.Thread(target=tail)
    reader.start()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(30)
    everything = [n.id for n in app.recorder.select_notifications(start=None, limit=10_000)]
    assert len(everything) == writers * sum(1 + i % 3 for i in range(per_writer))
    assert seen == everything
