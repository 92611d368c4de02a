"""The event store's writes as one statement, so the table lock is never held across a round trip.

eventsourcing serialises writers with ``LOCK TABLE … IN EXCLUSIVE MODE`` (notification ids must
commit in the order they are issued, or a reader tailing the log skips a late commit). Its write
is a pipelined transaction: the lock is taken, the insert's ids travel back to the client, and
only then does the client send ``COMMIT``. Every writer waits while the lock holder's client
reads that reply, which in a busy Python process means waiting for its turn at the interpreter
lock: under load the writers form a convoy behind whichever holder is slowest to be scheduled.

This recorder does the same work (tracking position, lock, ``NOTIFY``, insert) in one function
call on an autocommit connection: the transaction begins and commits on the server, and the lock
is held only for the server's own work. The events travel as four plain arrays (binary, dumped in
C by psycopg) instead of an array of composite values dumped as text in Python. The library's own
database function (``POSTGRES_ENABLE_DB_FUNCTIONS``) is not used: it takes no table lock and it
is named per schema, not per table (see the library notes).

The function is named after its table, ``{table}_insert``, while that fits PostgreSQL's 63 bytes
(so an existing database keeps the function it has). A longer name would be cut at 63 bytes, and
two tables whose names agree up to the cut would share one function, which writes into whichever
table was created last; such a name ends in a hash of the schema-qualified table name instead. A
function created under a cut name by an earlier version is left where it is: nothing calls it any
more, and it may be another table's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal

FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{function}(
    ids {id_type}[], versions bigint[], topics text[], states bytea[],
    tracking_name text, tracking_id bigint)
RETURNS SETOF bigint LANGUAGE plpgsql AS $body$
#variable_conflict use_column
BEGIN
    IF tracking_name IS NOT NULL THEN
        INSERT INTO {schema}.{tracking} AS t (application_name, notification_id)
        VALUES (tracking_name, tracking_id)
        ON CONFLICT (application_name) DO UPDATE SET notification_id = tracking_id
        WHERE t.notification_id < tracking_id;
        IF NOT FOUND THEN
            RAISE unique_violation USING MESSAGE = format(
                'tracking %s %s is already recorded', tracking_name, tracking_id);
        END IF;
    END IF;
    PERFORM set_config('lock_timeout', {lock_timeout}, true);
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    NOTIFY {channel};
    RETURN QUERY
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id;
END
$body$
"""


MAX_IDENTIFIER_BYTES = 63


def insert_function_name(schema: str, table: str) -> str:
    """``{table}_insert``, or for a table whose name would be cut, its head and a hash."""
    plain = f"{table}_insert"
    if len(plain.encode()) <= MAX_IDENTIFIER_BYTES:
        return plain
    # Ends in hex digits, so it is never the plain name of another table (which ends "_insert").
    tail = "_insert_" + hashlib.sha256(f"{schema}.{table}".encode()).hexdigest()[:16]
    head = table.encode()[:MAX_IDENTIFIER_BYTES - len(tail)].decode(errors="ignore")
    return head + tail


class OneStatementProcessRecorder(PostgresProcessRecorder):
    """A process recorder whose writes are one server-side transaction each (see the module)."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        super().__init__(datastore, events_table_name=events_table_name,
                         tracking_table_name=tracking_table_name)
        schema = Identifier(datastore.schema)
        self.insert_function_name = insert_function_name(datastore.schema,
                                                         self.events_table_name)
        function = Identifier(self.insert_function_name)
        self.create_function_statement = SQL(FUNCTION).format(
            schema=schema, function=function, id_type=SQL(datastore.originator_id_type),
            tracking=Identifier(self.tracking_table_name),
            table=Identifier(self.events_table_name),
            channel=Identifier(self.channel_name),
            lock_timeout=Literal(f"{datastore.lock_timeout}s"))
        # %b: the arrays travel in binary (text arrays cost the client about four times the CPU)
        self.call_statement = SQL(
            "SELECT * FROM {schema}.{function}(%b, %b, %b, %b, %s, %s) AS n(notification_id)"
        ).format(schema=schema, function=function)

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.create_function_statement)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        if not stored_events or not self.datastore.single_row_tracking:
            return super().insert_events(stored_events, **kwargs)
        params = ([e.originator_id for e in stored_events],
                  [e.originator_version for e in stored_events],
                  [e.topic for e in stored_events],
                  [e.state for e in stored_events],
                  tracking.application_name if tracking else None,
                  tracking.notification_id if tracking else None)
        # A conflict (a stream's version taken, or the tracking position already recorded)
        # raises unique_violation, which the datastore maps to the library's IntegrityError.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            assert conn.autocommit  # the call is its own transaction
            curs.execute(self.call_statement, params, prepare=True)
            return [row[0] for row in curs.fetchall()]
