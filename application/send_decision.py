"""What the sender does with an execution now: send its due step, skip it, hold it, move a text
out of quiet hours, or resolve a dispatch whose sender died. Decided on the aggregates, unsaved."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from application.app import FollowUp
from application.errors import MissingValue, NotFound
from application.ports import ChannelSender
from domain import ids
from domain.conditions import Engagement, skip_reason
from domain.execution import StepState, WorkflowExecution
from domain.lead import Lead
from domain.message import Message
from domain.workflow import PublishedWorkflows

log = logging.getLogger(__name__)

#: A message's subject (None for channels without one) and body.
Content = tuple[str | None, str]

HELD = "the workflow is paused"
UNKNOWN = "the sender stopped during the provider call; the message may or may not have gone"


class Outcome(StrEnum):
    """What a send of an execution's due step came to (as logs and tests read it)."""

    SEND = "send"  # decided: the step is claimed and goes to the provider
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"  # its workflow is paused
    SKIPPED = "skipped"
    QUIET_HOURS = "quiet-hours"  # a text moved to the next opening of the SMS hours
    NOT_DUE = "not-due"
    UNKNOWN = "unknown"  # no such execution, or a dispatch whose sender died mid-call
    CLAIMED_ELSEWHERE = "claimed-elsewhere"
    DEFERRED = "deferred"  # the batch ran out of time: due again when its lease ends


@dataclass
class Prepared:
    """An execution with its due step decided: to send, skipped, or of unknown outcome.
    ``message`` is the step's message if an earlier attempt recorded one; ``at`` is when the
    step was dispatched."""

    execution: WorkflowExecution
    message: Message | None
    message_id: UUID
    step_no: int
    lead: Lead
    outcome: Outcome
    at: datetime
    #: The subject and body, when they were rendered as the step was claimed
    content: Content | None = None
    #: Why the step could not be rendered as it was claimed (the send then fails for good)
    render_failure: str | None = None

    @property
    def step(self) -> StepState:
        return self.execution.step(self.step_no)

    @property
    def channel(self) -> str:
        return self.step.channel

    @property
    def aggregates(self) -> list[Any]:
        return [a for a in (self.message, self.execution) if a is not None]

    def message_identity(self) -> dict[str, Any]:
        """What a new message of this step is created with, whatever its first outcome."""
        step = self.step
        return {"message_id": self.message_id, "execution_id": self.execution.id,
                "lead_id": self.execution.lead_id, "step_no": self.step_no,
                "channel": step.channel, "template_id": step.template_id}

    def queued(self) -> Message:
        """The step's message, recorded now as queued if no attempt recorded it before."""
        if self.message is None:
            self.message = Message.queue(**self.message_identity(), now=self.at)
        return self.message


