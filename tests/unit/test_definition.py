"""check_definition (trigger, steps, send windows), window_for and execution_steps."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.definition import check_definition, execution_steps, window_for
from domain.errors import InvalidValue
from domain.timing import MAX_DELAY_MINUTES

EMAIL_T = "00000000-0000-4000-8000-0000000000c1"
SMS_T = "00000000-0000-4000-8000-0000000000c2"

TRIGGER = {
    "score_threshold": 70, "trigger_type": "immediate", "delay_minutes": 0, "conditions": [],
    "reentry": {"mode": "after_end", "days": None}, "hysteresis": 0, "priority": 0,
    "exclusive_group": None, "on_registration": "start",
}
EMAIL_STEP = {"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0, "conditions": []}
SMS_STEP = {"channel": "sms", "template_id": SMS_T, "delay_minutes": 1440, "conditions": []}
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEK = ["mon", "tue", "wed", "thu", "fri"]


def raw(**changes: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "trigger": {"score_threshold": 70},
        "steps": [{"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0},
                  {"channel": "sms", "template_id": SMS_T, "delay_minutes": 1440}],
    }
    definition.update(changes)
    return definition


def with_trigger(**changes: Any) -> dict[str, Any]:
    return raw(trigger={"score_threshold": 70, **changes})


def with_step(index: int, **changes: Any) -> dict[str, Any]:
    definition = raw()
    definition["steps"][index].update(changes)
    return definition


def refused_field(definition: dict[str, Any]) -> str:
    with pytest.raises(InvalidValue) as refused:
        check_definition(definition)
    return refused.value.field


# Normalisation --------------------------------------------------------------


def test_a_minimal_definition_gets_every_default() -> None:
    # When
    checked = check_definition(raw())
    # Then
    assert checked == {"trigger": TRIGGER, "steps": [EMAIL_STEP, SMS_STEP], "send_windows": {},
                       "business_days_only": False}


def test_an_empty_definition_is_refused_for_its_threshold() -> None:
    # When / Then
    assert refused_field({}) == "trigger.scoreThreshold"


def test_a_full_trigger_is_kept() -> None:
    # Given every trigger field
    trigger = {
        "score_threshold": 60, "trigger_type": "delayed", "delay_minutes": 90,
        "conditions": [{"field": "source", "op": "in", "value": ["zillow", "referral"]},
                       {"field": "preferences.area", "op": "eq", "value": "Downtown"}],
        "reentry": {"mode": "after_days", "days": 30}, "hysteresis": 10, "priority": -3,
        "exclusive_group": "  nurture ", "on_registration": "ignore",
    }
    # When
    checked = check_definition(raw(trigger=trigger))["trigger"]
    # Then
    assert checked == dict(trigger, exclusive_group="nurture")


def test_an_immediate_trigger_drops_a_delay() -> None:
    # When / Then
    assert check_definition(with_trigger(delay_minutes=30))["trigger"]["delay_minutes"] == 0


@pytest.mark.parametrize("mode", ["never", "after_end"])
def test_reentry_days_count_only_for_after_days(mode: str) -> None:
    # When
    checked = check_definition(with_trigger(reentry={"mode": mode, "days": 30}))
    # Then
    assert checked["trigger"]["reentry"] == {"mode": mode, "days": None}


def test_a_condition_keeps_only_field_op_and_value() -> None:
    # Given
    condition = {"field": "score", "op": "gte", "value": 40, "note": "dropped"}
    # When
    checked = check_definition(with_trigger(conditions=[condition]))
    # Then
    assert checked["trigger"]["conditions"] == [{"field": "score", "op": "gte", "value": 40}]


def test_a_step_keeps_only_what_it_needs() -> None:
    # Given extra keys, and a kind of condition that takes no value given one
    definition = with_step(1, note="dropped", conditions=[
        {"kind": "previous_email_not_opened", "value": 3},
        {"kind": "score_at_least", "value": 50, "note": "dropped"},
    ])
    # When
    checked = check_definition(definition)
    # Then
    assert checked["steps"][1] == dict(SMS_STEP, conditions=[
        {"kind": "previous_email_not_opened"}, {"kind": "score_at_least", "value": 50}])


def test_the_first_step_may_have_a_score_condition() -> None:
    # When
    checked = check_definition(with_step(0, conditions=[{"kind": "score_at_least", "value": 0}]))
    # Then
    assert checked["steps"][0]["conditions"] == [{"kind": "score_at_least", "value": 0}]


def test_a_send_window_is_normalised() -> None:
    # Given weekdays out of order, and a window with no weekdays (every day)
    windows = {"email": {"start": "09:30", "end": "17:00", "weekdays": ["fri", "mon", "wed"]},
               "sms": {"start": "08:00", "end": "20:00"}}
    # When
    checked = check_definition(raw(send_windows=windows))
    # Then
    assert checked["send_windows"] == {
        "email": {"start": "09:30", "end": "17:00", "weekdays": ["mon", "wed", "fri"]},
        "sms": {"start": "08:00", "end": "20:00", "weekdays": ALL_DAYS},
    }


@pytest.mark.parametrize(("given_value", "kept"), [(True, True), (1, True), (None, False)])
def test_business_days_only_is_a_boolean(given_value: Any, kept: bool) -> None:
    # When / Then
    assert check_definition(raw(business_days_only=given_value))["business_days_only"] is kept


@pytest.mark.parametrize("threshold", [1, 100])
def test_the_threshold_bounds_are_accepted(threshold: int) -> None:
    # When / Then
    assert check_definition(with_trigger(score_threshold=threshold))["trigger"][
        "score_threshold"] == threshold


def test_the_delay_bounds_are_accepted() -> None:
    # Given
    definition = raw(steps=[dict(EMAIL_STEP, delay_minutes=0),
                            dict(SMS_STEP, delay_minutes=MAX_DELAY_MINUTES)])
    # When / Then
    assert [s["delay_minutes"] for s in check_definition(definition)["steps"]] == [
        0, MAX_DELAY_MINUTES]


def test_check_definition_does_not_change_its_argument() -> None:
    # Given
    definition = raw(trigger={"score_threshold": 70, "reentry": {"mode": "never", "days": 3},
                              "exclusive_group": " g "})
    before = deepcopy(definition)
    # When
    check_definition(definition)
    # Then
    assert definition == before


# Refusals, each naming its field -------------------------------------------------

TRIGGER_REFUSALS = [
    ({"score_threshold": 0}, "trigger.scoreThreshold"),
    ({"score_threshold": 101}, "trigger.scoreThreshold"),
    ({"score_threshold": True}, "trigger.scoreThreshold"),
    ({"score_threshold": 50.0}, "trigger.scoreThreshold"),
    ({"score_threshold": "50"}, "trigger.scoreThreshold"),
    ({"score_threshold": None}, "trigger.scoreThreshold"),
    ({"trigger_type": "later"}, "trigger.triggerType"),
    ({"trigger_type": None}, "trigger.triggerType"),
    ({"trigger_type": "delayed"}, "trigger.delayMinutes"),
    ({"trigger_type": "delayed", "delay_minutes": 0}, "trigger.delayMinutes"),
    ({"trigger_type": "delayed", "delay_minutes": MAX_DELAY_MINUTES + 1}, "trigger.delayMinutes"),
    ({"trigger_type": "delayed", "delay_minutes": "60"}, "trigger.delayMinutes"),
    ({"reentry": {"mode": "sometimes"}}, "trigger.reentry.mode"),
    ({"reentry": {"days": 3}}, "trigger.reentry.mode"),
    ({"reentry": {"mode": "after_days"}}, "trigger.reentry.days"),
    ({"reentry": {"mode": "after_days", "days": 0}}, "trigger.reentry.days"),
    ({"reentry": {"mode": "after_days", "days": 3651}}, "trigger.reentry.days"),
    ({"hysteresis": -1}, "trigger.hysteresis"),
    ({"hysteresis": 70}, "trigger.hysteresis"),
    ({"hysteresis": True}, "trigger.hysteresis"),
    ({"priority": 1001}, "trigger.priority"),
    ({"priority": -1001}, "trigger.priority"),
    ({"priority": "1"}, "trigger.priority"),
    ({"exclusive_group": ""}, "trigger.exclusiveGroup"),
    ({"exclusive_group": "   "}, "trigger.exclusiveGroup"),
    ({"exclusive_group": 7}, "trigger.exclusiveGroup"),
    ({"conditions": [{"field": "age", "op": "eq", "value": 3}]}, "trigger.conditions[0].field"),
    ({"conditions": [{"op": "eq", "value": 3}]}, "trigger.conditions[0].field"),
    ({"conditions": [{"field": 7, "op": "eq", "value": 3}]}, "trigger.conditions[0].field"),
    ({"conditions": [{"field": "source", "op": "gte", "value": 3}]}, "trigger.conditions[0].op"),
    ({"conditions": [{"field": "score", "op": "eq", "value": 3}]}, "trigger.conditions[0].op"),
    ({"conditions": [{"field": "move_within_days", "op": "gte", "value": 3}]},
     "trigger.conditions[0].op"),
    ({"conditions": [{"field": "preferences.area", "op": "like", "value": "x"}]},
     "trigger.conditions[0].op"),
    ({"conditions": [{"field": "source", "op": "in", "value": []}]},
     "trigger.conditions[0].value"),
    ({"conditions": [{"field": "source", "op": "in", "value": "zillow"}]},
     "trigger.conditions[0].value"),
    ({"conditions": [{"field": "score", "op": "gte", "value": "40"}]},
     "trigger.conditions[0].value"),
    ({"conditions": [{"field": "score", "op": "lte", "value": True}]},
     "trigger.conditions[0].value"),
    ({"conditions": [{"field": "source", "op": "eq"}]}, "trigger.conditions[0].value"),
    ({"conditions": [{"field": "source", "op": "eq", "value": "a"},
                     {"field": "source", "op": "ne"}]}, "trigger.conditions[1].value"),
]


@pytest.mark.parametrize(("trigger", "field"), TRIGGER_REFUSALS)
def test_a_bad_trigger_is_refused_naming_the_field(trigger: dict[str, Any], field: str) -> None:
    # When / Then
    assert refused_field(with_trigger(**trigger)) == field


@pytest.mark.parametrize(("bad", "field"), [
    ({"channel": "fax"}, "steps[1].channel"),
    ({"channel": None}, "steps[1].channel"),
    ({"delay_minutes": -1}, "steps[1].delayMinutes"),
    ({"delay_minutes": MAX_DELAY_MINUTES + 1}, "steps[1].delayMinutes"),
    ({"delay_minutes": True}, "steps[1].delayMinutes"),
    ({"delay_minutes": 1.5}, "steps[1].delayMinutes"),
    ({"delay_minutes": "10"}, "steps[1].delayMinutes"),
    ({"delay_minutes": None}, "steps[1].delayMinutes"),
    ({"template_id": "not-a-uuid"}, "steps[1].templateId"),
    ({"template_id": ""}, "steps[1].templateId"),
    ({"template_id": 7}, "steps[1].templateId"),
    ({"conditions": [{"kind": "unknown"}]}, "steps[1].conditions[0].kind"),
    ({"conditions": [{"value": 3}]}, "steps[1].conditions[0].kind"),
    ({"conditions": [{"kind": "in_app_not_read"}, {"kind": "score_at_least"}]},
     "steps[1].conditions[1].value"),
    ({"conditions": [{"kind": "score_at_least", "value": 101}]}, "steps[1].conditions[0].value"),
    ({"conditions": [{"kind": "score_at_least", "value": -1}]}, "steps[1].conditions[0].value"),
    ({"conditions": [{"kind": "score_at_least", "value": "50"}]},
     "steps[1].conditions[0].value"),
])
def test_a_bad_step_is_refused_naming_it(bad: dict[str, Any], field: str) -> None:
    # When / Then: the second step is the bad one
    assert refused_field(with_step(1, **bad)) == field


@pytest.mark.parametrize("missing", [{"template_id": None}, {}], ids=["none", "absent"])
def test_a_draft_step_may_have_no_template_yet(missing: dict[str, Any]) -> None:
    # Given a second step whose template the agent has not picked yet
    definition = raw()
    definition["steps"][1].pop("template_id")
    definition["steps"][1].update(missing)
    # When
    checked = check_definition(definition)
    # Then it is kept without one (publishing refuses it: test_problems.py)
    assert checked["steps"][1]["template_id"] is None
    assert checked["steps"][0]["template_id"] == definition["steps"][0]["template_id"]


@pytest.mark.parametrize("kind", ["previous_email_not_opened", "in_app_not_read"])
def test_the_first_step_has_no_earlier_message_to_look_at(kind: str) -> None:
    # When
    with pytest.raises(InvalidValue) as refused:
        check_definition(with_step(0, conditions=[{"kind": kind}]))
    # Then
    assert refused.value.field == "steps[0].conditions[0].kind"
    assert refused.value.reason == "the first step has no earlier message to look at"


@pytest.mark.parametrize("steps", [{"channel": "email"}, "steps", [EMAIL_STEP] * 51],
                         ids=["a-dict", "a-string", "51-steps"])
def test_steps_must_be_a_list_of_at_most_50(steps: Any) -> None:
    # When / Then
    assert refused_field(raw(steps=steps)) == "steps"


def test_50_steps_are_accepted() -> None:
    # When / Then
    assert len(check_definition(raw(steps=[EMAIL_STEP] * 50))["steps"]) == 50


@pytest.mark.parametrize(("windows", "field"), [
    ({"fax": {"start": "08:00", "end": "20:00"}}, "sendWindows.fax"),
    ({"sms": {"start": "20:00", "end": "08:00"}}, "sendWindows.sms"),
    ({"sms": {"start": "08:00", "end": "08:00"}}, "sendWindows.sms"),
    ({"email": {"start": "25:00", "end": "26:00"}}, "sendWindows.email"),
    ({"email": {"start": "8am", "end": "5pm"}}, "sendWindows.email"),
    ({"email": {"end": "17:00"}}, "sendWindows.email"),
    ({"in_app": {"start": "08:00", "end": "17:00", "weekdays": ["funday"]}},
     "sendWindows.in_app"),
    ({"in_app": {"start": "08:00", "end": "17:00", "weekdays": ["Mon"]}}, "sendWindows.in_app"),
])
def test_a_bad_send_window_is_refused_naming_its_channel(windows: dict[str, Any],
                                                         field: str) -> None:
    # When / Then
    assert refused_field(raw(send_windows=windows)) == field


# window_for / execution_steps ------------------------------------------------------


def definition_with(**changes: Any) -> dict[str, Any]:
    return check_definition(raw(**changes))


def test_sms_gets_the_default_window_and_email_none() -> None:
    # Given a definition without windows
    definition = definition_with()
    # When / Then
    assert window_for(definition, "sms").as_dict() == {
        "start": "08:00", "end": "21:00", "weekdays": ALL_DAYS}
    assert window_for(definition, "email") is None
    assert window_for(definition, "in_app") is None


def test_a_workflows_own_window_replaces_the_default() -> None:
    # Given
    definition = definition_with(send_windows={
        "sms": {"start": "10:00", "end": "18:00", "weekdays": ["sat"]},
        "email": {"start": "07:00", "end": "09:00"}})
    # When / Then
    assert window_for(definition, "sms").as_dict() == {
        "start": "10:00", "end": "18:00", "weekdays": ["sat"]}
    assert window_for(definition, "email").as_dict() == {
        "start": "07:00", "end": "09:00", "weekdays": ALL_DAYS}


def test_business_days_only_keeps_a_window_to_weekdays() -> None:
    # Given
    definition = definition_with(business_days_only=True, send_windows={
        "email": {"start": "07:00", "end": "09:00", "weekdays": ["mon", "sat"]}})
    # When / Then
    assert window_for(definition, "sms").as_dict() == {
        "start": "08:00", "end": "21:00", "weekdays": WEEK}
    assert window_for(definition, "email").as_dict() == {
        "start": "07:00", "end": "09:00", "weekdays": ["mon"]}


def test_a_stored_business_days_definition_with_a_weekend_window_uses_the_business_days(
        ) -> None:
    # Given a definition saved before such a contradiction was refused: Saturdays only
    definition = {"steps": [], "business_days_only": True, "send_windows": {
        "email": {"start": "07:00", "end": "09:00", "weekdays": ["sat"]}}}
    # When / Then
    assert window_for(definition, "email").as_dict() == {
        "start": "07:00", "end": "09:00", "weekdays": WEEK}


def test_business_days_only_without_a_window_allows_the_whole_business_day() -> None:
    # Given
    definition = definition_with(business_days_only=True)
    # When
    window = window_for(definition, "email")
    # Then
    assert window is not None
    assert window.as_dict()["start"] == "00:00"
    assert window.as_dict()["weekdays"] == WEEK


def test_execution_steps_give_each_step_its_window() -> None:
    # Given an email step and an sms step, with a window for email
    definition = definition_with(send_windows={"email": {"start": "09:00", "end": "17:00"}})
    # When
    steps = execution_steps(definition)
    # Then
    assert steps == [
        dict(EMAIL_STEP, window={"start": "09:00", "end": "17:00", "weekdays": ALL_DAYS}),
        dict(SMS_STEP, window={"start": "08:00", "end": "21:00", "weekdays": ALL_DAYS}),
    ]
    assert definition["steps"] == [EMAIL_STEP, SMS_STEP]


def test_execution_steps_without_a_window_say_none() -> None:
    # When / Then
    assert execution_steps(definition_with())[0] == dict(EMAIL_STEP, window=None)


# Checking is idempotent ------------------------------------------------------

CONDITIONS = st.sampled_from([
    {"field": "source", "op": "eq", "value": "zillow"},
    {"field": "source", "op": "in", "value": ["zillow", "referral"]},
    {"field": "move_within_days", "op": "lte", "value": 30},
    {"field": "score", "op": "gte", "value": 10},
    {"field": "preferences.bedrooms", "op": "gte", "value": 2},
])
TRIGGERS = st.integers(1, 100).flatmap(lambda threshold: st.fixed_dictionaries({
    "score_threshold": st.just(threshold),
    "hysteresis": st.integers(0, threshold - 1),
    "priority": st.integers(-1000, 1000),
    "conditions": st.lists(CONDITIONS, max_size=3),
    "reentry": st.sampled_from([{"mode": "never"}, {"mode": "after_end"},
                                {"mode": "after_days", "days": 7}]),
}, optional={"trigger_type": st.just("delayed"), "delay_minutes": st.integers(1, 600),
             "exclusive_group": st.sampled_from(["a", " b "])}).filter(
    lambda t: t.get("trigger_type") != "delayed" or "delay_minutes" in t))
STEP_DRAFTS = st.fixed_dictionaries({
    "channel": st.sampled_from(["email", "sms", "in_app"]),
    "template_id": st.just(EMAIL_T),
    "delay_minutes": st.integers(0, MAX_DELAY_MINUTES),
    "conditions": st.lists(st.sampled_from([{"kind": "score_at_least", "value": 30}]),
                           max_size=1),
})


def a_window(earliest: int, latest: int) -> st.SearchStrategy[dict[str, Any]]:
    """Windows from ``earliest`` to ``latest`` minutes into the day, on some business day."""
    return st.builds(
        lambda start, length, days: {
            "start": f"{start // 60:02d}:{start % 60:02d}",
            "end": f"{(start + length) // 60:02d}:{(start + length) % 60:02d}",
            "weekdays": days},
        st.integers(earliest, latest - 60), st.integers(1, 60),
        st.lists(st.sampled_from(ALL_DAYS), min_size=1, max_size=7).filter(
            lambda days: set(days) & set(WEEK)))


WINDOWS = st.fixed_dictionaries({}, optional={
    "email": a_window(0, 23 * 60), "in_app": a_window(0, 23 * 60),
    "sms": a_window(8 * 60, 21 * 60)})


@settings(max_examples=100, deadline=None)
@given(trigger=TRIGGERS, steps=st.lists(STEP_DRAFTS, max_size=4), windows=WINDOWS,
       business=st.booleans())
def test_checking_a_checked_definition_changes_nothing(trigger: dict[str, Any],
                                                       steps: list[dict[str, Any]],
                                                       windows: dict[str, Any],
                                                       business: bool) -> None:
    checked = check_definition({"trigger": trigger, "steps": steps, "send_windows": windows,
                                "business_days_only": business})
    assert check_definition(deepcopy(checked)) == checked


@pytest.mark.parametrize("choice", ["start", "ignore"])
def test_the_trigger_keeps_the_builders_choice_for_leads_registered_above_it(choice: str) -> None:
    checked = check_definition(raw(trigger={"score_threshold": 70, "on_registration": choice}))
    assert checked["trigger"]["on_registration"] == choice


def test_an_unknown_registration_choice_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValue) as refused:
        check_definition(raw(trigger={"score_threshold": 70, "on_registration": "maybe"}))
    assert refused.value.field == "trigger.onRegistration"


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8, unique=True))
def test_steps_follow_their_sequence_numbers_whatever_order_they_come_in(
        numbers: list[int]) -> None:
    # Given steps numbered in any order, each with its own id
    steps = [{"id": f"s{n}", "sequence": n, "channel": "email", "template_id": EMAIL_T,
              "delay_minutes": 0} for n in numbers]
    # When
    checked = check_definition(raw(steps=steps))["steps"]
    # Then they are in sequence order, keep their ids, and carry no sequence of their own
    assert [s["id"] for s in checked] == [f"s{n}" for n in sorted(numbers)]
    assert all("sequence" not in s for s in checked)


# Contradictions and SMS hours, refused naming the field ----------------------------------


@pytest.mark.parametrize("window", [
    {"start": "00:00", "end": "24:00"}, {"start": "07:59", "end": "12:00"},
    {"start": "12:00", "end": "21:01"}, {"start": "22:00", "end": "23:00"},
    {"start": "00:00", "end": "08:00"},
], ids=["all-day", "from-07:59", "to-21:01", "at-night", "before-08:00"])
def test_an_sms_window_outside_08_21_is_refused(window: dict[str, str]) -> None:
    # When
    with pytest.raises(InvalidValue) as refused:
        check_definition(raw(send_windows={"sms": window}))
    # Then
    assert refused.value.field == "sendWindows.sms"
    assert refused.value.reason == ("must lie inside 08:00-21:00 (SMS is never sent "
                                    "21:00-08:00 in the lead's time zone)")


def test_an_sms_window_of_the_whole_sms_hours_is_accepted() -> None:
    # When
    checked = check_definition(raw(send_windows={"sms": {"start": "08:00", "end": "21:00"}}))
    # Then
    assert checked["send_windows"]["sms"] == {"start": "08:00", "end": "21:00",
                                              "weekdays": ALL_DAYS}


@pytest.mark.parametrize("channel", ["email", "in_app"])
def test_other_channels_may_have_an_all_day_window(channel: str) -> None:
    # When
    checked = check_definition(raw(send_windows={channel: {"start": "00:00", "end": "24:00"}}))
    # Then: 24:00 round-trips
    assert checked["send_windows"][channel]["end"] == "24:00"
    assert check_definition(deepcopy(checked)) == checked


def test_a_stored_sms_window_outside_the_hours_is_kept_to_them() -> None:
    # Given a definition saved before such windows were refused
    definition = {"steps": [], "business_days_only": False, "send_windows": {
        "sms": {"start": "00:00", "end": "24:00", "weekdays": ["sat"]}}}
    # When / Then
    assert window_for(definition, "sms").as_dict() == {
        "start": "08:00", "end": "21:00", "weekdays": ["sat"]}


@pytest.mark.parametrize("days", [["sat"], ["sun"], ["sat", "sun"]])
def test_business_days_only_with_a_weekend_window_is_refused(days: list[str]) -> None:
    # When
    with pytest.raises(InvalidValue) as refused:
        check_definition(raw(business_days_only=True, send_windows={
            "email": {"start": "09:00", "end": "17:00", "weekdays": days}}))
    # Then
    assert refused.value.field == "sendWindows.email.weekdays"
    assert "businessDaysOnly" in refused.value.reason


@pytest.mark.parametrize(("business", "days"), [(False, ["sat", "sun"]), (True, ["fri", "sat"])])
def test_a_weekend_window_is_fine_without_business_days_or_with_a_weekday(
        business: bool, days: list[str]) -> None:
    # When / Then
    checked = check_definition(raw(business_days_only=business, send_windows={
        "email": {"start": "09:00", "end": "17:00", "weekdays": days}}))
    assert checked["send_windows"]["email"]["weekdays"] == days


def steps_of(*channels_and_conditions: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return raw(steps=[{"channel": channel, "template_id": EMAIL_T, "delay_minutes": 0,
                       "conditions": conditions}
                      for channel, conditions in channels_and_conditions])


NOT_OPENED = {"kind": "previous_email_not_opened"}
NOT_READ = {"kind": "in_app_not_read"}
AT_LEAST = {"kind": "score_at_least", "value": 10}


@pytest.mark.parametrize(("definition", "field", "channel"), [
    (steps_of(("sms", []), ("in_app", []), ("sms", [NOT_OPENED])),
     "steps[2].conditions[0].kind", "email"),
    (steps_of(("email", []), ("sms", [AT_LEAST, NOT_READ])),
     "steps[1].conditions[1].kind", "in_app"),
    (steps_of(("sms", []), ("email", [NOT_OPENED])), "steps[1].conditions[0].kind", "email"),
    (steps_of(("in_app", [AT_LEAST]), ("in_app", [NOT_OPENED])),
     "steps[1].conditions[0].kind", "email"),
], ids=["no-email-at-all", "no-in-app-at-all", "email-only-itself", "in-app-not-email"])
def test_a_condition_on_an_earlier_message_needs_an_earlier_step_of_its_channel(
        definition: dict[str, Any], field: str, channel: str) -> None:
    # When
    with pytest.raises(InvalidValue) as refused:
        check_definition(definition)
    # Then
    assert refused.value.field == field
    assert refused.value.reason == (f"no earlier step is {channel}: there is no earlier "
                                    f"{channel} message to look at")


def test_conditions_on_earlier_messages_of_earlier_steps_are_accepted() -> None:
    # Given an email, then an in-app message, then a text that looks at both
    definition = steps_of(("email", []), ("in_app", []), ("sms", [NOT_OPENED, NOT_READ]))
    # When / Then
    assert check_definition(definition)["steps"][2]["conditions"] == [NOT_OPENED, NOT_READ]
