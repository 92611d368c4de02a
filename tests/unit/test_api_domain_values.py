"""The API's choices and limits are the domain's: the schemas (and so the OpenAPI) list exactly
the values and bounds the domain defines."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from api import schemas
from application.workflows import MIGRATIONS
from domain import definition
from domain.channels import Channel
from domain.execution import RESUME_POLICIES, ExecutionStatus, StepStatus
from domain.lead import LeadStatus
from domain.scoring import MAX_SCORE, MIN_SCORE
from domain.template import MAX_BODY, MAX_SUBJECT
from domain.timing import MAX_DELAY_MINUTES, WEEKDAYS
from domain.workflow import STATES


def prop(model: type[BaseModel], name: str) -> dict[str, Any]:
    """A property's JSON schema, the nullable branch unwrapped and list items taken."""
    found: dict[str, Any] = model.model_json_schema(by_alias=True)["properties"][name]
    found = next((b for b in found.get("anyOf", []) if b.get("type") != "null"), found)
    return found.get("items", found) if found.get("type") == "array" else found


@pytest.mark.parametrize(("model", "name", "values"), [
    (schemas.TemplateCreate, "channel", [c.value for c in Channel]),
    (schemas.ExecutionPublic, "status", [s.value for s in ExecutionStatus]),
    (schemas.StepPublic, "status", [s.value for s in StepStatus]),
    (schemas.StatusChange, "status", [s.value for s in LeadStatus]),
    (schemas.LeadPublic, "status", [s.value for s in LeadStatus]),
    (schemas.StatusChange, "policy", list(RESUME_POLICIES)),
    (schemas.ResumeIn, "policy", list(RESUME_POLICIES)),
    (schemas.WindowIn, "weekdays", list(WEEKDAYS)),
    (schemas.ConditionIn, "op", list(definition.PREFERENCE_OPERATORS)),
    (schemas.ReentryIn, "mode", list(definition.REENTRY_MODES)),
    (schemas.TriggerIn, "triggerType", list(definition.TRIGGER_TYPES)),
    (schemas.TriggerIn, "onRegistration", list(definition.ON_REGISTRATION)),
    (schemas.StepConditionIn, "kind", list(definition.STEP_CONDITIONS)),
    (schemas.Delay, "unit", list(definition.UNITS)),
    (schemas.PublishIn, "migrate", list(MIGRATIONS)),
    (schemas.RollbackIn, "migrate", list(MIGRATIONS)),
    (schemas.WorkflowPublic, "status", list(STATES)),
])
def test_each_choice_lists_the_domains_values(model: type[BaseModel], name: str,
                                               values: list[str]) -> None:
    assert prop(model, name)["enum"] == values


@pytest.mark.parametrize(("model", "name", "low", "high"), [
    (schemas.LeadCreate, "score", MIN_SCORE, MAX_SCORE),
    (schemas.ScoreChange, "score", MIN_SCORE, MAX_SCORE),
    (schemas.TriggerIn, "scoreThreshold", MIN_SCORE + 1, MAX_SCORE),
    (schemas.TriggerIn, "delayMinutes", 0, MAX_DELAY_MINUTES),
    (schemas.TriggerIn, "priority", -definition.MAX_PRIORITY, definition.MAX_PRIORITY),
    (schemas.StepIn, "delayMinutes", 0, MAX_DELAY_MINUTES),
    (schemas.Delay, "amount", 0, MAX_DELAY_MINUTES),
    (schemas.StepConditionIn, "value", MIN_SCORE, MAX_SCORE),
    (schemas.ReentryIn, "days", 1, definition.MAX_REENTRY_DAYS),
])
def test_each_number_has_the_domains_bounds(model: type[BaseModel], name: str, low: int,
                                            high: int) -> None:
    found = prop(model, name)
    assert (found["minimum"], found["maximum"]) == (low, high)


def test_a_templates_text_has_the_domains_limits() -> None:
    assert prop(schemas.TemplateCreate, "body")["maxLength"] == MAX_BODY
    assert prop(schemas.TemplateCreate, "subject")["maxLength"] == MAX_SUBJECT


def test_a_delay_in_units_is_refused_past_the_domains_longest() -> None:
    # Given a step whose delay is one day past the longest the domain allows
    days = MAX_DELAY_MINUTES // definition.UNITS["days"]
    step = {"channel": "email", "templateId": "6f1c2b1e-5a4d-4a39-9c1e-1b7f0f6b9a10",
            "delay": {"amount": days + 1, "unit": "days"}}
    # Then it is refused, and the longest allowed is taken as minutes
    with pytest.raises(ValueError, match=f"at most {days} days"):
        schemas.StepIn.model_validate(step)
    step["delay"] = {"amount": days, "unit": "days"}
    assert schemas.StepIn.model_validate(step).delay_minutes == MAX_DELAY_MINUTES
