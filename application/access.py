"""Who is asking, and what they may see: principals, scopes and owners.

An agent sees and changes their own leads, workflows, templates and executions; an admin (and a
token of the brokerage) all of their brokerage; nobody another brokerage's. Whatever a principal
may not see does not exist for them (the caller answers it as not found), so ids do not leak."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from application.errors import ApplicationError
from domain.account import Role


class Scope(StrEnum):
    """What a token may do; a signed-in user may do all of it but ``health:read`` (admins)."""
    LEADS_READ = "leads:read"
    LEADS_WRITE = "leads:write"
    SCORES_WRITE = "scores:write"
    WORKFLOWS_READ = "workflows:read"
    WORKFLOWS_WRITE = "workflows:write"
    EXECUTIONS_WRITE = "executions:write"
    HEALTH_READ = "health:read"


SCOPE_TEXT = {
    Scope.LEADS_READ: "read leads, their history, executions and inbox, and dead letters",
    Scope.LEADS_WRITE: "register leads, edit their profile, status and consent",
    Scope.SCORES_WRITE: "change leads' scores (the scoring system)",
    Scope.WORKFLOWS_READ: "read workflows, their versions and templates",
    Scope.WORKFLOWS_WRITE: "create and edit workflows and templates, publish, pause, roll back",
    Scope.EXECUTIONS_WRITE: "pause, resume, skip, send now, cancel, restart and replay "
                            "executions",
    Scope.HEALTH_READ: "read the health check's details (monitoring)",
}

#: What a signed-in user may do, by role.
ROLE_SCOPES = {Role.AGENT.value: frozenset(Scope) - {Scope.HEALTH_READ},
               Role.ADMIN.value: frozenset(Scope)}

#: The role of a token that acts for the whole brokerage rather than for one user.
INTEGRATION = "integration"


@dataclass(frozen=True)
class Owner:
    """Whose a thing is: its brokerage and its agent (None: the brokerage's own)."""
    brokerage_id: UUID
    agent_id: str | None


@dataclass(frozen=True)
class Principal:
    brokerage_id: UUID
    role: str  # agent, admin, or integration (a brokerage token)
    scopes: frozenset[str]
    user_id: UUID | None = None
    agent_id: str | None = None
    token_id: UUID | None = None
    csrf: str | None = None  # a browser session's token for state-changing requests

    @property
    def actor(self) -> str:
        """Who acted, as the log and the history name them (ids only)."""
        who = f"user:{self.user_id}" if self.user_id else f"token:{self.token_id}"
        return f"{who} via token:{self.token_id}" if self.user_id and self.token_id else who

    @property
    def wide(self) -> bool:
        """Sees the whole brokerage: an admin, or a token of the brokerage."""
        return self.role in (Role.ADMIN.value, INTEGRATION)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def allows(self, scope: Scope) -> bool:
        return scope.value in self.scopes

    def sees(self, owner: Owner) -> bool:
        """May read it: the brokerage's own things are read by all its members."""
        return owner.brokerage_id == self.brokerage_id and (
            self.wide or owner.agent_id is None or owner.agent_id == self.agent_id)

    def may_change(self, owner: Owner) -> bool:
        return self.sees(owner) and (self.wide or (
            owner.agent_id is not None and owner.agent_id == self.agent_id))


class Unauthenticated(ApplicationError):
    """No principal: no credential, or one that is wrong, expired or revoked."""


class SignInRefused(Unauthenticated):
    """The email and password do not match an active account (never says which is wrong)."""


class Forbidden(ApplicationError):
    """The principal is known but may not do this (a scope or a role it lacks)."""


class RateLimited(ApplicationError):
    """Too many failed attempts; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after
