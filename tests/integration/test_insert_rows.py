"""Read-model rows written by COPY on PostgreSQL read back exactly as inserted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, select

from projections.base import insert_rows
from projections.lead_history import LeadHistoryProjection, history

# Any character PostgreSQL text holds (not NUL), and UTF-8 encodes (no lone surrogate)
CHARACTERS = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
TEXT = st.text(CHARACTERS, max_size=60)
ID = st.text(CHARACTERS, max_size=36)  # the id columns are VARCHAR(36)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    found = create_engine("postgresql+psycopg://" + pg_url.split("://", 1)[1])
    LeadHistoryProjection(found).create()
    yield found
    found.dispose()


def row(position: int, summary: str, data: str, message_id: str | None,
        actor_name: str | None = None) -> dict[str, object]:
    return {"position": position, "lead_id": "lead", "occurred_at": "2026-11-25T08:00:00+00:00",
            "kind": "Lead.ScoreChanged", "summary": summary, "execution_id": None,
            "message_id": message_id, "data": data,
            "actor": f"user:{message_id}" if actor_name is not None else None,
            "actor_name": actor_name}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(TEXT, TEXT, st.one_of(st.none(), ID),
                                 st.one_of(st.none(), TEXT)), min_size=1, max_size=8))
def test_copied_rows_read_back_as_written(
        engine: Engine, values: list[tuple[str, str, str | None, str | None]]) -> None:
    with engine.begin() as conn:
        conn.execute(history.delete())
        rows = [row(i, *v) for i, v in enumerate(values, start=1)]
        insert_rows(conn, history, rows)
    with engine.connect() as conn:
        found = [dict(r._mapping)
                 for r in conn.execute(select(history).order_by(history.c.position))]
    assert found == rows


def test_awkward_characters_and_a_rollback(engine: Engine) -> None:
    awkward = row(1, 'tab\there, "quotes", back\\slash\nnew line, ünïcode ☎',
                  '{"a": "\\\\N"}', None, "Zoë \\N O'Brien\t")
    with engine.begin() as conn:
        insert_rows(conn, history, [awkward])
    # A failing batch (a position taken) rolls back with the rest of its transaction
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017
        insert_rows(conn, history, [row(2, "fresh", "{}", "m"), row(1, "again", "{}", None)])
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(select(history))]
    assert found == [awkward]
