"""Accounts: brokerages (the tenants) and the users who belong to one.

Identity and roles are events like everything else; credential material (password hashes,
token hashes, sessions) never is: the log is exported to analysts, so those live in a store of
their own (``application.ports.Credentials``)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidState, InvalidValue

#: Enough of an address to tell a typo; the mail server is the final judge.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_NAME = 200
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


def check_email(email: str) -> str:
    normal = email.strip().lower()
    if len(normal) > 254 or not EMAIL.match(normal):
        raise InvalidValue("email", "is not an email address")
    return normal


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidValue("role", f"{role!r} is not a role; use agent or admin") from None


def check_name(name: str, field: str = "name") -> str:
    if not name.strip():
        raise InvalidValue(field, "must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidValue(field, f"must be at most {MAX_NAME} characters")
    return name.strip()


def check_slug(slug: str) -> str:
    normal = slug.strip().casefold()
    if not SLUG.match(normal):
        raise InvalidValue("brokerage", "use 1-63 lower-case letters, digits and dashes, "
                           "beginning with a letter or digit")
    return normal


class Brokerage(Aggregate):
    """A tenant: its members (by user id), each with the agent id their leads carry."""

    TOPIC = "followup.brokerage"
    id: UUID  # from its short name: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.brokerage.created"
        slug: str
        name: str
        by: str | None

    class MemberAdded(Aggregate.Event):
        TOPIC = "followup.brokerage.member_added"
        user_id: UUID
        agent_id: str
        role: str

    class MemberChanged(Aggregate.Event):
        TOPIC = "followup.brokerage.member_changed"
        user_id: UUID
        role: str
        active: bool

    @event(Created)
    def __init__(self, slug: str, name: str, by: str | None) -> None:
        self.slug = slug
        self.name = name
        self.members: dict[str, dict[str, str | bool]] = {}  # user id -> agent id, role, active

    @classmethod
    def open(cls, *, brokerage_id: UUID, slug: str, name: str, by: str | None) -> Brokerage:
        return cls(id=brokerage_id, slug=check_slug(slug), name=check_name(name), by=by)  # type: ignore[call-arg]

    def agent_ids(self) -> dict[str, str]:
        """Each active member's agent id, to the member's user id."""
        return {str(m["agent_id"]): user for user, m in self.members.items() if m["active"]}

    def add(self, user_id: UUID, agent_id: str, role: Role) -> None:
        if str(user_id) in self.members:
            raise InvalidState("email", "already has an account in this brokerage")
        if agent_id in self.agent_ids():
            raise InvalidState("agentId", f"{agent_id!r} already belongs to another member")
        self._member_added(user_id=user_id, agent_id=agent_id, role=role.value)

    @event(MemberAdded)
    def _member_added(self, user_id: UUID, agent_id: str, role: str) -> None:
        self.members[str(user_id)] = {"agent_id": agent_id, "role": role, "active": True}

    def change(self, user_id: UUID, *, role: Role, active: bool) -> None:
        member = self.members.get(str(user_id))
        if member is None:
            raise InvalidState("userId", "is not a member of this brokerage")
        if member["role"] != role.value or member["active"] != active:
            self._member_changed(user_id=user_id, role=role.value, active=active)

    @event(MemberChanged)
    def _member_changed(self, user_id: UUID, role: str, active: bool) -> None:
        self.members[str(user_id)].update(role=role, active=active)


class User(Aggregate):
    """One person's account: which brokerage, which role, which agent id their data carries."""

    TOPIC = "followup.user"
    id: UUID  # from the email address: one account per address

    class Created(Aggregate.Created):
        TOPIC = "followup.user.created"
        brokerage_id: UUID
        email: str
        name: str
        role: str
        agent_id: str
        by: str | None

    class RoleChanged(Aggregate.Event):
        TOPIC = "followup.user.role_changed"
        role: str
        by: str | None

    class Deactivated(Aggregate.Event):
        TOPIC = "followup.user.deactivated"
        by: str | None

    class Reactivated(Aggregate.Event):
        TOPIC = "followup.user.reactivated"
        by: str | None

    class PasswordChanged(Aggregate.Event):
        """The password was set or changed (the hash itself is never an event)."""
        TOPIC = "followup.user.password_changed"
        at: datetime
        by: str | None

    @event(Created)
    def __init__(self, brokerage_id: UUID, email: str, name: str, role: str, agent_id: str,
                 by: str | None) -> None:
        self.brokerage_id = brokerage_id
        self.email = email
        self.name = name
        self.role = role
        self.agent_id = agent_id
        self.active = True
        self.password_changed_at: datetime | None = None

    @classmethod
    def register(cls, *, user_id: UUID, brokerage_id: UUID, email: str, name: str, role: str,
                 agent_id: str | None, by: str | None) -> User:
        agent = (agent_id or "").strip() or str(user_id)
        if len(agent) > 100:
            raise InvalidValue("agentId", "must be at most 100 characters")
        return cls(id=user_id, brokerage_id=brokerage_id, email=check_email(email),  # type: ignore[call-arg]
                   name=check_name(name), role=check_role(role).value, agent_id=agent, by=by)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def change_role(self, role: str, by: str | None) -> None:
        new = check_role(role)
        if new.value != self.role:
            self._role_changed(role=new.value, by=by)

    @event(RoleChanged)
    def _role_changed(self, role: str, by: str | None) -> None:
        self.role = role

    def deactivate(self, by: str | None) -> None:
        if self.active:
            self._deactivated(by=by)

    @event(Deactivated)
    def _deactivated(self, by: str | None) -> None:
        self.active = False

    def reactivate(self, by: str | None) -> None:
        if not self.active:
            self._reactivated(by=by)

    @event(Reactivated)
    def _reactivated(self, by: str | None) -> None:
        self.active = True

    def password_set(self, at: datetime, by: str | None) -> None:
        self._password_changed(at=at, by=by)

    @event(PasswordChanged)
    def _password_changed(self, at: datetime, by: str | None) -> None:
        self.password_changed_at = at
