"""Many aggregates' events, and their latest snapshots, in one PostgreSQL query each.

eventsourcing reads one stream per query; the sender reloads a whole batch of executions and
their leads at once, so it reads all their streams with one ``= ANY(...)`` query on the same
table, in the same order (by stream, then version), through the recorder's own connection pool.
For leads, whose streams are long, it first reads the newest snapshot of each in one query, then
each stream's events after its snapshot. The ids travel as a binary array (%b), far cheaper for
the client than text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from application.ports import Streams

ALL = ("SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
       "WHERE originator_id = ANY(%b) ORDER BY originator_id, originator_version")
AFTER = ("SELECT e.originator_id, e.originator_version, e.topic, e.state "
         "FROM unnest(%b::{id_type}[], %b::bigint[]) AS a(id, after) "
         "JOIN {schema}.{table} e ON e.originator_id = a.id AND e.originator_version > a.after "
         "ORDER BY e.originator_id, e.originator_version")
LATEST = ("SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state "
          "FROM {schema}.{table} WHERE originator_id = ANY(%b) "
          "ORDER BY originator_id, originator_version DESC")


class PostgresStreams(Streams):
    def __init__(self, recorder: PostgresAggregateRecorder,
                 snapshots: PostgresAggregateRecorder | None = None) -> None:
        self.datastore = recorder.datastore
        self.all, self.after = (self._on(recorder, sql) for sql in (ALL, AFTER))
        self.latest = self._on(snapshots, LATEST) if snapshots is not None else None

    @staticmethod
    def _on(recorder: PostgresAggregateRecorder, statement: str) -> Composed:
        datastore = recorder.datastore
        return SQL(statement).format(schema=Identifier(datastore.schema),
                                     table=Identifier(recorder.events_table_name),
                                     id_type=SQL(datastore.originator_id_type))

    def events(self, originator_ids: Sequence[UUID],
               after: Sequence[int] | None = None) -> list[StoredEvent]:
        if after is None:
            return self._rows(self.all, [list(originator_ids)])
        return self._rows(self.after, [list(originator_ids), list(after)])

    def latest_snapshots(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        return self._rows(self.latest, [list(originator_ids)]) if self.latest else []

    def _rows(self, statement: Composed, params: list[Any]) -> list[StoredEvent]:
        # Rows as tuples: the datastore's default (dicts) costs the client a tenth of a load
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params, prepare=True)
            return [StoredEvent(originator_id=ident, originator_version=version, topic=topic,
                                state=bytes(state))
                    for ident, version, topic, state in curs.fetchall()]
