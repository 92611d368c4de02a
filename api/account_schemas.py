"""Request and response bodies of accounts: sign-in, users, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from api.schemas import Command, Flag, Name, Schema
from application.access import SCOPE_TEXT

ScopeName = Literal[tuple(s.value for s in SCOPE_TEXT)]  # type: ignore[valid-type]


class SignInIn(Command):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1000)


class UserPublic(Schema):
    id: UUID
    brokerage_id: UUID
    email: str
    name: str
    role: Literal["agent", "admin"]
    agent_id: str
    active: bool


class SessionPublic(Schema):
    """The signed-in user; ``csrfToken`` goes in the ``X-CSRF-Token`` header of every change
    the browser asks for."""
    user: UserPublic
    csrf_token: str
    expires_at: datetime | None = None


class PasswordChangeIn(Command):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


class UserCreate(Command):
    email: str = Field(min_length=1, max_length=254)
    name: Name = Field(min_length=1, max_length=200)
    role: Literal["agent", "admin"] = "agent"
    password: str = Field(min_length=1, max_length=1000)


class TokenCreate(Command):
    name: Name = Field(min_length=1, max_length=100)
    scopes: list[ScopeName] = Field(min_length=1, max_length=len(SCOPE_TEXT))  # type: ignore[valid-type]
    for_brokerage: Flag = Field(default=False, description="a token of the brokerage (admins): "
                                "it acts for every agent of it, as integrations do")


class TokenPublic(Schema):
    id: UUID
    name: str
    scopes: list[str]
    user_id: UUID | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class TokenIssued(TokenPublic):
    """``token`` is shown this once: it is kept only as a digest."""
    token: str


class ScopePublic(Schema):
    name: str
    description: str
