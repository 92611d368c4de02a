"""Many aggregates' events in one PostgreSQL query.

eventsourcing reads one stream per query; the sender reloads a whole batch of executions and
their leads at once, so it reads all their streams with one ``= ANY(...)`` query on the same
table, in the same order (by stream, then version), through the recorder's own connection pool.
The ids travel as a binary array (%b), far cheaper for the client than text.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier


class PostgresStreams:
    def __init__(self, recorder: PostgresAggregateRecorder) -> None:
        self.datastore = recorder.datastore
        self.statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%b) ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(recorder.datastore.schema),
                 table=Identifier(recorder.events_table_name))

    def __call__(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        # Rows as tuples: the datastore's default (dicts) costs the client a tenth of a load
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.statement, [list(originator_ids)], prepare=True)
            return [StoredEvent(originator_id=ident, originator_version=version, topic=topic,
                                state=bytes(state))
                    for ident, version, topic, state in curs.fetchall()]
