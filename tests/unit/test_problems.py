"""Problems of a draft: every reason it cannot run, each naming its field; publishing refuses the
first of the same list (``check_runnable``)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.definition import check_definition
from domain.errors import InvalidState, InvalidValue
from domain.problems import problems
from domain.workflow import check_runnable
from tests.unit.test_workflow import EMAIL_T, SMS_T, TEMPLATES, raw

IN_APP_T = "00000000-0000-4000-8000-0000000000c3"


def listed(definition: dict[str, Any],
           channels: dict[str, str | None] = TEMPLATES) -> list[tuple[str, str]]:
    return [(p.field, p.reason) for p in problems(definition, channels)]


def test_a_runnable_draft_has_no_problem() -> None:
    # Given a draft with a template of its channel on every step
    definition = check_definition(raw())
    # When / Then
    assert listed(definition) == []
    check_runnable(definition, TEMPLATES)  # publishing accepts it


def test_a_draft_without_steps_needs_one() -> None:
    assert listed(check_definition(raw(steps=[]))) == [
        ("steps", "a workflow needs at least one step")]


def test_every_step_that_is_wrong_is_named_in_order() -> None:
    # Given four steps: no template, a template of another channel, a fine one, an unknown one
    definition = check_definition(raw(steps=[
        {"channel": "email", "delay_minutes": 0},
        {"channel": "sms", "template_id": EMAIL_T, "delay_minutes": 60},
        {"channel": "sms", "template_id": SMS_T, "delay_minutes": 60},
        {"channel": "in_app", "template_id": IN_APP_T, "delay_minutes": 60},
    ]))
    # When / Then
    assert listed(definition) == [
        ("steps[0].templateId", "a step needs a template"),
        ("steps[1].templateId", "template is for email, step is sms"),
        ("steps[3].templateId", "no such template"),
    ]


def test_publishing_refuses_the_first_problem() -> None:
    # Given a draft whose second step has no template yet
    definition = check_definition(raw(steps=[
        {"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0},
        {"channel": "sms", "delay_minutes": 60}]))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        check_runnable(definition, TEMPLATES)
    assert (refused.value.field, refused.value.reason) == ("steps[1].templateId",
                                                          "a step needs a template")


def test_a_template_not_usable_by_the_workflow_counts_as_none() -> None:
    # (the application gives None for another agent's template)
    assert listed(check_definition(raw()), {EMAIL_T: "email", SMS_T: None}) == [
        ("steps[1].templateId", "no such template")]


def test_a_draft_stored_under_older_rules_has_todays_problem() -> None:
    # Given a stored draft with an SMS window the rules no longer allow
    definition = check_definition(raw())
    definition["send_windows"] = {"sms": {"start": "07:00", "end": "22:00",
                                          "weekdays": ["mon"]}}
    # When
    found = problems(definition, TEMPLATES)
    # Then that is the problem, and publishing refuses it the same way
    assert [(p.field, type(p)) for p in found] == [("sendWindows.sms", InvalidValue)]
    with pytest.raises(InvalidValue):
        check_runnable(definition, TEMPLATES)
