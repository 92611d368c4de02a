"""Every domain event reaches each read model and follower that must see it, or is listed here
as left out on purpose, with the reason. The events are found by looking into the aggregates
(each event class nested in one), so a new event that nobody handles fails a test here instead
of silently dropping out of a lead's history, the directory or the due index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from hypothesis import settings
from hypothesis.stateful import invariant

from application.due_feeder import DUE_TOPICS, DueFeeder, due_change, epoch_ms
from application.trigger import TriggerPolicy
from domain.account import User
from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.message import Message
from domain.template import Template
from domain.workflow import Workflow
from projections.catalogue import CatalogueProjection
from projections.directory import STATUS_EVENTS, DirectoryProjection
from projections.due_steps import DueStepsProjection
from projections.lead_history import LeadHistoryProjection
from projections.messages import MessagesProjection
from tests.unit.test_properties import ExecutionMachine


def events_of(aggregate: type[Aggregate]) -> set[type]:
    """The event classes nested in ``aggregate``."""
    base = aggregate.Event
    return {v for v in vars(aggregate).values()
            if isinstance(v, type) and issubclass(v, base) and v is not base}


def handled(events: Iterable[type], topics: Sequence[str]) -> set[type]:
    return {e for e in events if get_topic(e) in set(topics)}


def check(events: set[type], topics: Sequence[str], left_out: dict[type, str]) -> None:
    """Each of ``events`` is either handled (its topic is followed) or left out with a reason,
    never both, and nothing unknown is followed."""
    followed = handled(events, topics)
    missing = events - followed - set(left_out)
    assert not missing, f"handled nowhere and not left out: {sorted(map(get_topic, missing))}"
    both = followed & set(left_out)
    assert not both, f"handled, yet listed as left out: {sorted(map(get_topic, both))}"
    assert set(left_out) <= events and all(left_out.values())


def test_the_aggregates_events_are_found() -> None:
    assert {Lead.Created, Lead.ScoreChanged} <= events_of(Lead)
    assert {X.Created, X.StepSent, X.Completed} <= events_of(X)
    assert Lead.Event not in events_of(Lead) and Message.Created in events_of(Message)


# Lead history: every event of a lead, its executions and its messages ---------------

HISTORY_LEFT_OUT: dict[type, str] = {
    Lead.Enrolled: "the execution's start is the one entry of a start",
}


def test_the_lead_history_handles_every_event_of_a_lead_its_executions_and_messages() -> None:
    # (workflows and templates are definitions, not a lead's history)
    events = events_of(Lead) | events_of(X) | events_of(Message)
    check(events, LeadHistoryProjection.topics, HISTORY_LEFT_OUT)


#: The history names who acted by the user's name: it follows the users' names, nothing else of
#: the accounts.
HISTORY_USERS_LEFT_OUT: dict[type, str] = {
    User.RoleChanged: "a role is not part of how the history names a person",
    User.Deactivated: "a deactivated user's past actions keep their name",
    User.Reactivated: "a deactivated user's past actions keep their name",
    User.PasswordChanged: "credentials are nobody's history",
}


def test_the_lead_history_follows_the_names_of_users_who_act() -> None:
    check(events_of(User), LeadHistoryProjection.topics, HISTORY_USERS_LEFT_OUT)


def test_the_messages_read_model_handles_every_message_event() -> None:
    check(events_of(Message), MessagesProjection.topics, {})


# The due index and its copy in SQL: every event that changes the current step's schedule

DUE_LEFT_OUT: dict[type, str] = {
    X.Created: "the first step's StepScheduled follows in the same commit",
    X.StepDispatched: "the step stays indexed (under the claim's lease) until its outcome",
    X.StepSkipped: "the next step's StepScheduled, or a Completed, follows in the same commit",
    X.DeadLetterReplayed: "the step's StepScheduled follows in the same commit",
    X.Migrated: "the current step and its schedule are kept; later steps are not indexed yet",
    X.Restarted: "step one's StepScheduled follows in the same commit",
    X.StepHeld: "the member stays under its claim's lease; each return finds the workflow still "
                "paused (recorded once), and the resume's StepReleased sets it due at once",
    X.ZoneChanged: "the step scheduled keeps its due time; later steps are planned in the new "
                   "zone as they are scheduled",
}


def test_the_due_feeder_and_due_steps_follow_every_event_that_moves_a_schedule() -> None:
    check(events_of(X), DUE_TOPICS, DUE_LEFT_OUT)
    assert DueFeeder.topics == DueStepsProjection.topics == DUE_TOPICS


# The directory: leads' scores and statuses, executions' statuses and versions -----------

DIRECTORY_LEFT_OUT: dict[type, str] = {
    Lead.Enrolled: "a lead's executions are listed from their own Created",
    Lead.ScoreIgnored: "an update older than the last applied changes no score",
    Lead.EntryRefused: "a refused entry changes no score, status or execution",
    Lead.OptedOut: "consent is no column of the directory",
    Lead.OptedIn: "consent is no column of the directory",
    X.ZoneChanged: "a time zone changes neither the execution's status nor its version",
    X.StepScheduled: "a step's progress changes neither the execution's status nor its version",
    X.StepDispatched: "a step's progress changes neither the execution's status nor its version",
    X.StepSent: "a step's progress changes neither the execution's status nor its version",
    X.StepFailed: "a step's progress changes neither the execution's status nor its version",
    X.StepSkipped: "a step's progress changes neither the execution's status nor its version",
    X.StepOutcomeUnknown: "a step's progress changes neither the execution's status nor its "
                          "version",
}


def test_the_directory_follows_every_event_that_changes_a_status_score_or_version() -> None:
    check(events_of(Lead) | events_of(X), DirectoryProjection.topics, DIRECTORY_LEFT_OUT)


DIRECTORY_DEFINITIONS_LEFT_OUT: dict[type, str] = {
    Workflow.Paused: "a pause changes no definition (the templates its steps use)",
    Workflow.Resumed: "a resume changes no definition (the templates its steps use)",
    Template.Created: "where a template is used is read from the workflows' definitions",
    Template.Revised: "where a template is used is read from the workflows' definitions",
}


def test_the_directory_follows_every_definition_for_the_templates_it_uses() -> None:
    check(events_of(Workflow) | events_of(Template), DirectoryProjection.topics,
          DIRECTORY_DEFINITIONS_LEFT_OUT)


# The catalogue: workflows' names and states, templates, executions counted and sends --

CATALOGUE_LEFT_OUT: dict[type, str] = {
    X.ZoneChanged: "a lead's new time zone changes neither whether the execution is active nor "
                   "what was sent",
    X.StepScheduled: "a step's schedule changes neither whether the execution is active nor "
                     "what was sent",
    X.StepDispatched: "a claim is no send: StepSent says the provider took it",
    X.StepFailed: "a failure is no send",
    X.StepSkipped: "a skip is no send",
    X.StepOutcomeUnknown: "an unknown outcome is not counted as sent",
    X.StepHeld: "a held step changes neither whether the execution is active nor what was sent",
    X.StepReleased: "a release is a schedule, not a send",
    X.Migrated: "a migrated execution stays in its workflow (only the version moves)",
}


def test_the_catalogue_follows_definitions_templates_and_what_executions_count() -> None:
    check(events_of(Workflow) | events_of(Template) | events_of(X), CatalogueProjection.topics,
          CATALOGUE_LEFT_OUT)


# The trigger ------------------------------------------------------------------------

TRIGGER_LEFT_OUT: dict[type, str] = {
    Lead.ScoreIgnored: "an update older than the last applied is no crossing",
    Lead.StatusChanged: "a stopping status pauses the executions in its own commit",
    Lead.Enrolled: "the trigger's own event",
    Lead.EntryRefused: "the trigger's own event",
    Lead.OptedOut: "consent is checked when a step falls due",
    Lead.OptedIn: "consent is checked when a step falls due",
    Lead.ProfileEdited: "an edit is no crossing; a later crossing reads the lead's new values",
}


def test_the_trigger_follows_score_changes_and_leaves_the_rest_on_purpose() -> None:
    check(events_of(Lead), TriggerPolicy.topics, TRIGGER_LEFT_OUT)


# What the lists claim, checked on random executions -----------------------------------


class FollowedExecution(ExecutionMachine):
    """The execution state machine's histories, folded as the due feeder and the directory
    fold them: they must agree with the execution itself after every command."""

    def followed(self, topics: Sequence[str]) -> list[Any]:
        return [e for e, _ in self.history if get_topic(type(e)) in set(topics)]

    @invariant()
    def the_due_index_holds_a_scheduled_step_no_later_than_it_is_due(self) -> None:
        """Never missing nor late (a resumed execution is offered at once, and the sender
        re-checks it), and nothing indexed once nothing is due."""
        index: dict[str, int | None] = {}
        for e in self.followed(DUE_TOPICS):
            member, due, _ = due_change(e)
            index[member] = due
        if self.current().status == "dispatched":
            return  # in flight: indexed under the claim's lease, or offered for a settling
        due_at, indexed = self.execution.next_due_at(), index.get(str(self.execution.id))
        if due_at is None:
            assert indexed is None
        else:
            assert indexed is not None and indexed <= epoch_ms(due_at)

    @invariant()
    def the_directory_status_is_the_executions(self) -> None:
        status = "active"
        for e in self.followed(DirectoryProjection.topics):
            status = STATUS_EVENTS.get(type(e), status)
        assert status == self.execution.status


FollowedExecution.TestCase.settings = settings(max_examples=50, stateful_step_count=40,
                                               deadline=None)
TestFollowedExecution = FollowedExecution.TestCase
