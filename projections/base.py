"""Read models in SQL: rows and the projection's position change in one transaction."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    inspect,
    select,
    text,
)

from application.follower import Consumer, Item, PositionMoved

log = logging.getLogger(__name__)

metadata = MetaData()

#: PostgreSQL advisory lock key held while any process creates tables.
SCHEMA_LOCK = 0x666F6C6C6F77

positions = Table(
    "projection_positions", metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)


class SqlProjection(Consumer):
    """A read model kept in SQL (PostgreSQL or SQLite) through SQLAlchemy Core."""

    #: The tables this projection owns; dropped and rebuilt together.
    tables: tuple[Table, ...] = ()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._expected = 0
        self._known = False

    def create(self) -> None:
        """Create the tables if missing; safe when several processes start at once."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            rebuild = self._outdated(conn)
            if rebuild:
                log.warning("read model %s: tables %s differ from this code's; rebuilding it "
                            "from the start of the log", self.name, ", ".join(rebuild))
                for table in reversed(self.tables):
                    table.drop(conn, checkfirst=True)
                conn.execute(positions.delete().where(positions.c.name == self.name))
            metadata.create_all(conn, tables=[positions, *self.tables])
            if conn.execute(select(positions.c.position)
                            .where(positions.c.name == self.name)).first() is None:
                conn.execute(positions.insert().values(name=self.name, position=0))

    def _outdated(self, conn: Connection) -> list[str]:
        """This read model's tables stored with other columns than this code's (an upgrade
        that added one): a read model is a projection of the log, so it is rebuilt."""
        stored = inspect(conn)
        return [t.name for t in self.tables if stored.has_table(t.name)
                and {c["name"] for c in stored.get_columns(t.name)} != set(t.columns.keys())]

    def drop(self) -> None:
        """Forget everything: the next run rebuilds the read model from the start of the log."""
        with self.engine.begin() as conn:
            for table in reversed(self.tables):
                conn.execute(table.delete())
            conn.execute(positions.update().where(positions.c.name == self.name)
                         .values(position=0))
        self._known = False

    def position(self) -> int:
        """Read once, then kept in memory: ``apply`` moves it only if the stored one is still
        what this runner expected, and reads it again after losing that race."""
        if self._known:
            return self._expected
        with self.engine.connect() as conn:
            found = conn.execute(select(positions.c.position)
                                 .where(positions.c.name == self.name)).scalar()
        self._expected, self._known = int(found or 0), True
        return self._expected

    def apply(self, items: list[Item], last_position: int) -> None:
        try:
            with self.engine.begin() as conn:
                self.apply_in(conn, items, last_position)
        except PositionMoved:
            self.forget()
            raise
        self.applied(last_position)

    def apply_in(self, conn: Connection, items: list[Item], last_position: int) -> None:
        """Move the stored position (if it is still the one this runner expects) and apply the
        batch, inside the caller's transaction; ``applied`` once it has committed."""
        moved = conn.execute(
            positions.update()
            .where(positions.c.name == self.name, positions.c.position == self._expected)
            .values(position=last_position)).rowcount
        if moved != 1:
            raise PositionMoved(self.name)
        self.handle_batch(conn, items)

    def applied(self, last_position: int) -> None:
        self._expected = last_position

    def forget(self) -> None:
        """Read the position, and anything kept in memory with it, afresh next time (another
        runner moved it, or a batch was rolled back)."""
        self._known = False

    @abstractmethod
    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        """Apply a batch of events, in log order, inside the open transaction."""


