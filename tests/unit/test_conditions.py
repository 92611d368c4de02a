"""Conditions: unmet_lead_condition (who may enter) and skip_reason (whether a step goes)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.conditions import Engagement, skip_reason, unmet_lead_condition
from domain.lead import Lead
from tests.unit.conftest import T0

LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")


def lead(**overrides: Any) -> Lead:
    fields: dict[str, Any] = dict(
        lead_id=LEAD_ID, agent_id="agent-1", name="Ana", email=None, phone=None,
        timezone="UTC", preferences={"area": "Downtown", "bedrooms": 2}, timeline=None,
        score=60, source="Zillow", move_by=T0.date() + timedelta(days=20))
    fields.update(overrides)
    return Lead.register(**fields)


def condition(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


# unmet_lead_condition ----------------------------------------------------------

# The lead: source "zillow" (registered as "Zillow"), moving in 20 days, score 60,
# preferences area "Downtown" and bedrooms 2.
LEAD_CONDITIONS = [
    (condition("source", "eq", "zillow"), True),
    (condition("source", "eq", "referral"), False),
    (condition("source", "ne", "referral"), True),
    (condition("source", "ne", "zillow"), False),
    (condition("source", "in", ["referral", "zillow"]), True),
    (condition("source", "in", ["referral"]), False),
    (condition("move_within_days", "lte", 20), True),
    (condition("move_within_days", "lte", 30), True),
    (condition("move_within_days", "lte", 19), False),
    (condition("score", "gte", 60), True),
    (condition("score", "gte", 61), False),
    (condition("score", "lte", 60), True),
    (condition("score", "lte", 59), False),
    (condition("preferences.area", "eq", "Downtown"), True),
    (condition("preferences.area", "eq", "downtown"), False),
    (condition("preferences.area", "in", ["Uptown", "Downtown"]), True),
    (condition("preferences.bedrooms", "gte", 2), True),
    (condition("preferences.bedrooms", "lte", 1), False),
    (condition("preferences.bedrooms", "gte", "2"), False),  # not comparable: not met
    (condition("preferences.pool", "eq", True), False),      # no such preference
    (condition("preferences.pool", "ne", True), True),
]


@pytest.mark.parametrize(("rule", "met"), LEAD_CONDITIONS,
                         ids=[f"{c['field']}-{c['op']}-{c['value']}" for c, _ in LEAD_CONDITIONS])
def test_a_lead_condition(rule: dict[str, Any], met: bool) -> None:
    # Given the lead above
    # When
    unmet = unmet_lead_condition([rule], lead(), T0)
    # Then
    assert unmet == (None if met else rule)


@pytest.mark.parametrize(("rule", "met"), [
    (condition("source", "eq", "zillow"), False),
    (condition("source", "ne", "zillow"), True),
    (condition("move_within_days", "lte", 365), False),
])
def test_a_condition_on_a_field_the_lead_lacks_holds_only_for_ne(rule: dict[str, Any],
                                                                 met: bool) -> None:
    # Given a lead without source or move date
    bare = lead(source=None, move_by=None)
    # When / Then
    assert (unmet_lead_condition([rule], bare, T0) is None) is met


def test_a_move_date_already_past_is_within_any_number_of_days() -> None:
    # Given a lead that wanted to move a week ago
    late = lead(move_by=T0.date() - timedelta(days=7))
    # When / Then
    assert unmet_lead_condition([condition("move_within_days", "lte", 0)], late, T0) is None


def test_move_within_days_counts_from_the_day_of_now() -> None:
    # Given a lead moving on 25 January 2026; T0 is 5 January
    moving = lead(move_by=date(2026, 1, 25))
    rule = condition("move_within_days", "lte", 20)
    # When / Then
    assert unmet_lead_condition([rule], moving, T0) is None
    assert unmet_lead_condition([rule], moving, T0 - timedelta(days=1)) == rule


def test_the_first_unmet_condition_is_returned() -> None:
    # Given
    rules = [condition("score", "gte", 10), condition("source", "eq", "referral"),
             condition("score", "gte", 99)]
    # When / Then
    assert unmet_lead_condition(rules, lead(), T0) == rules[1]


def test_no_conditions_are_always_met() -> None:
    # When / Then
    assert unmet_lead_condition([], lead(), T0) is None


# skip_reason --------------------------------------------------------------------

def step(channel: str = "email", *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"channel": channel, "conditions": list(conditions)}


NOT_OPENED = {"kind": "previous_email_not_opened"}
NOT_READ = {"kind": "in_app_not_read"}


def at_least(value: int) -> dict[str, Any]:
    return {"kind": "score_at_least", "value": value}


SKIPS = [
    ("no-conditions", step(), Engagement(score=0), None),
    ("conditions-none", {"channel": "sms", "conditions": None}, Engagement(score=0), None),
    ("opted-out", step("sms"), Engagement(score=90, opted_out=frozenset({"sms"})),
     "lead opted out of sms"),
    ("opted-out-of-another", step("sms"), Engagement(score=90, opted_out=frozenset({"email"})),
     None),
    ("score-below", step("sms", at_least(50)), Engagement(score=49), "score 49 is below 50"),
    ("score-at", step("sms", at_least(50)), Engagement(score=50), None),
    ("email-opened", step("sms", NOT_OPENED), Engagement(score=0, previous_email_opened=True),
     "the previous email was opened"),
    ("email-not-opened", step("sms", NOT_OPENED),
     Engagement(score=0, previous_email_opened=False), None),
    ("no-earlier-email", step("sms", NOT_OPENED), Engagement(score=0), None),
    ("in-app-read", step("email", NOT_READ), Engagement(score=0, in_app_read=True),
     "the in-app message was read"),
    ("in-app-unread", step("email", NOT_READ), Engagement(score=0, in_app_read=False), None),
    ("no-earlier-in-app", step("email", NOT_READ), Engagement(score=0), None),
    ("opt-out-first", step("sms", at_least(50)),
     Engagement(score=0, opted_out=frozenset({"sms"})), "lead opted out of sms"),
    ("first-failing-in-order", step("sms", NOT_OPENED, at_least(50)),
     Engagement(score=10, previous_email_opened=True), "the previous email was opened"),
    ("later-condition", step("sms", NOT_OPENED, at_least(50)),
     Engagement(score=10, previous_email_opened=False), "score 10 is below 50"),
]


@pytest.mark.parametrize(("the_step", "facts", "reason"), [s[1:] for s in SKIPS],
                         ids=[s[0] for s in SKIPS])
def test_skip_reason(the_step: dict[str, Any], facts: Engagement, reason: str | None) -> None:
    # When / Then
    assert skip_reason(the_step, facts) == reason


def test_a_preference_key_may_contain_a_dot() -> None:
    # Given a lead whose preferences have both "a" and "a.b"
    dotted = lead(preferences={"a": 1, "a.b": 2, "b": 3})
    # When / Then: "preferences.a.b" is the preference "a.b"
    assert unmet_lead_condition([condition("preferences.a.b", "eq", 2)], dotted, T0) is None
    unmet = condition("preferences.a.b", "eq", 1)
    assert unmet_lead_condition([unmet], dotted, T0) == unmet
