"""The eventsourcing package's own recorder test cases, run against our PostgreSQL recorder.

`OneStatementProcessRecorder` replaces the library's write path, so the library's contract for
an aggregate, application, tracking and process recorder is checked on it here, on a scratch
database (one per class) with fresh tables per test. Table names are made 63 bytes long, as the
library's own PostgreSQL cases do, since that is where a derived identifier can be cut.

The library cases are reached through their module, never imported by name: pytest collects
every ``unittest.TestCase`` in a test module's namespace, and the abstract bases would fail.
"""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Any, ClassVar
from unittest import TestCase
from urllib.parse import urlsplit

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests import persistence as library

from adapters.pg_recorder import OneStatementProcessRecorder
from tests.conftest import scratch_database

MAX_IDENTIFIER = 63


def long_name(suffix: str, unique: str | None = None) -> str:
    """A table name of exactly 63 bytes, unique unless ``unique`` is given."""
    head = f"t_{unique or uuid.uuid4().hex[:12]}_"
    return head.ljust(MAX_IDENTIFIER - len(suffix), "s") + suffix


class OnScratchDatabase(TestCase):
    """A scratch database for the class, a datastore for each test, fresh tables per recorder."""

    databases: ClassVar[ExitStack]
    url: ClassVar[str]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.databases = ExitStack()
        cls.url = cls.databases.enter_context(scratch_database())

    @classmethod
    def tearDownClass(cls) -> None:
        cls.databases.close()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.datastore = new_datastore(self.url)

    def tearDown(self) -> None:
        self.datastore.close()
        super().tearDown()

    def create_recorder(self) -> Any:
        recorder = OneStatementProcessRecorder(
            self.datastore, events_table_name=long_name("_events"),
            tracking_table_name=long_name("_tracking"))
        recorder.create_table()
        return recorder


def new_datastore(url: str) -> PostgresDatastore:
    parts = urlsplit(url)
    return PostgresDatastore(parts.path.lstrip("/"), parts.hostname or "127.0.0.1",
                             str(parts.port or 5432), parts.username or "postgres",
                             parts.password or "", pool_size=4, max_overflow=10)


class AsAggregateRecorder:
    """Our recorder seen as a plain aggregate recorder: its writes give no notification ids.

    The aggregate recorder case expects ``insert_events`` to return None, since an aggregate
    recorder has no notification ids; ours is an application recorder and returns them (the
    application needs them). Everything else is the recorder's own."""

    def __init__(self, recorder: OneStatementProcessRecorder) -> None:
        self.recorder = recorder

    def insert_events(self, stored_events: Any, **kwargs: Any) -> None:
        ids = self.recorder.insert_events(stored_events, **kwargs)
        assert ids is None if not stored_events else len(ids or []) == len(stored_events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.recorder, name)


class TestAsAggregateRecorder(OnScratchDatabase, library.AggregateRecorderTestCase):
    def create_recorder(self) -> Any:
        return AsAggregateRecorder(super().create_recorder())


class TestAsApplicationRecorder(OnScratchDatabase, library.ApplicationRecorderTestCase):
    def test_insert_subscribe(self) -> None:
        """The library leaves subscribing optional; our writes NOTIFY the table's channel, and
        the sender and followers rely on it, so it is run here."""
        self.optional_test_insert_subscribe()


class TestAsTrackingRecorder(OnScratchDatabase, library.TrackingRecorderTestCase):
    pass


class TestAsProcessRecorder(OnScratchDatabase, library.ProcessRecorderTestCase):
    pass


class TestNotificationIdsDoNotInterleave(OnScratchDatabase,
                                         library.NonInterleavingNotificationIDsBaseCase):
    pass


class TestTablesWhoseNamesShareTheirStart(OnScratchDatabase):
    """PostgreSQL keeps the first 63 bytes of an identifier: a per-table function named
    ``{table}_insert`` and cut there is one function for two tables whose names agree up to the
    cut, and the table created last would receive both tables' writes."""

    def test_each_table_receives_only_its_own_events(self) -> None:
        # Given two event tables, of 60 and 63 bytes, whose names agree in their first 60
        first_table = f"t_{uuid.uuid4().hex[:12]}_".ljust(60, "s")
        second_table = first_table + "_in"
        assert (first_table + "_insert")[:MAX_IDENTIFIER] == second_table
        first, second = (OneStatementProcessRecorder(
            self.datastore, events_table_name=name, tracking_table_name=long_name("_tracking"))
            for name in (first_table, second_table))
        first.create_table()
        second.create_table()
        # When each recorder writes one event
        one, two = (StoredEvent(uuid.uuid4(), 1, f"topic{n}", b"{}") for n in (1, 2))
        first.insert_events([one])
        second.insert_events([two])
        # Then each table holds its own event and nothing else
        assert [e.topic for e in first.select_notifications(start=None, limit=10)] == ["topic1"]
        assert [e.topic for e in second.select_notifications(start=None, limit=10)] == ["topic2"]
