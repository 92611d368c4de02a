"""Workflow: create, publish; PublishedWorkflows: list_version, live_at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.errors import InvalidState, InvalidValue
from domain.ids import CATALOG_ID
from domain.timing import MAX_DELAY_MINUTES
from domain.workflow import PublishedWorkflows, Workflow
from tests.unit.conftest import T0, given, state, then

EMAIL_T = "00000000-0000-4000-8000-0000000000c1"
SMS_T = "00000000-0000-4000-8000-0000000000c2"
TEMPLATES: dict[str, str | None] = {EMAIL_T: "email", SMS_T: "sms"}

STEPS = [
    {"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0},
    {"channel": "sms", "template_id": SMS_T, "delay_minutes": 1440},
]


def create(**overrides: Any) -> Workflow:
    fields: dict[str, Any] = dict(agent_id="agent-1", name="Hot leads", score_threshold=70,
                                  steps=STEPS)
    fields.update(overrides)
    return Workflow.create(**fields)


def created(*commands: Any, **overrides: Any) -> list[Any]:
    workflow = create(**overrides)
    for command in commands:
        command(workflow)
    return list(workflow.collect_events())


def published(at: Any = T0) -> Any:
    return lambda w: w.publish(template_channels=TEMPLATES, now=at)


# create ----------------------------------------------------------------------


def test_create_records_the_draft() -> None:
    # Given no workflow
    # When
    workflow = create(name="  Hot leads ",
                      steps=[dict(STEPS[0], note="extra keys are dropped"), STEPS[1]])
    # Then
    assert then(workflow) == [("Workflow.Created", {
        "agent_id": "agent-1", "name": "Hot leads", "score_threshold": 70, "steps": STEPS,
    })]
    assert workflow.versions == []
    assert workflow.published_version is None


def test_create_accepts_a_draft_without_steps() -> None:
    # When
    workflow = create(steps=[])
    # Then
    assert then(workflow)[0][1]["steps"] == []


@pytest.mark.parametrize("threshold", [1, 100])
def test_create_accepts_the_threshold_bounds(threshold: int) -> None:
    # When / Then
    assert create(score_threshold=threshold).score_threshold == threshold


@pytest.mark.parametrize("threshold", [0, -5, 101, True, 50.0, "50", None])
def test_create_refuses_a_threshold_outside_1_to_100(threshold: Any) -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        create(score_threshold=threshold)
    assert refused.value.field == "trigger.scoreThreshold"


def test_create_refuses_a_blank_name() -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        create(name=" ")
    assert refused.value.field == "name"


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
    ({"template_id": None}, "steps[1].templateId"),
])
def test_create_refuses_a_bad_step_naming_it(bad: dict[str, Any], field: str) -> None:
    # When / Then: the second step is the bad one
    with pytest.raises(InvalidValue) as refused:
        create(steps=[STEPS[0], dict(STEPS[1], **bad)])
    assert refused.value.field == field


def test_create_accepts_the_delay_bounds() -> None:
    steps = [dict(STEPS[0], delay_minutes=0), dict(STEPS[1], delay_minutes=MAX_DELAY_MINUTES)]
    # When / Then
    assert [s["delay_minutes"] for s in create(steps=steps).steps] == [0, MAX_DELAY_MINUTES]


# publish ---------------------------------------------------------------------


def test_publish_freezes_version_1() -> None:
    # Given a draft
    workflow = given(*created())
    # When
    number = workflow.publish(template_channels=TEMPLATES, now=T0)
    # Then
    assert number == 1
    assert then(workflow) == [("Workflow.Published", {
        "number": 1, "score_threshold": 70, "steps": STEPS, "published_at": T0,
    })]
    assert workflow.published_version == {
        "number": 1, "score_threshold": 70, "steps": STEPS, "published_at": T0}
    assert workflow.frozen(1) == workflow.published_version


def test_publish_again_numbers_the_next_version() -> None:
    # Given version 1
    workflow = given(*created(published(T0)))
    # When
    number = workflow.publish(template_channels=TEMPLATES, now=T0 + timedelta(days=1))
    # Then
    assert number == 2
    assert then(workflow) == [("Workflow.Published", {
        "number": 2, "score_threshold": 70, "steps": STEPS,
        "published_at": T0 + timedelta(days=1),
    })]
    assert [v["number"] for v in workflow.versions] == [1, 2]
    assert workflow.frozen(1)["published_at"] == T0


def test_publish_refuses_a_draft_without_steps() -> None:
    # Given a draft without steps
    workflow = given(*created(steps=[]))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels=TEMPLATES, now=T0)
    assert refused.value.field == "steps"
    assert then(workflow) == []
    assert workflow.versions == []


@pytest.mark.parametrize("channels", [{EMAIL_T: "email"}, {EMAIL_T: "email", SMS_T: None}])
def test_publish_refuses_a_missing_template(channels: dict[str, str | None]) -> None:
    # Given a draft whose second template is unknown
    workflow = given(*created())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels=channels, now=T0)
    assert refused.value.field == "steps[1].templateId"
    assert then(workflow) == []


def test_publish_refuses_a_template_for_another_channel() -> None:
    # Given a draft whose sms step names an in-app template
    workflow = given(*created())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels={EMAIL_T: "email", SMS_T: "in_app"}, now=T0)
    assert refused.value.field == "steps[1].templateId"
    assert "in_app" in refused.value.reason
    assert then(workflow) == []


def test_replaying_a_workflows_events_rebuilds_the_same_workflow() -> None:
    # Given a workflow published twice
    workflow = create()
    workflow.publish(template_channels=TEMPLATES, now=T0)
    workflow.publish(template_channels=TEMPLATES, now=T0 + timedelta(hours=1))
    # When its events are replayed
    replayed = given(*workflow.collect_events())
    # Then
    assert state(replayed) == state(workflow)


# PublishedWorkflows ----------------------------------------------------------

W1 = UUID("00000000-0000-4000-8000-0000000000a1")
W2 = UUID("00000000-0000-4000-8000-0000000000a2")


def test_open_the_catalogue() -> None:
    # When
    catalog = PublishedWorkflows.open()
    # Then
    assert then(catalog) == [("PublishedWorkflows.Created", {})]
    assert catalog.id == CATALOG_ID
    assert catalog.live == {}
    assert catalog.live_at(T0) == []


def test_list_version_records_it() -> None:
    # Given
    catalog = given(*PublishedWorkflows.open().collect_events())
    # When
    catalog.list_version(W1, 1, 70, T0)
    # Then
    assert then(catalog) == [("PublishedWorkflows.Listed", {
        "workflow_id": W1, "number": 1, "score_threshold": 70, "published_at": T0,
    })]
    assert catalog.live_at(T0) == [(W1, {"number": 1, "score_threshold": 70, "published_at": T0})]


def test_live_at_lists_versions_published_at_or_before_the_instant_in_id_order() -> None:
    # Given W2 published at T0, W1 an hour later
    catalog = PublishedWorkflows.open()
    catalog.list_version(W2, 1, 50, T0)
    catalog.list_version(W1, 1, 70, T0 + timedelta(hours=1))
    catalog = given(*catalog.collect_events())
    # When / Then
    assert catalog.live_at(T0 - timedelta(seconds=1)) == []
    assert [w for w, _ in catalog.live_at(T0)] == [W2]
    assert [w for w, _ in catalog.live_at(T0 + timedelta(hours=1))] == [W1, W2]


def test_a_newer_version_replaces_the_listed_one() -> None:
    # Given version 1 of W1
    catalog = PublishedWorkflows.open()
    catalog.list_version(W1, 1, 70, T0)
    catalog = given(*catalog.collect_events())
    # When
    catalog.list_version(W1, 2, 80, T0 + timedelta(days=1))
    # Then
    assert [name for name, _ in then(catalog)] == ["PublishedWorkflows.Listed"]
    assert catalog.live_at(T0 + timedelta(days=1)) == [
        (W1, {"number": 2, "score_threshold": 80, "published_at": T0 + timedelta(days=1)})]
    # the current version was not live yet at T0
    assert catalog.live_at(T0) == []


def test_replaying_the_catalogue_rebuilds_the_same_catalogue() -> None:
    # Given a catalogue with three listings
    catalog = PublishedWorkflows.open()
    catalog.list_version(W1, 1, 70, T0)
    catalog.list_version(W2, 1, 20, T0)
    catalog.list_version(W1, 2, 90, T0 + timedelta(minutes=5))
    # When its events are replayed
    replayed = given(*catalog.collect_events())
    # Then
    assert state(replayed) == state(catalog)
