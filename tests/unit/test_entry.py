"""entry_refusal: who may enter a workflow now (status, re-entry, hysteresis, conditions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import ids
from domain.entry import entry_refusal
from domain.execution import WorkflowExecution
from domain.lead import Lead
from tests.unit.conftest import T0, given

LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")
WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a1")
EXECUTION_ID = ids.execution_id(LEAD_ID, WORKFLOW_ID, "score@2")
STEP = {"channel": "email", "template_id": "00000000-0000-4000-8000-0000000000c1",
        "delay_minutes": 0}
DAY = timedelta(days=1)


def trigger(**changes: Any) -> dict[str, Any]:
    found = {"score_threshold": 70, "trigger_type": "immediate", "delay_minutes": 0,
             "conditions": [], "reentry": {"mode": "after_end", "days": None},
             "hysteresis": 0, "priority": 0, "exclusive_group": None}
    found.update(changes)
    return found


def lead(*commands: Any, score: int = 80, source: str | None = "zillow") -> Lead:
    """A lead at ``score``, then changed by ``commands``."""
    found = Lead.register(lead_id=LEAD_ID, agent_id="agent-1", name="Ana", email=None,
                          phone=None, timezone="UTC", preferences={}, timeline=None,
                          score=score, source=source)
    for command in commands:
        command(found)
    return given(*found.collect_events())


def enrolled(found: Lead) -> None:
    found.enrol(WORKFLOW_ID, EXECUTION_ID)


def score(value: int) -> Any:
    return lambda found: found.change_score(value, "change", T0)


def status(value: str) -> Any:
    return lambda found: found.change_status(value, "change")


def previous(*commands: Any) -> WorkflowExecution:
    """The lead's earlier execution of the workflow: one step, started at T0, then ``commands``."""
    execution = WorkflowExecution.start(
        execution_id=EXECUTION_ID, lead_id=LEAD_ID, workflow_id=WORKFLOW_ID, workflow_version=1,
        steps=[STEP], trigger=trigger(), timezone="UTC", now=T0)
    for command in commands:
        command(execution)
    return given(*execution.collect_events())


def completed(execution: WorkflowExecution) -> None:
    """Sent at T0 and so completed at T0."""
    message_id = ids.message_id(EXECUTION_ID, 0, 1)
    execution.dispatch(0, message_id, T0)
    execution.record_sent(0, message_id, T0)


def cancelled(execution: WorkflowExecution) -> None:
    execution.cancel("agent", T0)


def paused(execution: WorkflowExecution) -> None:
    execution.pause("agent", T0)


def test_a_lead_never_in_the_workflow_may_enter() -> None:
    # When / Then
    assert entry_refusal(trigger(), WORKFLOW_ID, lead(), None, T0) is None


@pytest.mark.parametrize("stopped", ["closed", "lost"])
def test_a_stopped_lead_may_not_enter(stopped: str) -> None:
    # When / Then: this is checked before anything else
    assert entry_refusal(trigger(reentry={"mode": "never", "days": None}), WORKFLOW_ID,
                         lead(status(stopped)), previous(), T0) == f"the lead is {stopped}"


@pytest.mark.parametrize("history", [(), (paused,)], ids=["active", "paused"])
def test_a_lead_still_in_the_workflow_may_not_enter_again(history: tuple[Any, ...]) -> None:
    # When / Then
    assert entry_refusal(trigger(), WORKFLOW_ID, lead(), previous(*history),
                         T0) == "the lead is already in this workflow"


@pytest.mark.parametrize("ended", [completed, cancelled])
def test_after_end_allows_a_new_entry_once_the_previous_run_ended(ended: Any) -> None:
    # When / Then
    assert entry_refusal(trigger(), WORKFLOW_ID, lead(), previous(ended), T0) is None


@pytest.mark.parametrize("ended", [completed, cancelled])
def test_never_allows_no_second_entry(ended: Any) -> None:
    # Given
    never = trigger(reentry={"mode": "never", "days": None})
    # When / Then
    assert entry_refusal(never, WORKFLOW_ID, lead(), previous(ended),
                         T0 + 365 * DAY) == "this workflow does not allow re-entry"


@pytest.mark.parametrize(("after", "refused"), [
    (timedelta(0), True), (7 * DAY - timedelta(microseconds=1), True),
    (7 * DAY, False), (30 * DAY, False),
])
def test_after_days_counts_from_when_the_previous_run_ended(after: timedelta,
                                                           refused: bool) -> None:
    # Given a run that ended at T0, and re-entry 7 days after the end
    week = trigger(reentry={"mode": "after_days", "days": 7})
    # When
    reason = entry_refusal(week, WORKFLOW_ID, lead(), previous(completed), T0 + after)
    # Then
    assert reason == ("re-entry only 7 days after the previous run ended" if refused else None)


def test_after_days_still_refuses_a_live_run() -> None:
    # Given
    week = trigger(reentry={"mode": "after_days", "days": 7})
    # When / Then
    assert entry_refusal(week, WORKFLOW_ID, lead(), previous(),
                         T0 + 30 * DAY) == "the lead is already in this workflow"


@pytest.mark.parametrize(("lowest", "refused"), [(80, True), (61, True), (60, True),
                                                 (59, False), (0, False)])
def test_hysteresis_needs_the_score_to_fall_below_threshold_minus_hysteresis(
        lowest: int, refused: bool) -> None:
    # Given a lead enrolled at 80 whose score fell to ``lowest`` and is back at 85
    hysteresis = trigger(hysteresis=10)
    rising = lead(enrolled, score(lowest), score(85))
    # When
    reason = entry_refusal(hysteresis, WORKFLOW_ID, rising, previous(completed), T0)
    # Then
    assert reason == ("the score has not fallen below 70 - 10 since the last entry"
                      if refused else None)


def test_without_hysteresis_any_new_crossing_counts() -> None:
    # Given a lead enrolled at 80 and never below since
    # When / Then
    assert entry_refusal(trigger(), WORKFLOW_ID, lead(enrolled), previous(completed),
                         T0) is None


def test_hysteresis_does_not_hold_back_a_first_entry() -> None:
    # When / Then
    assert entry_refusal(trigger(hysteresis=10), WORKFLOW_ID, lead(), None, T0) is None


def test_an_unmet_condition_is_named() -> None:
    # Given a trigger for referrals only
    referrals = trigger(conditions=[{"field": "source", "op": "eq", "value": "referral"}])
    # When / Then
    assert entry_refusal(referrals, WORKFLOW_ID, lead(), None,
                         T0) == "condition not met: source eq 'referral'"


def test_met_conditions_let_the_lead_in() -> None:
    # Given
    rules = trigger(conditions=[{"field": "source", "op": "in", "value": ["zillow", "x"]},
                                {"field": "score", "op": "gte", "value": 50}])
    # When / Then
    assert entry_refusal(rules, WORKFLOW_ID, lead(), None, T0) is None


def test_conditions_are_checked_on_re_entry_too() -> None:
    # Given a run that ended, re-entry allowed, and a condition the lead no longer meets
    rules = trigger(conditions=[{"field": "score", "op": "gte", "value": 90}])
    # When / Then
    assert entry_refusal(rules, WORKFLOW_ID, lead(), previous(completed),
                         T0) == "condition not met: score gte 90"
