"""Who acted, as a lead's history says it: a user by name, a token by its id.

The names come from the log (``User.Created``), kept in the history's own table, so the history
rebuilds from the log alone and comes out the same. A token's name lives with the credentials,
outside the log (and a history that looked them up would change with that store, not with the
log): the history says "API token" and the first characters of its id; the entry's ``actor``
carries the whole id, which the token list (``GET /api/tokens``) shows beside the name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Connection, String, Table, Text, select

from domain.account import User
from projections.base import insert_rows, metadata

user_names = Table(
    "lead_history_users", metadata,
    Column("user_id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
)

#: What the history follows of the accounts: each user's name.
USER_EVENTS: tuple[type, ...] = (User.Created,)

#: How much of a token's (or an unknown user's) id the history shows.
SHORT_ID = 8


def who(actor: str | None, names: Mapping[str, str]) -> str | None:
    """The actor as a person reads it (None: nobody named, the system): ``user:<id>`` is the
    user's name, ``token:<id>`` "API token 3f2a9c1e", ``user:<id> via token:<id>`` (a user's
    own token) "Ann Lee via API token 3f2a9c1e"."""
    if not actor:
        return None
    person, _, via = actor.partition(" via ")
    kind, _, ident = person.partition(":")
    if kind != "user":
        return _token(ident)
    name = names.get(ident) or f"user {ident[:SHORT_ID]}"
    return f"{name} via {_token(via.partition(':')[2])}" if via else name


def _token(ident: str) -> str:
    return f"API token {ident[:SHORT_ID]}"


class UserNames:
    """User id → name: read once, then kept in memory; new users written with the batch."""

    def __init__(self) -> None:
        self._names: dict[str, str] | None = None
        self._new: list[dict[str, str]] = []

    def forget(self) -> None:
        self._names = None
        self._new = []

    def read(self, conn: Connection) -> dict[str, str]:
        if self._names is None:
            self._names = {r.user_id: r.name for r in conn.execute(select(user_names))}
        return self._names

    def follow(self, conn: Connection, event: Any) -> None:
        """Keep the name of a user the log just created."""
        ident = str(event.originator_id)
        self.read(conn)[ident] = event.name
        self._new.append({"user_id": ident, "name": event.name})

    def write(self, conn: Connection) -> None:
        new, self._new = self._new, []
        insert_rows(conn, user_names, new)
