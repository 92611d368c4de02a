"""Lead search: the words of each lead's name and email, lower-cased, in a table of their own,
so a search is an index range per word on PostgreSQL and SQLite alike.

A search's words must each begin a word of the name or of the email (``jo`` finds Joana Lima,
``lim`` her too, ``gmail`` or ``joana.l`` her address). A word is what lies between spaces, and
also each run of letters and digits in it (``o'neil`` and ``neil``, ``jane.doe@gmail.com``,
``jane``, ``gmail`` and ``com``); an email's domain is a word too. Case is folded
(``str.casefold``), so ``ÉLODIE`` finds Élodie. Substrings inside a word are not found: the
price of a search that stays an index range on 100,000 leads without a database extension."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Index, String, Table, and_, select

from projections.base import insert_rows, metadata

#: Terms are kept (and searched) at most this long.
MAX_TERM = 200

# Compared in code point order on both databases (SQLite's BINARY collation; PostgreSQL's "C"),
# so a prefix is one range of the index.
Term = String(MAX_TERM).with_variant(String(MAX_TERM, collation="C"), "postgresql")

terms = Table(
    "directory_lead_terms", metadata,
    Column("brokerage_id", String(36), primary_key=True),
    Column("term", Term, primary_key=True),
    Column("lead_id", String(36), primary_key=True),
    Index("directory_lead_terms_lead_idx", "lead_id"),
)

PIECE = re.compile(r"\w+")


def words(text: str) -> set[str]:
    folded = text.casefold()
    return {w[:MAX_TERM] for w in [*folded.split(), *PIECE.findall(folded)]}


def terms_of(name: str, email: str | None) -> set[str]:
    """What a search finds the lead by."""
    found = words(name)
    if email:
        found |= words(email) | words(email.partition("@")[2])
    return found


def search_words(q: str) -> list[str]:
    """The words of a search, folded as the terms are."""
    return list(dict.fromkeys(w[:MAX_TERM] for w in q.casefold().split()))


def after_prefix(prefix: str) -> str | None:
    """The least string after every string that starts with ``prefix``, in code point order
    (None: there is none)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(0xE000 if 0xD800 <= last <= 0xDFFF else last)
        prefix = prefix[:-1]
    return None


def matching(brokerage_id: str, lead_id: Column[Any], q: str) -> list[ColumnElement[bool]]:
    """Conditions on ``lead_id``: each word of ``q`` begins a term of the lead."""
    found: list[ColumnElement[bool]] = []
    for word in search_words(q):
        upper = after_prefix(word)
        in_range = and_(terms.c.term >= word, *([terms.c.term < upper] if upper else []))
        found.append(lead_id.in_(select(terms.c.lead_id)
                                 .where(terms.c.brokerage_id == brokerage_id, in_range)))
    return found


def index(conn: Connection, leads: Iterable[dict[str, Any]], *, fresh: bool) -> None:
    """Index the leads' terms (rows with ``lead_id``, ``brokerage_id``, ``name``, ``email``);
    unless ``fresh`` (newly registered), their old terms go first."""
    leads = list(leads)
    if not fresh and leads:
        conn.execute(terms.delete().where(terms.c.lead_id.in_([r["lead_id"] for r in leads])))
    insert_rows(conn, terms, [{"brokerage_id": r["brokerage_id"], "term": t,
                               "lead_id": r["lead_id"]}
                              for r in leads for t in sorted(terms_of(r["name"], r["email"]))])
