"""The builder page names every choice the domain allows, so a new channel, condition or
operator cannot reach the page without a name (it would fail here first)."""

from __future__ import annotations

from api.pages.workflows import CHANNEL_TITLES, CHANNELS, choices
from domain.channels import Channel
from domain.definition import CONDITION_FIELDS, PREFERENCE_OPERATORS, STEP_CONDITIONS, UNITS


def test_every_channel_condition_operator_and_unit_has_its_place_on_the_page() -> None:
    page = choices()
    assert [c for c, _ in page["channels"]] == [c.value for c in Channel]
    assert set(CHANNEL_TITLES) == set(CHANNELS)
    assert [k for k, _ in page["step_conditions"]] == list(STEP_CONDITIONS)
    assert [f for f, _, _ in page["lead_fields"]] == [*CONDITION_FIELDS, "preferences."]
    assert {f: ops for f, _, ops in page["lead_fields"]} == {
        **CONDITION_FIELDS, "preferences.": PREFERENCE_OPERATORS}
    assert [op for op, _ in page["operators"]] == list(PREFERENCE_OPERATORS)
    assert set(PREFERENCE_OPERATORS) >= {op for ops in CONDITION_FIELDS.values() for op in ops}
    assert page["units"] == list(UNITS)
