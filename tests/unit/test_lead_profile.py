"""Lead profile edits: only the fields that change are recorded, checked as at registration;
an execution follows its lead into a new time zone."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.lead import PROFILE, Lead
from tests.unit.conftest import T0, given, state, then
from tests.unit.test_execution import cancelled, dispatched, minutes, sent, start
from tests.unit.test_lead import register


def ana() -> Lead:
    """Given a registered lead (events collected)."""
    lead = register()
    lead.collect_events()
    return lead


def test_an_edit_records_only_the_fields_that_change_and_who_acted() -> None:
    lead = ana()
    # When
    changed = lead.edit_profile({"name": " Ana Lopez ", "email": "ana@example.com",
                                 "timezone": "Europe/Lisbon", "source": " Zillow ",
                                 "move_by": date(2027, 3, 1)}, by="agent-1")
    # Then (the email was already hers; the name and source stored as a registration would)
    assert changed == ["name", "timezone", "source", "move_by"]
    assert then(lead) == [("Lead.ProfileEdited", {
        "changes": {"name": "Ana Lopez", "timezone": "Europe/Lisbon", "source": "zillow",
                    "move_by": "2027-03-01"}, "by": "agent-1"})]
    assert (lead.name, lead.timezone, lead.source, lead.move_by) == (
        "Ana Lopez", "Europe/Lisbon", "zillow", "2027-03-01")


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    lead = ana()
    assert lead.edit_profile({"name": "Ana Maria Lopez", "timezone": "America/New_York"}) == []
    assert lead.edit_profile({}) == []
    assert then(lead) == []


def test_contacts_and_the_timeline_may_be_cleared() -> None:
    lead = ana()
    lead.edit_profile({"email": None, "phone": None, "timeline": None, "move_by": None})
    assert [fields["changes"] for _, fields in then(lead)] == [
        {"email": None, "phone": None, "timeline": None}]


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": "  "}, "name"),
    ({"name": None}, "name"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "localtime"}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"preferences": None}, "preferences"),
    ({"score": 90}, "score"),
    ({"agent_id": "agent-2"}, "agent_id"),
    ({"email": "new@example.com", "name": ""}, "name"),
])
def test_a_bad_edit_is_refused_naming_the_field_and_records_nothing(
        changes: dict[str, Any], field: str) -> None:
    lead = ana()
    with pytest.raises(InvalidValue) as refused:
        lead.edit_profile(changes)
    assert refused.value.field == field
    assert then(lead) == [] and lead.email == "ana@example.com"


def test_the_preferences_are_copied_not_shared() -> None:
    lead = ana()
    mine = {"area": "Uptown"}
    lead.edit_profile({"preferences": mine})
    mine["area"] = "changed after"
    assert lead.preferences == {"area": "Uptown"}


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["Ana", " Bo Li ", "Cy"]),
    "email": st.none() | st.sampled_from(["a@example.com", "ana@example.com"]),
    "phone": st.none() | st.just("+15551234567"),
    "timezone": st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
    "preferences": st.dictionaries(st.sampled_from(["area", "beds"]), st.integers(0, 3)),
    "timeline": st.none() | st.just("soon"),
    "source": st.none() | st.sampled_from(["Zillow", "zillow ", " "]),
    "move_by": st.none() | st.dates(date(2026, 1, 1), date(2027, 1, 1)),
}
EDITS = st.lists(st.fixed_dictionaries({}, optional=VALUES), max_size=8)


@hypothesis_given(EDITS)
@settings(max_examples=100, deadline=None)
def test_any_sequence_of_edits_replays_to_the_same_lead(edits: list[dict[str, Any]]) -> None:
    lead = register()
    for changes in edits:
        before = {f: getattr(lead, f) for f in PROFILE}
        changed = lead.edit_profile(changes)
        # Every field edited now reads as a registration with it would store it; nothing else
        # moved; the fields said to change are the ones that did
        after = {f: getattr(lead, f) for f in PROFILE}
        assert {f for f in PROFILE if before[f] != after[f]} == set(changed) <= set(changes)
        assert all(after[f] == PROFILE[f](v) for f, v in changes.items())
    assert state(given(*lead.collect_events())) == state(lead)


# an execution follows its lead's time zone ---------------------------------------------


def test_a_live_execution_plans_its_later_steps_in_the_new_zone() -> None:
    # Given an execution in UTC whose SMS step (60 min after the email) falls in the night
    # of the lead's new zone
    execution = start(timezone="UTC")
    execution.collect_events()
    # When the lead moves to Los Angeles, and the email is sent at 09:30 UTC (01:30 there)
    assert execution.follow_zone("America/Los_Angeles", T0) is True
    for command in (dispatched(0, T0 + minutes(30)), sent(0, T0 + minutes(30))):
        command(execution)
    # Then the zone change is recorded, and the text waits for 08:00 in Los Angeles
    events = execution.collect_events()
    assert (type(events[0]).__qualname__, events[0].timezone) == (
        "WorkflowExecution.ZoneChanged", "America/Los_Angeles")
    assert execution.step(1).due_at == T0.replace(hour=16)  # 08:00 PST
    assert execution.follow_zone("America/Los_Angeles", T0) is False


def test_an_ended_execution_does_not_follow() -> None:
    execution = start()
    cancelled(T0 + minutes(1))(execution)
    execution.collect_events()
    assert execution.follow_zone("Asia/Kolkata", T0) is False
    assert then(execution) == [] and execution.timezone == "UTC"
