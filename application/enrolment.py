"""Starting executions: shared by the trigger policy and the backfill at publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.core import Core
from domain import ids
from domain.definition import execution_steps
from domain.entry import entry_refusal
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.workflow import Workflow


def live_groups(app: Core, lead: Lead) -> set[str]:
    """The exclusive groups of the lead's live executions."""
    groups = set()
    for execution_id in lead.execution_ids():
        execution = app.load(WorkflowExecution, execution_id)
        group = execution.trigger.get("exclusive_group")
        if execution.is_live and group:
            groups.add(group)
    return groups


def try_enrol(app: Core, lead: Lead, workflow: Workflow, number: int, trigger_ref: str,
              crossing: dict[str, Any], taken_groups: set[str], now: datetime, *,
              held: bool = False) -> WorkflowExecution | None:
    """Start ``workflow`` version ``number`` for ``lead`` if its rules allow; enrols the lead.
    A workflow of another agent, or of another brokerage (agent ids are unique only within
    one), is none of the lead's business (nothing is recorded); any other
    refusal is recorded on the lead (``Lead.EntryRefused``) with its reason. ``held``: the
    workflow is paused.

    ``taken_groups`` is updated with the started workflow's exclusive group.
    """
    if (workflow.brokerage_id, workflow.agent_id) != (lead.brokerage_id, lead.agent_id):
        return None
    definition = workflow.frozen(number)["definition"]
    trigger = definition["trigger"]
    reason = _refusal(app, lead, workflow.id, trigger, taken_groups, now, held)
    if reason is not None:
        lead.refuse_entry(workflow.id, number, reason, crossing.get("lead_version"))
        return None
    group = trigger["exclusive_group"]
    execution = WorkflowExecution.start(
        execution_id=ids.execution_id(lead.id, workflow.id, trigger_ref), lead_id=lead.id,
        workflow_id=workflow.id, workflow_version=number, steps=execution_steps(definition),
        trigger={**crossing, "score_threshold": trigger["score_threshold"],
                 "exclusive_group": group, "priority": trigger["priority"]},
        timezone=lead.timezone, now=now, first_delay_minutes=trigger["delay_minutes"])
    lead.enrol(workflow.id, execution.id)
    if group:
        taken_groups.add(group)
    return execution


def _refusal(app: Core, lead: Lead, workflow_id: UUID, trigger: dict[str, Any],
             taken_groups: set[str], now: datetime, held: bool) -> str | None:
    """Why the lead may not enter the workflow now, or None when it may."""
    if held:
        return "the workflow is paused"
    previous_id = lead.active_execution_of(workflow_id)
    previous = app.load(WorkflowExecution, previous_id) if previous_id else None
    reason = entry_refusal(trigger, workflow_id, lead, previous, now)
    group = trigger["exclusive_group"]
    if reason is None and group and group in taken_groups:
        reason = f"the lead is already in a workflow of the exclusive group “{group}”"
    return reason

