"""The name of the event store's per-table write function (adapters/pg_recorder.py)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.pg_recorder import MAX_IDENTIFIER_BYTES, insert_function_name

# Table names PostgreSQL accepts (at most 63 bytes), ASCII and not, many of them long
tables = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1,
                 max_size=63).filter(lambda t: len(t.encode()) <= MAX_IDENTIFIER_BYTES)


@given(tables, tables)
@example("e" * 60, "e" * 60 + "_in")  # cut at 63 bytes, both were "eee…e_in"
@example("é" * 29, "é" * 29 + "_inse")  # the same, counted in bytes
@example("e" * 63, "e" * 62 + "f")
def test_distinct_tables_get_distinct_functions_that_postgres_does_not_cut(
        first: str, second: str) -> None:
    one, two = insert_function_name("public", first), insert_function_name("public", second)
    assert len(one.encode()) <= MAX_IDENTIFIER_BYTES
    assert (one == two) == (first == second)


@given(tables)
def test_a_name_that_fits_is_the_one_an_existing_database_already_has(table: str) -> None:
    name = insert_function_name("public", table)
    assert (name == f"{table}_insert") == (len(f"{table}_insert".encode()) <= 63)


def test_the_engine_table_keeps_its_function() -> None:
    assert insert_function_name("public", "followup_events") == "followup_events_insert"
