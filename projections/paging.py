"""Keyset pages: a list's order is a tuple of columns that together are unique, and a page
ends where the next begins, so paging costs an index range per page however deep it goes.

The cursor is opaque to clients: the list's name and the last row's keys, as URL-safe base64
of JSON. It is not secret (it holds no more than the row's own sort values), and a cursor a
list did not give is refused as ``Invalid`` naming ``query.cursor``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, Row, Select, Table, tuple_

from application.errors import Invalid
from application.list_views import Page, PageAsk, Reach

T = TypeVar("T")

#: Cursor values an integer key may hold (a 64-bit column).
BIGINT = 2 ** 63


def encode(kind: str, key: Sequence[int | str]) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(kind: str, cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """The keys in a cursor of list ``kind``, each of its type, or ``Invalid``."""
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # not base64, not UTF-8 or not JSON
        found = None
    if not (isinstance(found, list) and len(found) == len(types) + 1 and found[0] == kind
            and all(_fits(v, t) for v, t in zip(found[1:], types, strict=True))):
        raise Invalid("cursor", "is not a cursor of this list: pass the `next` of its last page "
                      "as it came", where="query")
    return tuple(found[1:])


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return type(value) is int and -BIGINT <= value < BIGINT
    return type(value) is str and "\x00" not in value and _encodable(value)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def within(table: Table, reach: Reach) -> list[ColumnElement[bool]]:
    """Rows of the reach's brokerage, and of its agent when it names one (the one place a
    list's rows are scoped: every list's query starts with it)."""
    found = [table.c.brokerage_id == str(reach.brokerage_id)]
    return found + ([table.c.agent_id == reach.agent_id] if reach.agent_id is not None else [])


def fetch(conn: Connection, query: Select[Any], keys: Sequence[Column[Any]], *,
          descending: bool, kind: str, page: PageAsk,
          build: Callable[[Row[Any]], T]) -> Page[T]:
    """One page of ``query`` in the order of ``keys`` (all one way: ``descending`` or not),
    after the cursor in ``page``; ``query`` selects every key column."""
    if page.cursor is not None:
        after = decode(kind, page.cursor, [k.type.python_type for k in keys])
        row_key, cursor_key = tuple_(*keys), tuple_(*after)
        query = query.where(row_key < cursor_key if descending else row_key > cursor_key)
    order = [k.desc() if descending else k.asc() for k in keys]
    rows = conn.execute(query.order_by(*order).limit(page.limit + 1)).all()
    more, rows = len(rows) > page.limit, rows[:page.limit]
    last = [rows[-1]._mapping[k] for k in keys] if rows else []
    return Page(items=[build(r) for r in rows], next=encode(kind, last) if more else None)