class ReadModels(Consumer):
    """Several read models fed from one reading of the log: one query, each event decoded once,
    and one transaction in which every read model moves its own position and applies its events.

    Each read model keeps its own position (one may be rebuilding from the start while the others
    are current): the group reads from the lowest, and hands each one only its topics' events
    after its own position. If any of them fails or finds its position moved, the whole batch
    rolls back and every one reads its position afresh; the follower then applies the batch to
    each alone (``apply_parts``), so one that cannot apply an event holds there while the others
    go on.
    """

    name = "read-models"

    def __init__(self, engine: Engine, members: Sequence[SqlProjection]) -> None:
        self.engine = engine
        self.members = list(members)
        every = any(not m.topics for m in self.members)
        self.topics = () if every else tuple(dict.fromkeys(t for m in self.members
                                                           for t in m.topics))
        self._wanted = {m.name: frozenset(m.topics) for m in self.members}

    def position(self) -> int:
        return min(m.position() for m in self.members)

    def parts(self) -> Sequence[SqlProjection]:
        return self.members

    def forget(self) -> None:
        for member in self.members:
            member.forget()

    def apply(self, items: list[Item], last_position: int) -> None:
        self.apply_parts(self.members, items, last_position)

    def apply_parts(self, parts: Sequence[Consumer], items: list[Item],
                    last_position: int) -> None:
        """One transaction in which each of ``parts`` (some of the members) takes its events."""
        moved: list[SqlProjection] = []
        try:
            with self.engine.begin() as conn:
                for member in parts:
                    assert isinstance(member, SqlProjection)
                    wanted = self._wanted[member.name]
                    start = member.position()
                    if start >= last_position:
                        continue
                    mine = [i for i in items if i.position > start
                            and (not wanted or get_topic(type(i.event)) in wanted)]
                    member.apply_in(conn, mine, last_position)
                    moved.append(member)
        except BaseException:
            for member in self.members:
                member.forget()
            raise
        for member in moved:
            member.applied(last_position)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (each with the first one's columns): on PostgreSQL as one ``COPY``
    stream inside the open transaction (about a tenth of the client's CPU of a statement per row,
    which is what SQLAlchemy's executemany sends through psycopg), elsewhere with executemany."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    statement = SQL("COPY {} ({}) FROM STDIN").format(
        Identifier(table.name), SQL(", ").join(Identifier(c) for c in columns))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


class Changes:
    """One table's changes in a batch, folded per row in log order (the last value wins): new
    rows are inserted with one statement, changed rows updated with one statement per set of
    columns. A batch of any size costs a few round trips, not one per event."""

    def __init__(self, table: Table, key: str) -> None:
        self.table, self.key = table, key
        self.new: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, dict[str, Any]] = {}

    def insert(self, ident: str, row: dict[str, Any]) -> None:
        self.new[ident] = row

    def update(self, ident: str, values: dict[str, Any]) -> None:
        row = self.new.get(ident)
        (row if row is not None else self.changed.setdefault(ident, {})).update(values)

    def write(self, conn: Connection) -> None:
        insert_rows(conn, self.table, list(self.new.values()))
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ident, values in self.changed.items():
            if values:
                groups.setdefault(tuple(sorted(values)), []).append({"_key": ident, **values})
        for columns, rows in groups.items():
            conn.execute(self.table.update()
                         .where(self.table.c[self.key] == bindparam("_key"))
                         .values({c: bindparam(c) for c in columns}), rows)
        self.new, self.changed = {}, {}


class Rows:
    """The rows of a table a batch touches: read with one query, changed in memory in log
    order, written back with one insert and one update."""

    def __init__(self, conn: Connection, table: Table, key: str, idents: Iterable[str]) -> None:
        self.table, self.key, wanted = table, key, sorted(set(idents))
        self.rows = {r[key]: dict(r) for r in conn.execute(
            select(table).where(table.c[key].in_(wanted))).mappings()} if wanted else {}
        self.new: set[str] = set()
        self.dirty: set[str] = set()

    def add(self, ident: str, row: dict[str, Any]) -> None:
        self.rows[ident] = row
        self.new.add(ident)

    def change(self, ident: str, **values: Any) -> dict[str, Any] | None:
        row = self.rows.get(ident)
        if row is not None:
            row.update(values)
            self.dirty.add(ident)
        return row

    def write(self, conn: Connection) -> None:
        changes = Changes(self.table, self.key)
        for ident in sorted(self.new):
            changes.insert(ident, self.rows[ident])
        for ident in sorted(self.dirty - self.new):
            changes.update(ident, {k: v for k, v in self.rows[ident].items() if k != self.key})
        changes.write(conn)
