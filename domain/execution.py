"""The WorkflowExecution aggregate: one lead going through one published workflow version."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidState
from domain.timing import due_at, retry_backoff

MAX_SEND_ATTEMPTS = 5


class ExecutionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the sender died during the provider call: it may or may not have gone


class WorkflowExecution(Aggregate):
    TOPIC = "followup.execution"
    id: UUID  # given by the caller: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.execution.started"
        lead_id: UUID
        workflow_id: UUID
        workflow_version: int
        steps: list[dict[str, Any]]
        trigger: dict[str, Any]
        started_at: datetime

    class StepScheduled(Aggregate.Event):
        TOPIC = "followup.execution.step_scheduled"
        step_no: int
        due_at: datetime
        reason: str

    class StepDispatched(Aggregate.Event):
        TOPIC = "followup.execution.step_dispatched"
        step_no: int
        message_id: UUID
        attempt: int
        at: datetime

    class StepSent(Aggregate.Event):
        TOPIC = "followup.execution.step_sent"
        step_no: int
        message_id: UUID
        sent_at: datetime

    class StepFailed(Aggregate.Event):
        TOPIC = "followup.execution.step_failed"
        step_no: int
        reason: str
        permanent: bool
        at: datetime

    class StepOutcomeUnknown(Aggregate.Event):
        TOPIC = "followup.execution.step_outcome_unknown"
        step_no: int
        reason: str
        at: datetime

    class Paused(Aggregate.Event):
        TOPIC = "followup.execution.paused"
        reason: str
        at: datetime

    class Cancelled(Aggregate.Event):
        TOPIC = "followup.execution.cancelled"
        reason: str
        at: datetime

    class Completed(Aggregate.Event):
        TOPIC = "followup.execution.completed"
        at: datetime

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.execution.snapshot"

    @event(Created)
    def __init__(self, lead_id: UUID, workflow_id: UUID, workflow_version: int,
                 steps: list[dict[str, Any]], trigger: dict[str, Any],
                 started_at: datetime) -> None:
        self.lead_id = lead_id
        self.workflow_id = workflow_id
        self.workflow_version = workflow_version
        self.steps = [dict(s, status=StepStatus.PENDING.value, attempts=0) for s in steps]
        self.trigger = trigger
        self.started_at = started_at
        self.status = ExecutionStatus.ACTIVE.value
        self.current_step = 0
        self.completed_at: datetime | None = None
        self.status_reason: str | None = None

    @classmethod
    def start(cls, *, execution_id: UUID, lead_id: UUID, workflow_id: UUID,
              workflow_version: int, steps: list[dict[str, Any]], trigger: dict[str, Any],
              now: datetime) -> WorkflowExecution:
        if not steps:
            raise InvalidState("steps", "a workflow version without steps cannot start")
        execution = cls(id=execution_id, lead_id=lead_id, workflow_id=workflow_id,  # type: ignore[call-arg]
                        workflow_version=workflow_version, steps=steps, trigger=trigger,
                        started_at=now)
        execution._schedule(0, now, "delay after start")
        return execution

    # Queries ---------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status == ExecutionStatus.ACTIVE.value

    @property
    def is_live(self) -> bool:
        """Active or paused: it still holds the lead's place in its workflow."""
        return self.status in (ExecutionStatus.ACTIVE.value, ExecutionStatus.PAUSED.value)

    def step(self, step_no: int) -> dict[str, Any]:
        return self.steps[step_no]

    def due_step(self, now: datetime) -> int | None:
        """The step to send now, if any: active, scheduled and due."""
        if not self.is_active:
            return None
        step = self.steps[self.current_step]
        if step["status"] == StepStatus.SCHEDULED.value and step["due_at"] <= now:
            return self.current_step
        return None

    def stale_dispatch(self, now: datetime, timeout: timedelta) -> int | None:
        """The step dispatched longer than ``timeout`` ago with no outcome: its sender died."""
        step = self.steps[self.current_step]
        if step["status"] == StepStatus.DISPATCHED.value and step["dispatched_at"] + timeout <= now:
            return self.current_step
        return None

    def next_due_at(self) -> datetime | None:
        if not self.is_active:
            return None
        step = self.steps[self.current_step]
        return step["due_at"] if step["status"] == StepStatus.SCHEDULED.value else None

    # Commands --------------------------------------------------------------

    def dispatch(self, step_no: int, message_id: UUID, now: datetime) -> int:
        """Claim a due step before talking to a provider; returns the attempt number."""
        if self.due_step(now) != step_no:
            raise InvalidState("step", f"step {step_no} is not due")
        attempt = self.steps[step_no]["attempts"] + 1
        self._dispatched(step_no=step_no, message_id=message_id, attempt=attempt, at=now)
        return attempt

    def redispatch(self, step_no: int, now: datetime, timeout: timedelta) -> int:
        """Try a stale dispatch again: only for channels where a repeat cannot duplicate."""
        if self.stale_dispatch(now, timeout) != step_no or not self.is_active:
            raise InvalidState("step", f"step {step_no} is not a stale dispatch")
        step = self.steps[step_no]
        attempt = step["attempts"] + 1
        self._dispatched(step_no=step_no, message_id=step["message_id"], attempt=attempt, at=now)
        return attempt

    def record_unknown_outcome(self, step_no: int, reason: str, now: datetime,
                               timeout: timedelta) -> None:
        """Give up a stale dispatch whose send may have happened; never send it twice."""
        if self.stale_dispatch(now, timeout) != step_no:
            raise InvalidState("step", f"step {step_no} is not a stale dispatch")
        self._outcome_unknown(step_no=step_no, reason=reason, at=now)
        self._move_on(step_no, now)

    def record_sent(self, step_no: int, message_id: UUID, now: datetime) -> None:
        self._require_dispatched(step_no)
        self._sent(step_no=step_no, message_id=message_id, sent_at=now)
        self._move_on(step_no, now)

    def record_failure(self, step_no: int, reason: str, permanent: bool, now: datetime) -> None:
        """A send failed: retry a transient failure later, or give the step up and move on."""
        self._require_dispatched(step_no)
        attempts = self.steps[step_no]["attempts"]
        gives_up = permanent or attempts >= MAX_SEND_ATTEMPTS
        self._failed(step_no=step_no, reason=reason, permanent=gives_up, at=now)
        if gives_up:
            self._move_on(step_no, now)
        elif self.is_active:
            self._scheduled(step_no=step_no, due_at=now + retry_backoff(attempts),
                            reason=f"retry {attempts + 1} after a transient failure")

    def pause(self, reason: str, now: datetime) -> bool:
        if self.status != ExecutionStatus.ACTIVE.value:
            return False
        self._paused(reason=reason, at=now)
        return True

    def cancel(self, reason: str, now: datetime) -> bool:
        if not self.is_live:
            return False
        self._cancelled(reason=reason, at=now)
        return True

    def _require_dispatched(self, step_no: int) -> None:
        if self.steps[step_no]["status"] != StepStatus.DISPATCHED.value:
            raise InvalidState("step", f"step {step_no} was not dispatched")

    def _move_on(self, step_no: int, now: datetime) -> None:
        if not self.is_active:
            return
        if step_no + 1 < len(self.steps):
            self._schedule(step_no + 1, now, "delay after previous step")
        else:
            self._completed(at=now)

    def _schedule(self, step_no: int, previous_at: datetime, reason: str) -> None:
        delay = self.steps[step_no]["delay_minutes"]
        self._scheduled(step_no=step_no, due_at=due_at(previous_at, delay),
                        reason=f"{reason} ({delay} min)")

    # Events ----------------------------------------------------------------

    @event(StepScheduled)
    def _scheduled(self, step_no: int, due_at: datetime, reason: str) -> None:
        self.current_step = step_no
        self.steps[step_no].update(status=StepStatus.SCHEDULED.value, due_at=due_at)

    @event(StepDispatched)
    def _dispatched(self, step_no: int, message_id: UUID, attempt: int, at: datetime) -> None:
        self.steps[step_no].update(status=StepStatus.DISPATCHED.value, attempts=attempt,
                                   message_id=message_id, dispatched_at=at)

    @event(StepSent)
    def _sent(self, step_no: int, message_id: UUID, sent_at: datetime) -> None:
        self.steps[step_no].update(status=StepStatus.SENT.value, sent_at=sent_at)

    @event(StepFailed)
    def _failed(self, step_no: int, reason: str, permanent: bool, at: datetime) -> None:
        self.steps[step_no].update(status=StepStatus.FAILED.value, failure=reason)

    @event(StepOutcomeUnknown)
    def _outcome_unknown(self, step_no: int, reason: str, at: datetime) -> None:
        self.steps[step_no].update(status=StepStatus.UNKNOWN.value, failure=reason)

    @event(Paused)
    def _paused(self, reason: str, at: datetime) -> None:
        self.status = ExecutionStatus.PAUSED.value
        self.status_reason = reason

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = ExecutionStatus.CANCELLED.value
        self.status_reason = reason
        self.completed_at = at

    @event(Completed)
    def _completed(self, at: datetime) -> None:
        self.status = ExecutionStatus.COMPLETED.value
        self.completed_at = at
