"""Accounts: brokerages and users (given / when / then over events), and what a principal
sees (a property over every combination of brokerage, role and owner)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.access import INTEGRATION, ROLE_SCOPES, Owner, Principal
from domain import ids
from domain.account import Brokerage, Role, User
from domain.errors import InvalidState, InvalidValue
from tests.unit.conftest import then

ACME = ids.brokerage_id("acme")


def user(**overrides: object) -> User:
    fields: dict[str, object] = {"user_id": ids.user_id("ann@acme.test"), "brokerage_id": ACME,
                                 "email": " Ann@Acme.TEST ", "name": " Ann Lee ",
                                 "role": "agent", "agent_id": None, "by": "operator:cli"}
    fields.update(overrides)
    return User.register(**fields)  # type: ignore[arg-type]


def test_a_user_is_registered_with_a_normal_email_and_their_own_agent_id() -> None:
    made = user()
    assert then(made) == [("User.Created", {
        "brokerage_id": ACME, "email": "ann@acme.test", "name": "Ann Lee", "role": "agent",
        "agent_id": str(ids.user_id("ann@acme.test")), "by": "operator:cli"})]
    assert ids.user_id("ANN@acme.test ") == ids.user_id("ann@acme.test")


@pytest.mark.parametrize(("field", "value"), [("email", "ann"), ("email", "a@b"),
                                              ("email", "a b@c.d"), ("role", "owner"),
                                              ("name", "  "), ("agent_id", "x" * 101)])
def test_a_user_with_a_bad_field_is_refused_naming_it(field: str, value: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        user(**{field: value})
    assert refused.value.field == {"agent_id": "agentId"}.get(field, field)


def test_a_role_change_and_a_deactivation_are_events_and_repeat_nothing() -> None:
    made = user()
    made.collect_events()
    made.change_role("admin", by="user:x")
    made.change_role("admin", by="user:x")
    made.deactivate(by="user:x")
    made.deactivate(by="user:x")
    assert [name for name, _ in then(made)] == ["User.RoleChanged", "User.Deactivated"]
    assert made.is_admin and not made.active


def test_a_brokerage_has_each_member_once_and_each_agent_id_once() -> None:
    brokerage = Brokerage.open(brokerage_id=ACME, slug="acme", name="Acme", by=None)
    first, second = uuid4(), uuid4()
    brokerage.add(first, "agent-7", Role.AGENT)
    with pytest.raises(InvalidState) as twice:
        brokerage.add(first, "agent-8", Role.AGENT)
    assert twice.value.field == "email"
    with pytest.raises(InvalidState) as taken:
        brokerage.add(second, "agent-7", Role.AGENT)
    assert taken.value.field == "agentId"
    brokerage.change(first, role=Role.AGENT, active=False)
    assert brokerage.agent_ids() == {}
    brokerage.add(second, "agent-7", Role.ADMIN)  # a deactivated member's agent id is free
    assert brokerage.agent_ids() == {"agent-7": str(second)}


@pytest.mark.parametrize("slug", ["", "Acme Homes", "-acme", "a" * 64, "acmé"])
def test_a_brokerage_short_name_is_letters_digits_and_dashes(slug: str) -> None:
    with pytest.raises(InvalidValue):
        Brokerage.open(brokerage_id=uuid4(), slug=slug, name="x", by=None)


BROKERAGES = st.sampled_from([ACME, ids.brokerage_id("globex")])
AGENTS = st.sampled_from(["ann", "bob", None])


@given(mine=BROKERAGES, theirs=BROKERAGES, role=st.sampled_from(["agent", "admin", INTEGRATION]),
       agent=AGENTS, owner_agent=AGENTS)
def test_a_principal_sees_its_brokerage_only_and_an_agent_only_their_own(
        mine: UUID, theirs: UUID, role: str, agent: str | None, owner_agent: str | None) -> None:
    principal = Principal(brokerage_id=mine, role=role, agent_id=agent,
                          scopes=ROLE_SCOPES.get(role, frozenset()))
    owner = Owner(theirs, owner_agent)
    if mine != theirs:
        assert not principal.sees(owner) and not principal.may_change(owner)
    elif role != "agent":
        assert principal.sees(owner) and principal.may_change(owner)
    else:
        assert principal.sees(owner) == (owner_agent in (None, agent))
        assert principal.may_change(owner) == (owner_agent is not None and owner_agent == agent)
