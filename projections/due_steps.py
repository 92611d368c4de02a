"""Due steps in PostgreSQL: the due index's contents as a read model, so a lost Redis is rebuilt
from one query instead of a replay of the whole log.

It follows exactly the feeder's events and applies the same rule (``application.due_feeder``),
so at any position its rows are what the Redis index held at that position.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import BigInteger, Column, Connection, Integer, String, Table, select

from application.due_feeder import DUE_TOPICS, due_change
from application.follower import Item
from application.ports import DueChange, DueSnapshot
from projections.base import SqlProjection, insert_rows, metadata, positions

due_steps = Table(
    "due_steps", metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("due_ms", BigInteger, nullable=False),
    Column("lane", Integer, nullable=False),
)


class DueStepsProjection(SqlProjection, DueSnapshot):
    name = "due_steps"
    topics = DUE_TOPICS
    tables = (due_steps,)

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        final: dict[str, DueChange] = {}
        for item in items:  # in log order: the last change of each execution wins
            change = due_change(item.event)
            final[change[0]] = change
        if not final:
            return
        conn.execute(due_steps.delete().where(due_steps.c.execution_id.in_(list(final))))
        rows = [{"execution_id": m, "due_ms": due, "lane": lane}
                for m, due, lane in final.values() if due is not None]
        insert_rows(conn, due_steps, rows)

    def snapshot(self, chunk: int = 10_000) -> tuple[int, Iterator[list[DueChange]]]:
        """The position and the rows as of it, read in one consistent snapshot."""
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        conn.begin()
        position = conn.execute(select(positions.c.position)
                                .where(positions.c.name == self.name)).scalar() or 0

        def rows() -> Iterator[list[DueChange]]:
            try:
                result = conn.execution_options(yield_per=chunk).execute(select(due_steps))
                for part in result.partitions(chunk):
                    yield [(r.execution_id, int(r.due_ms), int(r.lane)) for r in part]
            finally:
                conn.close()

        return int(position), rows()
