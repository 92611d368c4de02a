"""The WorkflowExecution aggregate: one lead going through one published workflow version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate, event

from domain.actors import upcast_no_actor
from domain.errors import InvalidState, InvalidValue
from domain.priority import URGENT
from domain.timing import (
    SMS_HOURS,
    SMS_QUIET,
    SendWindow,
    allowed_window,
    describe_delay,
    retry_backoff,
    schedule,
)

MAX_SEND_ATTEMPTS = 5
RESUME_POLICIES = ("shift", "skip_overdue")


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
    SKIPPED = "skipped"
    UNKNOWN = "unknown"  # the sender died during the provider call: it may or may not have gone


DONE = frozenset({StepStatus.SENT, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.UNKNOWN})
SPEC_KEYS = ("channel", "template_id", "delay_minutes", "conditions", "window")


@dataclass(slots=True)
class StepState:
    """One step of an execution: what the frozen version says of it (channel, template, delay,
    conditions, window) and how far it got. Only the execution's apply methods change it; the
    events carry the spec as plain data (``spec()``)."""

    channel: str
    template_id: str
    delay_minutes: int
    conditions: list[dict[str, Any]] = field(default_factory=list)
    window: dict[str, Any] | None = None
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    #: attempts allowed before the step is dead-lettered (a replay grants more)
    attempt_limit: int = MAX_SEND_ATTEMPTS
    due_at: datetime | None = None
    message_id: UUID | None = None
    dispatched_at: datetime | None = None
    sent_at: datetime | None = None
    failure: str | None = None  # why it failed, was skipped, or has no known outcome
    permanent: bool = False  # whether the last failure was for good

    @classmethod
    def fresh(cls, spec: dict[str, Any]) -> StepState:
        """The step as a version defines it, with nothing sent yet."""
        return cls(spec["channel"], spec["template_id"], spec["delay_minutes"],
                   spec.get("conditions") or [], spec.get("window"))

    def spec(self) -> dict[str, Any]:
        """What the version defines of the step, as the events carry it."""
        return {"channel": self.channel, "template_id": self.template_id,
                "delay_minutes": self.delay_minutes, "conditions": self.conditions,
                "window": self.window}


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
        timezone: str
        started_at: datetime

    class StepScheduled(Aggregate.Event):
        """``by``: who brought the step forward (send-now, ``domain.actors``); None for every
        schedule the execution makes itself."""
        TOPIC = "followup.execution.step_scheduled"
        class_version = 2
        step_no: int
        due_at: datetime
        reason: str
        priority: int  # see domain.priority: the lead's score, or URGENT for a first touch
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class StepDispatched(Aggregate.Event):
        TOPIC = "followup.execution.step_dispatched"
        step_no: int
        message_id: UUID
        attempt: int
        at: datetime

    class StepSent(Aggregate.Event):
        """The provider accepted the step. When the execution goes on, the next step's schedule
        rides on this event (``next_*``, what a ``StepScheduled`` would say), so a sent step costs
        one execution event, not two; all ``None`` when nothing follows (a ``Completed`` does, or
        the execution was paused or cancelled while the step was in flight)."""
        TOPIC = "followup.execution.step_sent"
        class_version = 2
        step_no: int
        message_id: UUID
        sent_at: datetime
        next_step: int | None
        next_due_at: datetime | None
        next_reason: str | None
        next_priority: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 carried no schedule: a ``StepScheduled`` followed it."""
            state.update(next_step=None, next_due_at=None, next_reason=None, next_priority=None)

    class StepFailed(Aggregate.Event):
        TOPIC = "followup.execution.step_failed"
        step_no: int
        reason: str
        permanent: bool
        at: datetime

    class StepSkipped(Aggregate.Event):
        """``by``: who skipped it by hand (``domain.actors``); None when the execution skipped
        it (an unmet condition, an opt-out, overdue when resumed)."""
        TOPIC = "followup.execution.step_skipped"
        class_version = 2
        step_no: int
        reason: str
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class StepOutcomeUnknown(Aggregate.Event):
        TOPIC = "followup.execution.step_outcome_unknown"
        step_no: int
        reason: str
        at: datetime

    class StepDeadLettered(Aggregate.Event):
        """Transient failures used up the step's attempts: the execution holds at this step
        until an agent replays it (or cancels or restarts the execution)."""
        TOPIC = "followup.execution.step_dead_lettered"
        step_no: int
        reason: str
        attempts: int
        at: datetime

    class DeadLetterReplayed(Aggregate.Event):
        """``by``: who replayed it (``domain.actors``)."""
        TOPIC = "followup.execution.dead_letter_replayed"
        class_version = 2
        step_no: int
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class StepHeld(Aggregate.Event):
        """The step fell due while its workflow was paused: it waits for the workflow's resume
        (recorded once per hold, however often the due index offers the step meanwhile)."""
        TOPIC = "followup.execution.step_held"
        step_no: int
        reason: str
        at: datetime

    class StepReleased(Aggregate.Event):
        """The paused workflow resumed: the held step falls due now (or at its send window's
        next opening). A schedule, as a ``StepScheduled`` is."""
        TOPIC = "followup.execution.step_released"
        step_no: int
        due_at: datetime
        reason: str
        priority: int

    class Paused(Aggregate.Event):
        """``by``: who paused it (``domain.actors``); None for a stopping status's pause."""
        TOPIC = "followup.execution.paused"
        class_version = 2
        reason: str
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Resumed(Aggregate.Event):
        """``by``: who resumed it (``domain.actors``), by hand or by reopening the lead."""
        TOPIC = "followup.execution.resumed"
        class_version = 2
        policy: str
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Migrated(Aggregate.Event):
        TOPIC = "followup.execution.migrated"
        workflow_version: int
        steps: list[dict[str, Any]]
        at: datetime

    class ZoneChanged(Aggregate.Event):
        """The lead's time zone changed: later schedules, windows and the SMS hours are
        reckoned in the new one (a step already scheduled keeps its due time)."""
        TOPIC = "followup.execution.zone_changed"
        timezone: str
        at: datetime

    class Restarted(Aggregate.Event):
        """``by``: who restarted it (``domain.actors``)."""
        TOPIC = "followup.execution.restarted"
        class_version = 2
        reason: str
        at: datetime
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Cancelled(Aggregate.Event):
        """``by``: who cancelled it (``domain.actors``)."""
        TOPIC = "followup.execution.cancelled"
        class_version = 2
        reason: str
        at: datetime
        in_flight: int | None  # a step dispatched and not yet settled, whose outcome may follow
        by: str | None
        upcast_v1_v2 = staticmethod(upcast_no_actor)

    class Completed(Aggregate.Event):
        TOPIC = "followup.execution.completed"
        at: datetime

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.execution.snapshot"

    @event(Created)
    def __init__(self, lead_id: UUID, workflow_id: UUID, workflow_version: int,
                 steps: list[dict[str, Any]], trigger: dict[str, Any], timezone: str,
                 started_at: datetime) -> None:
        self.lead_id = lead_id
        self.workflow_id = workflow_id
        self.workflow_version = workflow_version
        self.steps = _fresh(steps)
        self.trigger = trigger
        self.timezone = timezone
        self.started_at = started_at
        self.status = ExecutionStatus.ACTIVE.value
        self.current_step = 0
        self.round = 1
        self.completed_at: datetime | None = None
        self.status_reason: str | None = None
        self.paused_at: datetime | None = None
        self.dead_letter: int | None = None  # the step held for an agent's replay
        self.held_step: int | None = None  # the due step waiting for its paused workflow
        self.lead_score = int(trigger.get("new") or 0)  # as last seen: what priority follows

    @classmethod
    def start(cls, *, execution_id: UUID, lead_id: UUID, workflow_id: UUID,
              workflow_version: int, steps: list[dict[str, Any]], trigger: dict[str, Any],
              timezone: str, now: datetime, first_delay_minutes: int = 0) -> WorkflowExecution:
        """Start; step one falls due after the trigger's own delay (if any) plus its delay."""
        if not steps:
            raise InvalidState("steps", "a workflow version without steps cannot start")
        execution = cls(id=execution_id, lead_id=lead_id,  # type: ignore[call-arg]
                        workflow_id=workflow_id, workflow_version=workflow_version, steps=steps,
                        trigger=trigger, timezone=timezone, started_at=now)
        live_crossing = trigger.get("kind") in ("score", "registration")
        execution._schedule(0, now, extra_minutes=first_delay_minutes,
                            prefix="delayed trigger, " if first_delay_minutes else "",
                            priority=URGENT if live_crossing else None)
        return execution

    # Queries ---------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.status == ExecutionStatus.ACTIVE.value

    @property
    def is_live(self) -> bool:
        """Active or paused: it still holds the lead's place in its workflow."""
        return self.status in (ExecutionStatus.ACTIVE.value, ExecutionStatus.PAUSED.value)

    def step(self, step_no: int) -> StepState:
        return self.steps[step_no]

    def due_step(self, now: datetime) -> int | None:
        """The step to send now, if any: active, scheduled and due."""
        if not self.is_active:
            return None
        step = self.steps[self.current_step]
        if step.status == StepStatus.SCHEDULED and step.due_at is not None and step.due_at <= now:
            return self.current_step
        return None

    def stale_dispatch(self, now: datetime, timeout: timedelta) -> int | None:
        """The step dispatched longer than ``timeout`` ago with no outcome: its sender died."""
        step = self.steps[self.current_step]
        if (step.status == StepStatus.DISPATCHED and step.dispatched_at is not None
                and step.dispatched_at + timeout <= now):
            return self.current_step
        return None

    def next_due_at(self) -> datetime | None:
        if not self.is_active:
            return None
        step = self.steps[self.current_step]
        return step.due_at if step.status == StepStatus.SCHEDULED else None

    def earlier_message(self, step_no: int, channel: str) -> UUID | None:
        """The message of the nearest earlier step on ``channel`` that was sent."""
        for i in range(step_no - 1, -1, -1):
            step = self.steps[i]
            if step.channel == channel and step.status == StepStatus.SENT:
                return step.message_id
        return None

    # Sending ---------------------------------------------------------------

    def dispatch(self, step_no: int, message_id: UUID, now: datetime) -> int:
        """Claim a due step before talking to a provider; returns the attempt number."""
        if self.due_step(now) != step_no:
            raise InvalidState("step", f"step {step_no + 1} is not due")
        self._refuse_quiet_hours(step_no, now)
        attempt = self.steps[step_no].attempts + 1
        self._dispatched(step_no=step_no, message_id=message_id, attempt=attempt, at=now)
        return attempt

    def redispatch(self, step_no: int, now: datetime, timeout: timedelta) -> int:
        """Try a stale dispatch again: only for channels where a repeat cannot duplicate."""
        if self.stale_dispatch(now, timeout) != step_no or not self.is_active:
            raise InvalidState("step", f"step {step_no + 1} is not a stale dispatch")
        self._refuse_quiet_hours(step_no, now)
        step = self.steps[step_no]
        assert step.message_id is not None  # a dispatched step has its message
        self._dispatched(step_no=step_no, message_id=step.message_id, attempt=step.attempts + 1,
                         at=now)
        return step.attempts

    def in_quiet_hours(self, step_no: int, now: datetime) -> bool:
        """Is ``step_no`` a text message, and ``now`` outside the hours one may go out (in the
        lead's time zone)?"""
        return (self.steps[step_no].channel == "sms"
                and not SMS_HOURS.contains(now, ZoneInfo(self.timezone)))

    def defer_quiet_hours(self, step_no: int, now: datetime) -> bool:
        """At send time: a text due now (or in flight and stale) in quiet hours, scheduled long
        ago under other rules or reached late, is moved to its window's next opening instead
        of being sent. Returns whether it was moved."""
        if not self.in_quiet_hours(step_no, now):
            return False
        waiting = (StepStatus.SCHEDULED, StepStatus.DISPATCHED)
        if (not self.is_active or step_no != self.current_step
                or self.steps[step_no].status not in waiting):
            raise InvalidState("step", f"step {step_no + 1} is not waiting to be sent")
        due = (self._window(step_no) or SMS_HOURS).next_open(now, ZoneInfo(self.timezone))
        self._scheduled(step_no=step_no, due_at=due,
                        reason=f"not sent at {self._local(now)} ({SMS_QUIET}), moved to "
                               f"{self._local(due)}", priority=self.lead_score)
        return True

    def record_unknown_outcome(self, step_no: int, reason: str, now: datetime,
                               timeout: timedelta, score: int | None = None) -> None:
        """Give up a stale dispatch whose send may have happened; never send it twice."""
        if self.stale_dispatch(now, timeout) != step_no:
            raise InvalidState("step", f"step {step_no + 1} is not a stale dispatch")
        self._outcome_unknown(step_no=step_no, reason=reason, at=now)
        self._move_on(step_no, now, score)

    def record_sent(self, step_no: int, message_id: UUID, now: datetime,
                    score: int | None = None) -> None:
        """The provider accepted the step; ``score`` (the lead's, now) ranks the next one."""
        self._require(step_no, StepStatus.DISPATCHED)
        self._require_message(step_no, message_id)
        more = self.is_active and step_no + 1 < len(self.steps)
        plan = self._plan(step_no + 1, now, priority=score) if more else {}
        self._sent(step_no=step_no, message_id=message_id, sent_at=now,
                   next_step=plan.get("step_no"), next_due_at=plan.get("due_at"),
                   next_reason=plan.get("reason"), next_priority=plan.get("priority"))
        if self.is_active and not more:
            self._completed(at=now)

    def record_failure(self, step_no: int, reason: str, permanent: bool, now: datetime,
                       score: int | None = None) -> None:
        """A send failed. A permanent failure gives the step up and moves on; a transient one is
        retried with backoff until the step's attempts are used up, and then dead-lettered: the
        execution holds at the step until an agent replays it."""
        self._require(step_no, StepStatus.DISPATCHED)
        step = self.steps[step_no]
        attempts, limit = step.attempts, step.attempt_limit
        tries = attempts - (limit - MAX_SEND_ATTEMPTS)  # since the last replay, if any
        self._failed(step_no=step_no, reason=reason, permanent=permanent, at=now)
        if permanent:
            self._move_on(step_no, now, score)
        elif attempts >= limit:
            if self.is_live:
                self._dead_lettered(step_no=step_no, reason=reason, attempts=tries, at=now)
        elif self.is_active:
            self._retry(step_no, now + retry_backoff(tries),
                        f"retry {tries + 1} after a transient failure", score)

    def replay(self, now: datetime, *, by: str | None = None) -> int:
        """Send the dead-lettered step again, with a fresh set of attempts; returns its number."""
        if self.dead_letter is None:
            raise InvalidState("status", f"execution is {self.status} with no dead-lettered step")
        step_no = self.dead_letter
        self._replayed(step_no=step_no, at=now, by=by)
        self._retry(step_no, now, "replayed from the dead-letter list")
        return step_no

    def skip(self, step_no: int, reason: str, now: datetime, score: int | None = None, *,
             by: str | None = None) -> None:
        """Skip the scheduled step (an agent's choice, ``by`` them; an unmet condition, an
        opt-out)."""
        if not self.is_live:
            raise InvalidState("status", f"the execution is {self.status}")
        self._require(step_no, StepStatus.SCHEDULED)
        if step_no != self.current_step:
            raise InvalidState("step", f"step {step_no + 1} is not the next step")
        self._skipped(step_no=step_no, reason=reason, at=now, by=by)
        self._move_on(step_no, now, score)

    def send_now(self, now: datetime, *, by: str | None = None) -> int:
        """Bring the scheduled step forward to now (an agent's override of delay and window).
        A text in quiet hours goes at the next opening of the hours instead."""
        if not self.is_active:
            raise InvalidState("status", f"execution is {self.status}")
        self._require(self.current_step, StepStatus.SCHEDULED)
        due, reason = now, "sent now by the agent"
        own = self.steps[self.current_step].window
        if self.in_quiet_hours(self.current_step, now):
            due = SMS_HOURS.next_open(now, ZoneInfo(self.timezone))
            reason += f", moved to {self._local(due)} ({SMS_QUIET})"
        elif own and not SendWindow.from_dict(own).contains(now, ZoneInfo(self.timezone)):
            reason += f", bypassing its send window {own['start']}-{own['end']}"
        self._scheduled(step_no=self.current_step, due_at=due, reason=reason,
                        priority=self.lead_score, by=by)
        return self.current_step

    def hold(self, step_no: int, reason: str, now: datetime) -> bool:
        """Record that the due step waits for its paused workflow; False (nothing recorded)
        when it already says so."""
        if self.due_step(now) != step_no:
            raise InvalidState("step", f"step {step_no + 1} is not due")
        if self.held_step == step_no:
            return False
        self._held(step_no=step_no, reason=reason, at=now)
        return True

    def release(self, now: datetime) -> bool:
        """The workflow resumed: a held step falls due at once (or at its send window's next
        opening); False (nothing recorded) when no step is held."""
        step_no = self.held_step
        if step_no is None or not self.is_active:
            return False
        window = self._window(step_no)
        due = window.next_open(now, ZoneInfo(self.timezone)) if window else now
        moved = "" if due == now else ", moved to its send window"
        self._released(step_no=step_no, due_at=due, reason="the workflow resumed" + moved,
                       priority=self.lead_score)
        return True

    # Lifecycle -------------------------------------------------------------

    def pause(self, reason: str, now: datetime, *, by: str | None = None) -> bool:
        if self.status != ExecutionStatus.ACTIVE.value:
            return False
        self._paused(reason=reason, at=now, by=by)
        return True

    def resume(self, policy: str, now: datetime, *, by: str | None = None) -> None:
        """Resume; overdue steps are shifted by the time spent paused, or skipped."""
        if policy not in RESUME_POLICIES:
            raise InvalidValue("policy", f"use one of {', '.join(RESUME_POLICIES)}")
        if self.status != ExecutionStatus.PAUSED.value:
            raise InvalidState("status", f"execution is {self.status}, not paused")
        if self.dead_letter is not None:
            raise InvalidState("status", f"step {self.dead_letter + 1} is dead-lettered: replay "
                                         "it, or cancel or restart the execution")
        paused_at = self.paused_at or now
        self._resumed(policy=policy, at=now, by=by)
        step = self.steps[self.current_step]
        if step.status == StepStatus.FAILED and not step.permanent:
            self._retry(self.current_step, now, "retry after resuming (it failed while paused)")
        elif step.status in DONE:
            self._move_on(self.current_step, now)
        elif step.status == StepStatus.SCHEDULED and step.due_at is not None:
            due = step.due_at
            if policy == "skip_overdue" and due <= now:
                self._skipped(step_no=self.current_step, reason="overdue when resumed", at=now)
                self._move_on(self.current_step, now)
            elif policy == "shift":
                shifted = max(now, due + (now - paused_at))
                self._retry(self.current_step, shifted,
                            f"shifted by {_span(now - paused_at)} spent paused")

    def move_blocked(self, steps: list[dict[str, Any]]) -> str | None:
        """Why this execution could not follow a version of ``steps`` (``None``: it could)."""
        if len(steps) <= self.current_step:
            return (f"it has reached step {self.current_step + 1} and the new version has "
                    f"{len(steps)} step{'' if len(steps) == 1 else 's'}")
        return None

    def migrate(self, workflow_version: int, steps: list[dict[str, Any]], now: datetime) -> bool:
        """Follow a newer version from the next step on; the current step is kept."""
        if not self.is_live or workflow_version <= self.workflow_version:
            return False
        blocked = self.move_blocked(steps)
        if blocked is not None:
            raise InvalidState("steps", blocked)
        self._migrated(workflow_version=workflow_version, steps=steps, at=now)
        return True

    def follow_zone(self, timezone: str, now: datetime) -> bool:
        """Follow the lead into another time zone, while the execution is live."""
        if not self.is_live or timezone == self.timezone:
            return False
        self._zone_changed(timezone=timezone, at=now)
        return True

    def restart(self, reason: str, now: datetime, *, by: str | None = None) -> None:
        """Start again from step one (a new round: new message ids), whatever state it is in."""
        self._restarted(reason=reason, at=now, by=by)
        self._schedule(0, now, prefix="restarted, ")

    def cancel(self, reason: str, now: datetime, *, by: str | None = None) -> bool:
        if not self.is_live:
            return False
        current = self.steps[self.current_step]
        in_flight = self.current_step if current.status == StepStatus.DISPATCHED else None
        self._cancelled(reason=reason, at=now, in_flight=in_flight, by=by)
        return True

    # Internals -------------------------------------------------------------

    def _require(self, step_no: int, status: StepStatus) -> None:
        if not 0 <= step_no < len(self.steps):
            raise InvalidValue("step", f"no step {step_no + 1}")
        if self.steps[step_no].status != status:
            raise InvalidState("step", f"step {step_no + 1} is {self.steps[step_no].status}, "
                                       f"not {status}")

    def _require_message(self, step_no: int, message_id: UUID) -> None:
        if self.steps[step_no].message_id != message_id:
            raise InvalidState("message", f"{message_id} is not step {step_no + 1}'s message")

    def _retry(self, step_no: int, earliest: datetime, reason: str,
               score: int | None = None) -> None:
        """Schedule ``step_no`` again at ``earliest``, or its send window's next opening."""
        window = self._window(step_no)
        due = window.next_open(earliest, ZoneInfo(self.timezone)) if window else earliest
        moved = "" if due == earliest else ", moved to its send window"
        self._scheduled(step_no=step_no, due_at=due, reason=reason + moved,
                        priority=self.lead_score if score is None else score)

    def _window(self, step_no: int) -> SendWindow | None:
        """The step's frozen window; for a text, only its part inside the SMS hours."""
        step = self.steps[step_no]
        raw = step.window
        return allowed_window(step.channel, SendWindow.from_dict(raw) if raw else None)

    def _refuse_quiet_hours(self, step_no: int, now: datetime) -> None:
        if self.in_quiet_hours(step_no, now):
            raise InvalidState("step", f"step {step_no + 1} is a text and it is "
                                       f"{self._local(now)}: {SMS_QUIET}")

    def _local(self, at: datetime) -> str:
        """``at`` by the lead's wall clock, for a reason: 08:00 Wed 25 Nov America/New_York."""
        return f"{at.astimezone(ZoneInfo(self.timezone)):%H:%M %a %d %b} {self.timezone}"

    def _move_on(self, step_no: int, now: datetime, score: int | None = None) -> None:
        if not self.is_active:
            return
        if step_no + 1 < len(self.steps):
            self._schedule(step_no + 1, now, priority=score)
        else:
            self._completed(at=now)

    def _schedule(self, step_no: int, previous_at: datetime, *, extra_minutes: int = 0,
                  prefix: str = "", priority: int | None = None) -> None:
        self._scheduled(**self._plan(step_no, previous_at, extra_minutes=extra_minutes,
                                     prefix=prefix, priority=priority))

    def _plan(self, step_no: int, previous_at: datetime, *, extra_minutes: int = 0,
              prefix: str = "", priority: int | None = None) -> dict[str, Any]:
        """When ``step_no`` falls due after ``previous_at``, why, and at what priority."""
        step = self.steps[step_no]
        due = schedule(previous_at, step.delay_minutes + extra_minutes, self._window(step_no),
                       self.timezone, after="the start" if step_no == 0 else "the previous step")
        return {"step_no": step_no, "due_at": due.at, "reason": prefix + due.reason,
                "priority": self.lead_score if priority is None else priority}

    # Events ----------------------------------------------------------------

    @event(StepScheduled)
    def _scheduled(self, step_no: int, due_at: datetime, reason: str, priority: int,
                   by: str | None = None) -> None:
        self._set_due(step_no, due_at, priority)

    def _set_due(self, step_no: int, due_at: datetime, priority: int) -> None:
        if priority < URGENT:
            self.lead_score = priority
        self.current_step = step_no
        self.held_step = None
        step = self.steps[step_no]
        step.status = StepStatus.SCHEDULED
        step.due_at = due_at

    @event(StepDispatched)
    def _dispatched(self, step_no: int, message_id: UUID, attempt: int, at: datetime) -> None:
        self.held_step = None
        step = self.steps[step_no]
        step.status = StepStatus.DISPATCHED
        step.attempts = attempt
        step.message_id = message_id
        step.dispatched_at = at

    @event(StepSent)
    def _sent(self, step_no: int, message_id: UUID, sent_at: datetime, next_step: int | None,
              next_due_at: datetime | None, next_reason: str | None,
              next_priority: int | None) -> None:
        step = self.steps[step_no]
        step.status = StepStatus.SENT
        step.sent_at = sent_at
        if next_step is not None and next_due_at is not None and next_priority is not None:
            self._set_due(next_step, next_due_at, next_priority)

    @event(StepFailed)
    def _failed(self, step_no: int, reason: str, permanent: bool, at: datetime) -> None:
        step = self.steps[step_no]
        step.status = StepStatus.FAILED
        step.failure = reason
        step.permanent = permanent

    @event(StepSkipped)
    def _skipped(self, step_no: int, reason: str, at: datetime, by: str | None = None) -> None:
        self.held_step = None
        step = self.steps[step_no]
        step.status = StepStatus.SKIPPED
        step.failure = reason

    @event(StepOutcomeUnknown)
    def _outcome_unknown(self, step_no: int, reason: str, at: datetime) -> None:
        step = self.steps[step_no]
        step.status = StepStatus.UNKNOWN
        step.failure = reason

    @event(StepDeadLettered)
    def _dead_lettered(self, step_no: int, reason: str, attempts: int, at: datetime) -> None:
        self.status = ExecutionStatus.PAUSED.value
        self.status_reason = f"step {step_no + 1} dead-lettered after {attempts} attempts: {reason}"
        self.paused_at = at
        self.dead_letter = step_no

    @event(DeadLetterReplayed)
    def _replayed(self, step_no: int, at: datetime, by: str | None) -> None:
        self.status = ExecutionStatus.ACTIVE.value
        self.status_reason = None
        self.paused_at = None
        self.dead_letter = None
        step = self.steps[step_no]
        step.attempt_limit = step.attempts + MAX_SEND_ATTEMPTS

    @event(StepHeld)
    def _held(self, step_no: int, reason: str, at: datetime) -> None:
        self.held_step = step_no

    @event(StepReleased)
    def _released(self, step_no: int, due_at: datetime, reason: str, priority: int) -> None:
        self._set_due(step_no, due_at, priority)

    @event(Paused)
    def _paused(self, reason: str, at: datetime, by: str | None) -> None:
        self.held_step = None
        self.status = ExecutionStatus.PAUSED.value
        self.status_reason = reason
        self.paused_at = at

    @event(Resumed)
    def _resumed(self, policy: str, at: datetime, by: str | None) -> None:
        self.status = ExecutionStatus.ACTIVE.value
        self.status_reason = None
        self.paused_at = None

    @event(Migrated)
    def _migrated(self, workflow_version: int, steps: list[dict[str, Any]], at: datetime) -> None:
        self.workflow_version = workflow_version
        self.steps = self.steps[:self.current_step + 1] + _fresh(steps[self.current_step + 1:])

    @event(ZoneChanged)
    def _zone_changed(self, timezone: str, at: datetime) -> None:
        self.timezone = timezone

    @event(Restarted)
    def _restarted(self, reason: str, at: datetime, by: str | None) -> None:
        self.steps = [StepState.fresh(s.spec()) for s in self.steps]
        self.round += 1
        self.status = ExecutionStatus.ACTIVE.value
        self.status_reason = None
        self.completed_at = None
        self.paused_at = None
        self.dead_letter = None
        self.held_step = None
        self.current_step = 0

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime, in_flight: int | None,
                   by: str | None) -> None:
        self.dead_letter = None
        self.held_step = None
        self.status = ExecutionStatus.CANCELLED.value
        self.status_reason = reason
        self.completed_at = at

    @event(Completed)
    def _completed(self, at: datetime) -> None:
        self.status = ExecutionStatus.COMPLETED.value
        self.completed_at = at


def _fresh(steps: list[dict[str, Any]]) -> list[StepState]:
    """Steps as a version defines them, with nothing sent yet."""
    return [StepState.fresh(s) for s in steps]


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return describe_delay(minutes) if minutes else "under a minute"
