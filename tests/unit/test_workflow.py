"""Workflow: create, edit, publish, rollback, pause; PublishedWorkflows: list, hold, live_at."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain.errors import InvalidState, InvalidValue
from domain.ids import CATALOG_ID, DEFAULT_BROKERAGE_ID
from domain.workflow import PublishedWorkflows, Workflow
from tests.unit.conftest import ANN, T0, given, state, then

EMAIL_T = "00000000-0000-4000-8000-0000000000c1"
SMS_T = "00000000-0000-4000-8000-0000000000c2"
TEMPLATES: dict[str, str | None] = {EMAIL_T: "email", SMS_T: "sms"}
#: The latest revision of each template (what a publish pins).
REVISIONS = {EMAIL_T: 3, SMS_T: 1}

#: The trigger as check_definition normalises ``{"score_threshold": 70}``.
TRIGGER = {
    "score_threshold": 70, "trigger_type": "immediate", "delay_minutes": 0, "conditions": [],
    "reentry": {"mode": "after_end", "days": None}, "hysteresis": 0, "priority": 0,
    "exclusive_group": None, "on_registration": "start",
}
STEPS = [
    {"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0, "conditions": []},
    {"channel": "sms", "template_id": SMS_T, "delay_minutes": 1440, "conditions": []},
]
DEFINITION = {"trigger": TRIGGER, "steps": STEPS, "send_windows": {},
              "business_days_only": False}


def raw(**changes: Any) -> dict[str, Any]:
    """A definition as a caller sends it (only what differs from the defaults)."""
    definition: dict[str, Any] = {
        "trigger": {"score_threshold": 70},
        "steps": [{"channel": "email", "template_id": EMAIL_T, "delay_minutes": 0},
                  {"channel": "sms", "template_id": SMS_T, "delay_minutes": 1440}],
    }
    definition.update(changes)
    return definition


#: A second definition, as normalised: one email step an hour after the trigger.
OTHER_RAW = raw(steps=[{"channel": "email", "template_id": EMAIL_T, "delay_minutes": 60}])
OTHER = dict(DEFINITION, steps=[dict(STEPS[0], delay_minutes=60)])


def create(**overrides: Any) -> Workflow:
    fields: dict[str, Any] = dict(agent_id="agent-1", name="Hot leads", definition=raw())
    fields.update(overrides)
    return Workflow.create(**fields)


def created(*commands: Any, **overrides: Any) -> list[Any]:
    """The events of a workflow created, then changed by ``commands`` (callables)."""
    workflow = create(**overrides)
    for command in commands:
        command(workflow)
    return list(workflow.collect_events())


def published(at: Any = T0) -> Any:
    return lambda w: w.publish(template_channels=TEMPLATES, template_revisions=REVISIONS,
                               now=at)


def edited(definition: dict[str, Any], name: str = "Hot leads") -> Any:
    return lambda w: w.edit(name=name, definition=definition)


def version(number: int, definition: dict[str, Any], at: Any,
            restored_from: int | None = None,
            pins: dict[str, int] | None = None) -> dict[str, Any]:
    return {"number": number, "definition": definition, "published_at": at,
            "restored_from": restored_from,
            "template_revisions": REVISIONS if pins is None else pins}


# create ----------------------------------------------------------------------


def test_create_records_the_normalised_draft() -> None:
    # Given no workflow
    # When
    workflow = create(name="  Hot leads ")
    # Then
    assert then(workflow) == [("Workflow.Created", {
        "brokerage_id": DEFAULT_BROKERAGE_ID, "agent_id": "agent-1", "name": "Hot leads",
        "definition": DEFINITION,
    })]
    assert workflow.draft == DEFINITION
    assert workflow.versions == []
    assert workflow.latest is None
    assert workflow.paused is False
    assert workflow.draft_differs is True


def test_create_accepts_a_draft_without_steps() -> None:
    # When
    workflow = create(definition=raw(steps=[]))
    # Then
    assert then(workflow) == [("Workflow.Created", {
        "brokerage_id": DEFAULT_BROKERAGE_ID, "agent_id": "agent-1", "name": "Hot leads",
        "definition": dict(DEFINITION, steps=[]),
    })]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": " "}, "name"),
    ({"name": ""}, "name"),
    ({"agent_id": "  "}, "agentId"),
    ({"definition": raw(trigger={"score_threshold": 0})}, "trigger.scoreThreshold"),
    ({"definition": raw(steps=[{"channel": "fax", "template_id": EMAIL_T,
                                "delay_minutes": 0}])}, "steps[0].channel"),
])
def test_create_refuses_a_bad_workflow_naming_the_field(overrides: dict[str, Any],
                                                        field: str) -> None:
    # When / Then (the definition rules are in test_definition.py)
    with pytest.raises(InvalidValue) as refused:
        create(**overrides)
    assert refused.value.field == field


# edit ------------------------------------------------------------------------


def test_edit_records_the_new_draft() -> None:
    # Given a draft
    workflow = given(*created())
    # When
    workflow.edit(name=" Warm leads ", definition=OTHER_RAW, by=ANN)
    # Then it names who edited it
    assert then(workflow) == [("Workflow.DraftEdited",
                               {"name": "Warm leads", "definition": OTHER, "by": ANN})]
    assert workflow.name == "Warm leads"
    assert workflow.draft == OTHER


def test_edit_of_the_name_alone_is_recorded() -> None:
    # Given a draft
    workflow = given(*created())
    # When
    workflow.edit(name="Renamed", definition=raw())
    # Then
    assert then(workflow) == [("Workflow.DraftEdited",
                               {"name": "Renamed", "definition": DEFINITION, "by": None})]


@pytest.mark.parametrize("definition", [raw(), DEFINITION], ids=["as-sent", "normalised"])
def test_edit_that_changes_nothing_records_nothing(definition: dict[str, Any]) -> None:
    # Given a draft
    workflow = given(*created())
    # When the same name (once stripped) and the same definition are sent again
    workflow.edit(name=" Hot leads ", definition=definition)
    # Then
    assert then(workflow) == []


@pytest.mark.parametrize(("name", "definition", "field"), [
    (" ", raw(), "name"),
    ("Hot leads", raw(trigger={"score_threshold": 70, "priority": 5000}), "trigger.priority"),
])
def test_edit_refuses_a_bad_draft_and_keeps_the_old_one(name: str, definition: dict[str, Any],
                                                        field: str) -> None:
    # Given a draft
    workflow = given(*created())
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        workflow.edit(name=name, definition=definition)
    assert refused.value.field == field
    assert then(workflow) == []
    assert workflow.draft == DEFINITION


def test_edit_after_publishing_leaves_the_published_version_alone() -> None:
    # Given version 1
    workflow = given(*created(published(T0)))
    assert workflow.draft_differs is False
    # When
    workflow.edit(name="Hot leads", definition=OTHER_RAW)
    # Then
    assert workflow.draft_differs is True
    assert workflow.versions == [version(1, DEFINITION, T0)]


# publish ---------------------------------------------------------------------


def test_publish_freezes_version_1() -> None:
    # Given a draft
    workflow = given(*created())
    # When
    number = workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=T0,
                              by=ANN)
    # Then
    assert number == 1
    assert then(workflow) == [("Workflow.Published", {
        "number": 1, "definition": DEFINITION, "published_at": T0, "restored_from": None,
        "template_revisions": REVISIONS, "by": ANN,
    })]
    assert workflow.latest == version(1, DEFINITION, T0)
    assert workflow.frozen(1) == workflow.latest
    assert workflow.draft_differs is False


def test_publish_again_numbers_the_next_version() -> None:
    # Given version 1, then an edited draft
    workflow = given(*created(published(T0), edited(OTHER_RAW)))
    # When
    number = workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS,
                              now=T0 + timedelta(days=1))
    # Then
    assert number == 2
    assert then(workflow) == [("Workflow.Published", {
        "number": 2, "definition": OTHER, "published_at": T0 + timedelta(days=1),
        "restored_from": None, "template_revisions": {EMAIL_T: 3},  # its steps' templates only
        "by": None,
    })]
    assert workflow.versions == [version(1, DEFINITION, T0),
                                 version(2, OTHER, T0 + timedelta(days=1), pins={EMAIL_T: 3})]


def test_publish_refuses_a_draft_without_steps() -> None:
    # Given a draft without steps
    workflow = given(*created(definition=raw(steps=[])))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=T0)
    assert refused.value.field == "steps"
    assert then(workflow) == []
    assert workflow.versions == []


@pytest.mark.parametrize("channels", [{EMAIL_T: "email"}, {EMAIL_T: "email", SMS_T: None}])
def test_publish_refuses_a_missing_template(channels: dict[str, str | None]) -> None:
    # Given a draft whose second template is unknown
    workflow = given(*created())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels=channels, template_revisions=REVISIONS, now=T0)
    assert refused.value.field == "steps[1].templateId"
    assert refused.value.reason == "no such template"
    assert then(workflow) == []


def test_publish_refuses_a_template_for_another_channel() -> None:
    # Given a draft whose sms step names an in-app template
    workflow = given(*created())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.publish(template_channels={EMAIL_T: "email", SMS_T: "in_app"},
                         template_revisions=REVISIONS, now=T0)
    assert refused.value.field == "steps[1].templateId"
    assert refused.value.reason == "template is for in_app, step is sms"
    assert then(workflow) == []


# frozen --------------------------------------------------------------------------


@pytest.mark.parametrize("number", [0, -1, 2])
def test_frozen_refuses_a_version_that_does_not_exist(number: int) -> None:
    # Given version 1
    workflow = given(*created(published(T0)))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        workflow.frozen(number)
    assert refused.value.field == "version"


# rollback --------------------------------------------------------------------


def test_rollback_publishes_the_old_definition_as_the_newest_version() -> None:
    # Given version 1, version 2 with another definition and a later revision of its template,
    # then a draft edited further
    def later_revision(w: Workflow) -> None:
        w.publish(template_channels=TEMPLATES, template_revisions={EMAIL_T: 4, SMS_T: 2},
                  now=T0 + timedelta(days=1))

    workflow = given(*created(published(T0), edited(OTHER_RAW), later_revision,
                              edited(raw(steps=[]))))
    assert workflow.pinned(2, EMAIL_T) == 4 and workflow.pinned(2, SMS_T) is None
    at = T0 + timedelta(days=2)
    # When
    number = workflow.rollback(1, at, by=ANN)
    # Then: version 1's definition, with the template revisions version 1 pinned
    assert number == 3
    assert then(workflow) == [("Workflow.Published", {
        "number": 3, "definition": DEFINITION, "published_at": at, "restored_from": 1,
        "template_revisions": REVISIONS, "by": ANN,
    })]
    assert workflow.latest == version(3, DEFINITION, at, restored_from=1)
    assert workflow.draft == DEFINITION
    assert workflow.draft_differs is False
    assert [v["number"] for v in workflow.versions] == [1, 2, 3]


def test_rollback_refuses_the_newest_version() -> None:
    # Given versions 1 and 2
    workflow = given(*created(published(T0), edited(OTHER_RAW), published(T0)))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.rollback(2, T0)
    assert refused.value.field == "version"
    assert then(workflow) == []


@pytest.mark.parametrize(("history", "number"), [((), 1), ((published(T0),), 2),
                                                 ((published(T0),), 0)],
                         ids=["nothing-published", "past-the-newest", "zero"])
def test_rollback_refuses_a_version_that_does_not_exist(history: tuple[Any, ...],
                                                        number: int) -> None:
    # Given
    workflow = given(*created(*history))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        workflow.rollback(number, T0)
    assert refused.value.field == "version"
    assert then(workflow) == []


# pause / resume ----------------------------------------------------------------


def test_pause_records_why_and_when() -> None:
    # Given a published workflow
    workflow = given(*created(published(T0)))
    # When
    done = workflow.pause("agent on holiday", T0 + timedelta(hours=1), by=ANN)
    # Then
    assert done is True
    assert then(workflow) == [("Workflow.Paused",
                               {"reason": "agent on holiday", "at": T0 + timedelta(hours=1),
                                "by": ANN})]
    assert workflow.paused is True


def test_pause_when_paused_records_nothing() -> None:
    # Given a paused workflow
    workflow = given(*created(lambda w: w.pause("first", T0)))
    # When / Then
    assert workflow.pause("again", T0) is False
    assert then(workflow) == []


def test_resume_records_when() -> None:
    # Given a paused workflow
    workflow = given(*created(lambda w: w.pause("holiday", T0)))
    # When
    done = workflow.resume(T0 + timedelta(days=3), by=ANN)
    # Then
    assert done is True
    assert then(workflow) == [("Workflow.Resumed", {"at": T0 + timedelta(days=3), "by": ANN})]
    assert workflow.paused is False


def test_resume_when_not_paused_records_nothing() -> None:
    # Given a workflow never paused
    workflow = given(*created())
    # When / Then
    assert workflow.resume(T0) is False
    assert then(workflow) == []


# replay ------------------------------------------------------------------------


def test_replaying_a_workflows_events_rebuilds_the_same_workflow() -> None:
    # Given a workflow through every command
    workflow = create()
    workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=T0)
    workflow.edit(name="Warm leads", definition=OTHER_RAW)
    workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS,
                     now=T0 + timedelta(hours=1))
    workflow.rollback(1, T0 + timedelta(hours=2))
    workflow.pause("holiday", T0 + timedelta(hours=3))
    workflow.resume(T0 + timedelta(hours=4))
    events = workflow.collect_events()
    # When its events are replayed
    replayed = given(*events)
    # Then
    assert state(replayed) == state(workflow)
    assert replayed.version == len(events) == 7


# PublishedWorkflows ----------------------------------------------------------

W1 = UUID("00000000-0000-4000-8000-0000000000a1")
W2 = UUID("00000000-0000-4000-8000-0000000000a2")
W3 = UUID("00000000-0000-4000-8000-0000000000a3")


def trigger(**changes: Any) -> dict[str, Any]:
    return dict(TRIGGER, **changes)


def listing(number: int, at: Any, **changes: Any) -> dict[str, Any]:
    return {"number": number, "trigger": trigger(**changes), "published_at": at}


def catalog_with(*listings: tuple[UUID, int, dict[str, Any], Any]) -> PublishedWorkflows:
    catalog = PublishedWorkflows.open()
    for workflow_id, number, trig, at in listings:
        catalog.list_version(workflow_id, number, trig, at)
    return given(*catalog.collect_events())


def test_open_the_catalogue() -> None:
    # When
    catalog = PublishedWorkflows.open()
    # Then
    assert then(catalog) == [("PublishedWorkflows.Created", {})]
    assert catalog.id == CATALOG_ID
    assert catalog.versions == {}
    assert catalog.held == []
    assert catalog.live_at(T0) == []


def test_list_version_records_it() -> None:
    # Given
    catalog = catalog_with()
    # When
    catalog.list_version(W1, 1, TRIGGER, T0)
    # Then
    assert then(catalog) == [("PublishedWorkflows.Listed", {
        "workflow_id": W1, "number": 1, "trigger": TRIGGER, "published_at": T0,
    })]
    assert catalog.live_at(T0) == [(W1, listing(1, T0))]


def test_live_at_lists_what_was_published_at_or_before_the_instant() -> None:
    # Given W2 published at T0, W1 an hour later, both of priority 0
    catalog = catalog_with((W2, 1, TRIGGER, T0), (W1, 1, TRIGGER, T0 + timedelta(hours=1)))
    # When / Then
    assert catalog.live_at(T0 - timedelta(microseconds=1)) == []
    assert [w for w, _ in catalog.live_at(T0)] == [W2]
    assert [w for w, _ in catalog.live_at(T0 + timedelta(hours=1))] == [W1, W2]


def test_live_at_gives_the_version_that_was_newest_at_the_instant() -> None:
    # Given version 1 of W1 at T0 and version 2 a day later
    day = timedelta(days=1)
    catalog = catalog_with((W1, 1, TRIGGER, T0), (W1, 2, trigger(score_threshold=80), T0 + day))
    # When / Then
    assert catalog.live_at(T0 + day - timedelta(microseconds=1)) == [(W1, listing(1, T0))]
    assert catalog.live_at(T0 + day) == [(W1, listing(2, T0 + day, score_threshold=80))]


def test_live_at_puts_the_highest_priority_first_then_orders_by_id() -> None:
    # Given three workflows: W3 of priority 5, W1 and W2 of priority 0, W2 listed first
    catalog = catalog_with((W2, 1, TRIGGER, T0), (W3, 1, trigger(priority=5), T0),
                           (W1, 1, TRIGGER, T0))
    # When / Then
    assert [w for w, _ in catalog.live_at(T0)] == [W3, W1, W2]


def test_a_negative_priority_goes_last() -> None:
    # Given
    catalog = catalog_with((W1, 1, trigger(priority=-1), T0), (W2, 1, TRIGGER, T0))
    # When / Then
    assert [w for w, _ in catalog.live_at(T0)] == [W2, W1]


def test_hold_records_it_and_hides_the_workflow() -> None:
    # Given W1 and W2 listed
    catalog = catalog_with((W1, 1, TRIGGER, T0), (W2, 1, TRIGGER, T0))
    # When
    catalog.hold(W1, True)
    # Then
    assert then(catalog) == [("PublishedWorkflows.Held", {"workflow_id": W1, "held": True})]
    assert catalog.is_held(W1) and not catalog.is_held(W2)
    assert [w for w, _ in catalog.live_at(T0)] == [W2]


def test_release_records_it_and_shows_the_workflow_again() -> None:
    # Given W1 held
    catalog = PublishedWorkflows.open()
    catalog.list_version(W1, 1, TRIGGER, T0)
    catalog.hold(W1, True)
    catalog = given(*catalog.collect_events())
    # When
    catalog.hold(W1, False)
    # Then
    assert then(catalog) == [("PublishedWorkflows.Held", {"workflow_id": W1, "held": False})]
    assert not catalog.is_held(W1)
    assert [w for w, _ in catalog.live_at(T0)] == [W1]


@pytest.mark.parametrize("held", [True, False])
def test_hold_that_changes_nothing_records_nothing(held: bool) -> None:
    # Given W1 in the state asked for
    catalog = PublishedWorkflows.open()
    catalog.list_version(W1, 1, TRIGGER, T0)
    if held:
        catalog.hold(W1, True)
    catalog = given(*catalog.collect_events())
    # When
    catalog.hold(W1, held)
    # Then
    assert then(catalog) == []
    assert catalog.is_held(W1) is held


def test_a_workflow_can_be_held_before_it_is_listed() -> None:
    # Given an empty catalogue
    catalog = catalog_with()
    # When W1 is held, then listed
    catalog.hold(W1, True)
    catalog.list_version(W1, 1, TRIGGER, T0)
    # Then it stays out of the live list
    assert catalog.is_held(W1)
    assert catalog.live_at(T0) == []


def test_replaying_the_catalogue_rebuilds_the_same_catalogue() -> None:
    # Given a catalogue with listings and holds
    catalog = PublishedWorkflows.open()
    catalog.list_version(W1, 1, TRIGGER, T0)
    catalog.list_version(W2, 1, trigger(priority=3), T0)
    catalog.list_version(W1, 2, trigger(score_threshold=90), T0 + timedelta(minutes=5))
    catalog.hold(W2, True)
    catalog.hold(W1, True)
    catalog.hold(W2, False)
    # When its events are replayed
    replayed = given(*catalog.collect_events())
    # Then
    assert state(replayed) == state(catalog)


@pytest.mark.parametrize(("definition", "field"), [
    (dict(DEFINITION, send_windows={"sms": {"start": "00:00", "end": "24:00",
                                            "weekdays": ["mon"]}}), "sendWindows.sms"),
    (dict(DEFINITION, business_days_only=True, send_windows={
        "email": {"start": "09:00", "end": "17:00", "weekdays": ["sat"]}}),
     "sendWindows.email.weekdays"),
    (dict(DEFINITION, steps=[STEPS[1], dict(STEPS[0], conditions=[
        {"kind": "previous_email_not_opened"}])]), "steps[1].conditions[0].kind"),
], ids=["all-day-sms", "business-days-weekend", "no-earlier-email"])
def test_publish_refuses_a_draft_saved_under_older_rules(definition: dict[str, Any],
                                                         field: str) -> None:
    # Given a draft that older rules let through
    workflow = given(Workflow.Created(originator_id=UUID(int=1), originator_version=1,
                                      timestamp=Workflow.Created.create_timestamp(),
                                      originator_topic=Workflow.TOPIC, agent_id="agent-1",
                                      brokerage_id=DEFAULT_BROKERAGE_ID,
                                      name="Hot leads", definition=definition))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=T0)
    assert refused.value.field == field
    assert then(workflow) == []


# template revisions ------------------------------------------------------------------


def test_a_version_published_before_templates_had_revisions_pins_their_first() -> None:
    # Given a Published as version 1 stored it (no pins, no class_version)
    workflow = given(*created())
    mapper = Application[UUID]().mapper
    state_v1 = {"number": 1, "definition": DEFINITION, "published_at": T0,
                "restored_from": None, "timestamp": T0, "originator_topic": "followup.workflow"}
    stored = StoredEvent(originator_id=workflow.id, originator_version=2,
                         topic="followup.workflow.published",
                         state=mapper.transcoder.encode(state_v1))
    # When it is read and folded
    event = mapper.to_domain_event(stored)
    event.mutate(workflow)
    # Then each step's template is pinned at revision 1, and a rollback to it keeps the pins
    assert event.template_revisions == {EMAIL_T: 1, SMS_T: 1}
    assert workflow.pinned(1, EMAIL_T) == 1
    workflow.edit(name="Hot leads", definition=OTHER_RAW)
    workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=T0)
    workflow.rollback(1, T0)
    assert workflow.latest["template_revisions"] == {EMAIL_T: 1, SMS_T: 1}
