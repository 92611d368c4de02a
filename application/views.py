"""Read types: what the use cases answer, built here from the aggregates, never the aggregates
themselves. Attributes are snake_case; the API's schemas alone give them their JSON names.

Step numbers count from 1 here, as a user sees them (``sequence``, ``current_step``,
``dead_letter_step``); the aggregates keep their 0-based ``step_no``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.execution import StepState, WorkflowExecution
from domain.lead import Lead


@dataclass(frozen=True)
class LeadView:
    id: UUID
    agent_id: str
    name: str
    email: str | None
    phone: str | None
    timezone: str
    preferences: dict[str, Any]  # the lead's own data, keys as the agent gave them
    timeline: str | None
    score: int
    status: str
    source: str | None
    move_by: str | None
    opted_out: list[str]
    version: int

    @classmethod
    def of(cls, lead: Lead) -> LeadView:
        return cls(id=lead.id, agent_id=lead.agent_id, name=lead.name, email=lead.email,
                   phone=lead.phone, timezone=lead.timezone, preferences=lead.preferences,
                   timeline=lead.timeline, score=lead.score, status=lead.status,
                   source=lead.source, move_by=lead.move_by, opted_out=list(lead.opted_out),
                   version=lead.version)


@dataclass(frozen=True)
class WindowView:
    start: str
    end: str
    weekdays: list[str]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> WindowView:
        return cls(start=raw["start"], end=raw["end"], weekdays=list(raw["weekdays"]))


@dataclass(frozen=True)
class StepConditionView:
    kind: str
    value: int | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> StepConditionView:
        return cls(kind=raw["kind"], value=raw.get("value"))


@dataclass(frozen=True)
class StepView:
    """A step as an execution holds it: its plan and where it stands."""

    sequence: int
    channel: str
    template_id: str
    delay_minutes: int
    status: str
    due_at: datetime | None
    sent_at: datetime | None
    attempts: int
    message_id: UUID | None
    note: str | None  # why it failed or was skipped
    window: WindowView | None
    conditions: list[StepConditionView]

    @classmethod
    def of(cls, number: int, s: StepState) -> StepView:
        return cls(sequence=number, channel=s.channel, template_id=s.template_id,
                   delay_minutes=s.delay_minutes, status=s.status.value, due_at=s.due_at,
                   sent_at=s.sent_at, attempts=s.attempts, message_id=s.message_id,
                   note=s.failure, window=WindowView.of(s.window) if s.window else None,
                   conditions=[StepConditionView.of(c) for c in s.conditions])


@dataclass(frozen=True)
class EntryView:
    """What started an execution: the crossing (or backfill) and the trigger it met."""

    kind: str
    new: int | None
    old: int | None
    lead_version: int | None
    score_threshold: int | None
    exclusive_group: str | None
    priority: int | None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> EntryView:
        return cls(kind=raw.get("kind", "score"), new=raw.get("new"), old=raw.get("old"),
                   lead_version=raw.get("lead_version"),
                   score_threshold=raw.get("score_threshold"),
                   exclusive_group=raw.get("exclusive_group"), priority=raw.get("priority"))


@dataclass(frozen=True)
class ExecutionView:
    id: UUID
    lead_id: UUID
    workflow_id: UUID
    workflow_version: int
    status: str
    status_reason: str | None
    current_step: int
    round: int
    timezone: str
    trigger: EntryView
    started_at: datetime
    completed_at: datetime | None
    dead_letter_step: int | None
    steps: list[StepView]

    @classmethod
    def of(cls, x: WorkflowExecution) -> ExecutionView:
        return cls(id=x.id, lead_id=x.lead_id, workflow_id=x.workflow_id,
                   workflow_version=x.workflow_version, status=x.status,
                   status_reason=x.status_reason, current_step=x.current_step + 1,
                   round=x.round, timezone=x.timezone, trigger=EntryView.of(x.trigger),
                   started_at=x.started_at, completed_at=x.completed_at,
                   dead_letter_step=None if x.dead_letter is None else x.dead_letter + 1,
                   steps=[StepView.of(i + 1, s) for i, s in enumerate(x.steps)])


@dataclass(frozen=True)
class ScoreResult:
    """Whether a scoring update was applied, and if not why."""

    lead_id: UUID
    old: int
    new: int
    applied: bool
    reason: str | None


@dataclass(frozen=True)
class StatusResult:
    """A status change and the executions it paused, left resumable or resumed."""

    lead_id: UUID
    status: str
    paused_executions: list[UUID]
    resumable_executions: list[UUID]
    resumed_executions: list[UUID]


@dataclass(frozen=True)
class ReplayRefusal:
    execution_id: UUID
    reason: str


@dataclass(frozen=True)
class ReplayReport:
    replayed: list[UUID]
    refused: list[ReplayRefusal]
