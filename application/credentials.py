"""Ports for credential material, which never enters the event log: password hashes, API
tokens and browser sessions (the store keeps only digests of tokens and sessions), and the
limiter of failed sign-ins."""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

#: A token's visible prefix, so a leaked one is recognisable (and findable by secret scanners).
TOKEN_PREFIX = "fu_"


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a token or a session: its secret has 256 random bits, so one
    SHA-256 suffices (a slow hash is for passwords people choose)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenRecord:
    token_id: UUID
    brokerage_id: UUID
    user_id: UUID | None  # None: a token of the brokerage
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class SessionRecord:
    user_id: UUID
    csrf: str
    created_at: datetime
    expires_at: datetime


class Credentials(ABC):
    @abstractmethod
    def set_password(self, user_id: UUID, hashed: str) -> None: ...

    @abstractmethod
    def password(self, user_id: UUID) -> str | None: ...

    @abstractmethod
    def add_token(self, token_digest: str, record: TokenRecord) -> None: ...

    @abstractmethod
    def token(self, token_digest: str) -> TokenRecord | None: ...

    @abstractmethod
    def tokens(self, brokerage_id: UUID, user_id: UUID | None = None) -> Sequence[TokenRecord]:
        """The brokerage's tokens (only the user's, given one), newest first."""

    @abstractmethod
    def revoke_token(self, token_id: UUID, at: datetime) -> None: ...

    @abstractmethod
    def add_session(self, session_digest: str, record: SessionRecord) -> None: ...

    @abstractmethod
    def session(self, session_digest: str) -> SessionRecord | None: ...

    @abstractmethod
    def drop_sessions(self, user_id: UUID, *, only: str | None = None,
                      keep: str | None = None) -> None:
        """End the user's sessions: just ``only``, or all but ``keep``, or all."""


class PasswordHasher(ABC):
    @abstractmethod
    def hash(self, password: str) -> str: ...

    @abstractmethod
    def verify(self, password: str, hashed: str) -> bool: ...


class AttemptLimiter(ABC):
    """Counts failed attempts per key (an account, an address) in a moving window."""

    @abstractmethod
    def blocked(self, keys: Sequence[str]) -> int | None:
        """Seconds until an attempt is allowed again, if any key is at its limit."""

    @abstractmethod
    def failed(self, keys: Sequence[str]) -> None: ...

    @abstractmethod
    def clear(self, key: str) -> None: ...
