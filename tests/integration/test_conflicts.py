"""Commands that others keep getting to first: the one retry helper gives up with an application
error naming what was not done, and stops quietly when another runner did it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from application.errors import ApplicationError, OutcomeNotRecorded, TriggerNotApplied
from application.follower import Item
from application.sending import RECORD_RETRIES, Outcome
from application.trigger import TRIGGER_RETRIES, TriggerPolicy
from domain.execution import StepStatus, WorkflowExecution
from domain.lead import Lead
from tests.integration.helpers import Harness, register_ana, three_step_workflow


def executions_of(h: Harness, lead_id: UUID) -> list[WorkflowExecution]:
    """The lead's executions, as aggregates."""
    return [h.rt.app.load(WorkflowExecution, e)
            for e in h.rt.app.load(Lead, lead_id).all_execution_ids()]

class AlwaysConflicting:
    """A save that another writer always got to first."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *_: Any, **__: Any) -> None:
        self.calls += 1
        raise IntegrityError("another writer was first")


def test_an_outcome_that_keeps_conflicting_gives_up_with_an_application_error(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Ana's email step claimed and sent by the provider
    lead = h.crossing()
    h.settle()
    [execution] = executions_of(h, lead)
    sender = h.rt.sender
    prepared = sender._prepare(execution.id, h.clock.now(), h.rt.app.catalog())
    assert not isinstance(prepared, Outcome) and prepared.outcome == Outcome.SEND
    h.rt.app.save(*prepared.aggregates)
    result = sender._deliver(prepared)
    # When every save of its outcome conflicts
    conflicting = AlwaysConflicting()
    monkeypatch.setattr(h.rt.app, "save", conflicting)
    with pytest.raises(OutcomeNotRecorded) as raised:
        sender._record(prepared, result)
    # Then it gave up after its retries, with an application error naming the step
    assert isinstance(raised.value, ApplicationError)
    assert f"step 1 of {execution.id}" in str(raised.value)
    assert conflicting.calls == RECORD_RETRIES
    monkeypatch.undo()
    assert h.rt.app.load(WorkflowExecution, execution.id).step(0).status == StepStatus.DISPATCHED


def score_change(h: Harness) -> Item:
    """Ana's rise over the published workflow's threshold, as the trigger reads it."""
    three_step_workflow(h.rt.app)
    lead = register_ana(h.rt.app)
    h.rt.app.change_score(lead, 85, "viewed a listing")
    topic = get_topic(Lead.ScoreChanged)
    [found] = [n for n in h.rt.app.recorder.select_notifications(start=1, limit=1000)
               if n.topic == topic]
    return Item(found.id, h.rt.app.mapper.to_domain_event(found))


def test_a_trigger_that_keeps_conflicting_gives_up_with_an_application_error(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a score change that starts an execution
    item = score_change(h)
    policy = TriggerPolicy(h.rt.app)
    # When every save of what it starts conflicts, and no other runner applied it
    conflicting = AlwaysConflicting()
    monkeypatch.setattr(h.rt.app, "save", conflicting)
    with pytest.raises(TriggerNotApplied) as raised:
        policy.apply([item], item.position)
    # Then it gave up after its retries, naming the event's position
    assert isinstance(raised.value, ApplicationError)
    assert str(item.position) in str(raised.value)
    assert conflicting.calls == TRIGGER_RETRIES


def test_a_trigger_conflict_after_another_runner_applied_the_event_is_quiet(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a score change another runner has already applied (its position is recorded)
    item = score_change(h)
    policy = TriggerPolicy(h.rt.app)
    h.rt.app.recorder.insert_tracking(Tracking(policy.name, item.position))  # type: ignore[attr-defined]
    # When this runner's save conflicts
    conflicting = AlwaysConflicting()
    monkeypatch.setattr(h.rt.app, "save", conflicting)
    policy.apply([item], item.position)
    # Then it stops after the one conflict, without an error
    assert conflicting.calls == 1
