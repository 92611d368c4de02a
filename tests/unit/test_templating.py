"""The template sandbox: what an agent's template cannot do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from adapters.templating import JinjaRenderer
from application.errors import Invalid, MissingValue
from domain.lead import Lead
from domain.personalisation import context_for
from domain.timing import due_at


def lead_with(preferences: dict[str, object]) -> Lead:
    return Lead.register(lead_id=uuid4(), agent_id="a", name="Ana Lima", email=None, phone=None,
                         timezone="UTC", preferences=preferences, timeline=None)


def test_rendering_cannot_change_the_lead_or_its_recorded_event() -> None:
    lead = lead_with({"areas": ["Downtown"]})
    created = lead.collect_events()[0]
    with pytest.raises(Invalid):
        JinjaRenderer().render("{{ lead.preferences.areas.append('Uptown') }}",
                               context_for(lead))
    assert lead.preferences == {"areas": ["Downtown"]}
    assert created.preferences == {"areas": ["Downtown"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["{{ lead.name * 10**8 }}", "{{ 'x' * 100000000 }}",
                                  "{{ 2 ** 100000000 }}", "{{ [1] * 99999999 }}"])
def test_templates_cannot_build_huge_values(text: str) -> None:
    with pytest.raises(Invalid) as e:
        JinjaRenderer().check(text, "body")
    assert e.value.field == "body"


def test_small_arithmetic_still_works() -> None:
    assert JinjaRenderer().render("{{ '-' * 3 }}{{ 2 ** 3 }}{{ 3 * 'ab' }}", {}) == "---8ababab"


def test_trailing_newlines_are_kept() -> None:
    assert JinjaRenderer().render("Hi\n\n", {}) == "Hi\n\n"


def test_due_time_counts_elapsed_minutes_across_a_dst_change() -> None:
    # 01:30 on the autumn change in New York, second occurrence (06:30 UTC)
    local = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    assert due_at(local, 0) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert due_at(local, 60) - local.astimezone(UTC) == timedelta(minutes=60)


# Preferences differ from lead to lead: any key may be used --------------------------------

def render_for(preferences: dict[str, object], text: str) -> str:
    return JinjaRenderer().render(text, context_for(lead_with(preferences)), "body")


def test_a_preference_the_lead_has_renders_and_a_missing_one_takes_the_default() -> None:
    # Given a template with a fallback for the area
    text = "{{ lead.preferences.property_type }} in {{ lead.preferences.area | default('town') }}"
    # Then a lead with both gets hers, a lead without the area the fallback
    assert render_for({"property_type": "condo", "area": "Uptown"}, text) == "condo in Uptown"
    assert render_for({"property_type": "condo"}, text) == "condo in town"


def test_printing_a_missing_preference_without_a_default_names_it() -> None:
    # Given a lead without an area, when a template prints it without a default
    with pytest.raises(MissingValue) as missing:
        render_for({"property_type": "condo"}, "Homes in {{ lead.preferences.area }}")
    # Then the error says which preference and why, for the step's history
    assert missing.value.field == "body"
    assert missing.value.reason == ("the lead has no preference 'area' and the template gives "
                                    "no default")


@pytest.mark.parametrize("text", [
    "{{ lead.preferences.area ~ '!' }}", "{{ lead.preferences.bedrooms + 1 }}",
    "{{ lead.preferences.area | upper }}", "{{ '%s' % lead.preferences.area }}",
    "{{ lead.preferences.budget.max }}"])
def test_using_a_missing_preference_as_text_or_number_is_a_missing_value(text: str) -> None:
    with pytest.raises(MissingValue):
        render_for({}, text)


@pytest.mark.parametrize(("text", "expected"), [
    ("{% if lead.preferences.area %}in {{ lead.preferences.area }}{% else %}near you"
     "{% endif %}", "near you"),
    ("{% for a in lead.preferences.areas %}{{ a }}{% else %}anywhere{% endfor %}", "anywhere"),
    ("{{ lead.preferences.type == 'condo' }} {{ lead.preferences.type != 'condo' }} "
     "{{ lead.preferences.bedrooms > 2 }} {{ 'pool' in lead.preferences.features }}",
     "False True False False"),
    ("{{ lead.preferences.area is defined }} {{ lead.preferences.areas | length }}", "False 0"),
    ("{{ lead.preferences.budget.max | default('any price') }}", "any price"),
])
def test_a_missing_preference_is_false_in_conditions_and_empty_in_loops(text: str,
                                                                        expected: str) -> None:
    assert render_for({}, text) == expected


def test_a_nested_preference_names_its_path() -> None:
    with pytest.raises(MissingValue) as missing:
        render_for({"budget": {"min": 1}}, "{{ lead.preferences.budget.max }}")
    assert "'budget.max'" in missing.value.reason


def test_saving_accepts_any_preference_key_but_refuses_an_unknown_variable() -> None:
    renderer = JinjaRenderer()
    # Any preference key, with or without a default (the sample lead lacks "pool")
    renderer.check("{{ lead.preferences.pool }} {{ lead.preferences.view | default('') }}",
                   "body")
    # A field the lead does not have, or an unknown variable, is refused by name
    for text, unknown in [("{{ lead.nmae }}", "lead.nmae"), ("{{ agent.name }}", "agent.name"),
                          ("{{ leed.name }}", "leed")]:
        with pytest.raises(Invalid) as refused:
            renderer.check(text, "body")
        assert refused.value.reason.startswith(f"unknown variable(s): {unknown} (line 1);")
        assert refused.value.line == 1


def test_a_missing_value_of_another_variable_is_still_an_error() -> None:
    # Only the lead's preferences are open: any other unknown attribute is a mistake
    with pytest.raises(Invalid) as refused:
        JinjaRenderer().render("{{ agent.name }}", {"agent": {"id": "a"}})
    assert not isinstance(refused.value, MissingValue)