class StepDecider:
    """Reloads an execution and decides, by its rules and the lead's, what becomes of its step.
    ``content`` renders a step for a lead before the claim (None if it cannot render)."""

    def __init__(self, app: FollowUp, channels: Mapping[str, ChannelSender],
                 content: Callable[[WorkflowExecution, int, Lead], Content | str | None],
                 dispatch_timeout: timedelta) -> None:
        self.app = app
        self.channels = channels
        self.content = content
        self.dispatch_timeout = dispatch_timeout

    def prepare(self, execution_id: UUID, now: datetime, catalog: PublishedWorkflows,
                loaded: WorkflowExecution | None = None,
                leads: Mapping[UUID, Lead] | None = None) -> Prepared | Outcome:
        """Decide what to do with the execution now and record it on the aggregates (unsaved).
        ``loaded`` and ``leads`` are what a batch read already (a missing one is read here)."""
        if loaded is None:
            try:
                loaded = self.app.load(WorkflowExecution, execution_id)
            except NotFound:
                return Outcome.UNKNOWN
        step_no = loaded.due_step(now)
        if step_no is None:
            return self.recover(loaded, now)
        return self._due(loaded, step_no, now, catalog, leads or {})

    def _due(self, execution: WorkflowExecution, step_no: int, now: datetime,
             catalog: PublishedWorkflows, leads: Mapping[UUID, Lead]) -> Prepared | Outcome:
        held = catalog.is_held(execution.workflow_id)
        # The workflow is paused: the step waits, and says so once; the resume releases it (the
        # index offers it again after the lease meanwhile)
        if held and not execution.hold(step_no, HELD, now):
            return Outcome.HELD
        lead = leads.get(execution.lead_id) or self.app.load(Lead, execution.lead_id)
        message_id = ids.message_id(execution.id, step_no, execution.workflow_version,
                                    execution.round)

        def decided(outcome: Outcome, content: Content | str | None = None) -> Prepared:
            message = None
            if outcome == Outcome.SEND and execution.step(step_no).attempts:
                # A retry after a failed attempt finds the message and adds its new outcome
                message = self.message(message_id)
            if isinstance(content, str):  # why it cannot render
                return Prepared(execution, message, message_id, step_no, lead, outcome, now,
                                render_failure=content)
            return Prepared(execution, message, message_id, step_no, lead, outcome, now, content)

        if held:
            return decided(Outcome.HELD)
        if execution.defer_quiet_hours(step_no, now):  # a text is never sent 21:00-08:00
            return decided(Outcome.QUIET_HOURS)
        skip = self.skip_reason(execution, step_no, lead)
        try:
            content = None if skip else self.content(execution, step_no, lead)
        except MissingValue as e:  # the lead lacks a value the template prints without default
            skip = e.reason
        if skip is not None:
            execution.skip(step_no, skip, now, score=lead.score)
            return decided(Outcome.SKIPPED)
        # The claim is the execution's StepDispatched; the message is recorded with its outcome
        prepared = decided(Outcome.SEND, content)
        execution.dispatch(step_no, message_id, now)
        return prepared

    def skip_reason(self, execution: WorkflowExecution, step_no: int, lead: Lead) -> str | None:
        """Evaluate the step's conditions and the lead's consent at send time."""
        step = execution.step(step_no)
        kinds = {c["kind"] for c in step.conditions}
        email = (execution.earlier_message(step_no, "email")
                 if "previous_email_not_opened" in kinds else None)
        in_app = (execution.earlier_message(step_no, "in_app")
                  if "in_app_not_read" in kinds else None)
        facts = Engagement(
            score=lead.score, opted_out=frozenset(lead.opted_out),
            previous_email_opened=self.app.load(Message, email).opened if email else None,
            in_app_read=self.app.load(Message, in_app).read if in_app else None)
        return skip_reason(step.spec(), facts)

    def recover(self, execution: WorkflowExecution, now: datetime) -> Prepared | Outcome:
        """A dispatch whose sender died: try again where a repeat cannot duplicate, else say so."""
        step_no = execution.stale_dispatch(now, self.dispatch_timeout)
        if step_no is None:
            return Outcome.NOT_DUE
        step = execution.step(step_no)
        assert step.message_id is not None and step.dispatched_at is not None
        lead = self.app.load(Lead, execution.lead_id)
        p = Prepared(execution, self.message(step.message_id), step.message_id, step_no, lead,
                     Outcome.SEND, step.dispatched_at)
        if self.channels[p.channel].idempotent and execution.is_active:
            if execution.defer_quiet_hours(step_no, now):  # sent again later, never at night
                p.outcome = Outcome.QUIET_HOURS
                return p
            execution.redispatch(step_no, now, self.dispatch_timeout)
            log.warning("step %s of %s: stale dispatch, sending again", step_no + 1,
                        execution.id)
            return p
        p.queued().mark_unknown(UNKNOWN, now)
        execution.record_unknown_outcome(step_no, UNKNOWN, now, self.dispatch_timeout,
                                         score=lead.score)
        log.warning("step %s of %s: stale dispatch, outcome unknown", step_no + 1,
                    execution.id)
        p.outcome = Outcome.UNKNOWN
        return p

    def message(self, message_id: UUID) -> Message | None:
        """The step's message if an earlier attempt recorded one."""
        return self.app.load(Message, message_id) if self.app.exists(message_id) else None
