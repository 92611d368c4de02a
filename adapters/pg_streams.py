"""Many aggregates' events, or their newest snapshots and the events after them, in one query.

eventsourcing reads one stream per query; the sender reloads a whole batch of executions and
their leads at once, so it reads all their streams with one ``= ANY(...)`` query on the same
table, in the same order (by stream, then version), through the recorder's own connection pool.
A lead's stream is long, so for leads one query reads, for each stream, its newest snapshot
(filed under a key of its own, see application/snapshots.py) and the events after it. The ids
travel as binary arrays (%b), far cheaper for the client than text.
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

ALL = ("SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
       "WHERE originator_id = ANY(%b) ORDER BY originator_id, originator_version")
# Per stream (LATERAL, kept apart by its ORDER BY: one index range scan each, however large the
# table, where a join may scan it whole), the newest snapshot, then the events above it
AFTER_SNAPSHOTS = """
WITH a AS (SELECT * FROM unnest(%b::{id_type}[], %b::{id_type}[]) AS a(id, key)),
s AS MATERIALIZED (
    SELECT a.id, n.originator_version, n.topic, n.state FROM a CROSS JOIN LATERAL (
        SELECT originator_version, topic, state FROM {schema}.{snapshots}
        WHERE originator_id = a.key ORDER BY originator_version DESC LIMIT 1) n)
SELECT true, id, originator_version, topic, state FROM s
UNION ALL
SELECT false, a.id, e.originator_version, e.topic, e.state
FROM a LEFT JOIN s ON s.id = a.id CROSS JOIN LATERAL (
    SELECT originator_version, topic, state FROM {schema}.{events}
    WHERE originator_id = a.id AND originator_version > coalesce(s.originator_version, 0)
    ORDER BY originator_version) e
ORDER BY 2, 3
"""


class PostgresStreams(Streams):
    def __init__(self, recorder: PostgresAggregateRecorder,
                 snapshots: PostgresAggregateRecorder | None = None) -> None:
        self.datastore = datastore = recorder.datastore
        names = {"schema": Identifier(datastore.schema),
                 "events": Identifier(recorder.events_table_name),
                 "id_type": SQL(datastore.originator_id_type)}
        self.all = SQL(ALL).format(**names)
        self.after = SQL(AFTER_SNAPSHOTS).format(
            **names, snapshots=Identifier(snapshots.events_table_name)) if snapshots else None

    def events(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        return [StoredEvent(originator_id=ident, originator_version=version, topic=topic,
                            state=bytes(state))
                for ident, version, topic, state in self._rows(self.all, [list(originator_ids)])]

    def after_snapshots(self, originator_ids: Sequence[UUID],
                        keys: Sequence[UUID]) -> list[tuple[bool, StoredEvent]]:
        if self.after is None:  # no snapshot store
            return [(False, stored) for stored in self.events(originator_ids)]
        rows = self._rows(self.after, [list(originator_ids), list(keys)])
        return [(snapshot, StoredEvent(originator_id=ident, originator_version=version,
                                       topic=topic, state=bytes(state)))
                for snapshot, ident, version, topic, state in rows]

    def _rows(self, statement: Composed, params: list[Any]) -> list[tuple[Any, ...]]:
        # Rows as tuples: the datastore's default (dicts) costs the client a tenth of a load
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params, prepare=True)
            return curs.fetchall()
