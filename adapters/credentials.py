"""Credential material in SQL (PostgreSQL or SQLite), beside the read models but not one of
them: it is not rebuilt from the log (the log never holds it), so a rebuild never drops it.
Tokens and sessions are kept as digests; passwords as argon2 hashes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pwdlib import PasswordHash
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    text,
    update,
)

from application.credentials import (
    AttemptLimiter,
    Credentials,
    PasswordHasher,
    SessionRecord,
    TokenRecord,
)
from projections.base import SCHEMA_LOCK

metadata = MetaData()

passwords = Table(
    "account_passwords", metadata,
    Column("user_id", String(36), primary_key=True),
    Column("hash", Text, nullable=False),
)

tokens = Table(
    "account_tokens", metadata,
    Column("digest", String(64), primary_key=True),
    Column("token_id", String(36), nullable=False, unique=True),
    Column("brokerage_id", String(36), nullable=False),
    Column("user_id", String(36)),
    Column("name", String(100), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("account_tokens_brokerage_idx", "brokerage_id", "created_at"),
)

sessions = Table(
    "account_sessions", metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("account_sessions_user_idx", "user_id"),
)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes: they were stored in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class SqlCredentials(Credentials):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self) -> None:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            metadata.create_all(conn)

    def set_password(self, user_id: UUID, hashed: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(passwords).where(passwords.c.user_id == str(user_id)))
            conn.execute(passwords.insert().values(user_id=str(user_id), hash=hashed))

    def password(self, user_id: UUID) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(passwords.c.hash)
                                .where(passwords.c.user_id == str(user_id))).scalar()

    def add_token(self, token_digest: str, record: TokenRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(tokens.insert().values(
                digest=token_digest, token_id=str(record.token_id),
                brokerage_id=str(record.brokerage_id),
                user_id=str(record.user_id) if record.user_id else None, name=record.name,
                scopes=" ".join(record.scopes), created_at=record.created_at,
                created_by=record.created_by, revoked_at=record.revoked_at))

    def token(self, token_digest: str) -> TokenRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tokens).where(tokens.c.digest == token_digest)).first()
        return _token(row._mapping) if row else None

    def tokens(self, brokerage_id: UUID, user_id: UUID | None = None) -> Sequence[TokenRecord]:
        query = select(tokens).where(tokens.c.brokerage_id == str(brokerage_id))
        if user_id is not None:
            query = query.where(tokens.c.user_id == str(user_id))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(tokens.c.created_at.desc())).all()
        return [_token(r._mapping) for r in rows]

    def revoke_token(self, token_id: UUID, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(tokens).where(tokens.c.token_id == str(token_id),
                                              tokens.c.revoked_at.is_(None))
                         .values(revoked_at=at))

    def add_session(self, session_digest: str, record: SessionRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.insert().values(
                digest=session_digest, user_id=str(record.user_id), csrf=record.csrf,
                created_at=record.created_at, expires_at=record.expires_at))

    def session(self, session_digest: str) -> SessionRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions)
                               .where(sessions.c.digest == session_digest)).first()
        if row is None:
            return None
        m = row._mapping
        return SessionRecord(user_id=UUID(m["user_id"]), csrf=m["csrf"],
                             created_at=_aware(m["created_at"]) or m["created_at"],
                             expires_at=_aware(m["expires_at"]) or m["expires_at"])

    def drop_sessions(self, user_id: UUID, *, only: str | None = None,
                      keep: str | None = None) -> None:
        query = delete(sessions).where(sessions.c.user_id == str(user_id))
        if only is not None:
            query = query.where(sessions.c.digest == only)
        if keep is not None:
            query = query.where(sessions.c.digest != keep)
        with self.engine.begin() as conn:
            conn.execute(query)


def _token(m: Any) -> TokenRecord:
    return TokenRecord(token_id=UUID(m["token_id"]), brokerage_id=UUID(m["brokerage_id"]),
                       user_id=UUID(m["user_id"]) if m["user_id"] else None, name=m["name"],
                       scopes=tuple(m["scopes"].split()),
                       created_at=_aware(m["created_at"]) or m["created_at"],
                       created_by=m["created_by"], revoked_at=_aware(m["revoked_at"]))


class Argon2Hasher(PasswordHasher):
    """argon2id with pwdlib's recommended parameters."""

    def __init__(self) -> None:
        self._hash = PasswordHash.recommended()

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        try:
            return bool(self._hash.verify(password, hashed))
        except Exception:  # a malformed stored hash never signs anyone in
            return False


class WindowLimiter(AttemptLimiter):
    """Failed attempts per key in a moving window (``limits``, over Redis when configured, so
    every API process counts together; in memory for the embedded run)."""

    def __init__(self, storage_url: str, *, per_account: int, per_address: int,
                 minutes: int, prefix: str) -> None:
        options: dict[str, Any] = {"key_prefix": f"{prefix}-limits"} \
            if storage_url.startswith("redis") else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url, **options))
        self._items = {"account": RateLimitItemPerMinute(per_account, minutes),
                       "address": RateLimitItemPerMinute(per_address, minutes)}

    def _item(self, key: str) -> Any:
        return self._items[key.split(":", 1)[0]]

    def blocked(self, keys: Sequence[str]) -> int | None:
        waits = [self._limiter.get_window_stats(self._item(k), k).reset_time
                 for k in keys if not self._limiter.test(self._item(k), k)]
        if not waits:
            return None
        return max(1, int(max(waits) - datetime.now(UTC).timestamp()) + 1)

    def failed(self, keys: Sequence[str]) -> None:
        for key in keys:
            self._limiter.hit(self._item(key), key)

    def clear(self, key: str) -> None:
        self._limiter.clear(self._item(key), key)
