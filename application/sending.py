"""Sending a due step: reload, re-check, claim in the log, render, send, record, schedule next."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.app import FollowUp
from application.errors import Invalid, NotFound, PermanentSendError, SendError
from application.ports import ChannelSender, OutgoingMessage
from domain import ids
from domain.conditions import Engagement, skip_reason
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message
from domain.personalisation import context_for

log = logging.getLogger(__name__)

RECORD_RETRIES = 8
#: A dispatch with no outcome after this long means its sender died (sends time out far sooner).
DISPATCH_TIMEOUT = timedelta(minutes=2)
UNKNOWN = "the sender stopped during the provider call; the message may or may not have gone"


class StepSender:
    """Safe to call any number of times for the same execution: only a due step is claimed."""

    def __init__(self, app: FollowUp, channels: Mapping[str, ChannelSender], *,
                 dispatch_timeout: timedelta = DISPATCH_TIMEOUT) -> None:
        self.app = app
        self.channels = channels
        self.dispatch_timeout = dispatch_timeout

    def send_due(self, execution_id: UUID) -> str:
        """Send the execution's due step if there is one; returns what happened."""
        claimed = self._claim(execution_id)
        if isinstance(claimed, str):
            return claimed
        execution, message, step_no = claimed
        try:
            outgoing = self._render(execution, message, step_no)
            provider_id = self.channels[message.channel].send(outgoing)
        except SendError as e:
            permanent = isinstance(e, PermanentSendError)
            self._record(execution_id, message.id, step_no, failure=(str(e), permanent))
            log.info("step %s of %s failed (permanent=%s)", step_no, execution_id, permanent)
            return "failed"
        self._record(execution_id, message.id, step_no, sent=(provider_id, outgoing))
        log.info("step %s of %s sent as %s", step_no, execution_id, message.id)
        return "sent"

    def _claim(self, execution_id: UUID) -> tuple[WorkflowExecution, Message, int] | str:
        try:
            execution = self.app.execution(execution_id)
        except NotFound:
            return "unknown"
        now = self.app.clock.now()
        step_no = execution.due_step(now)
        if step_no is None:
            return self._recover(execution, now)
        if self.app.catalog().is_held(execution.workflow_id):
            return "held"  # the workflow is paused: the index offers it again after the lease
        step = execution.step(step_no)
        skip = self._skip_reason(execution, step_no)
        if skip is not None:
            execution.skip(step_no, skip, now)
            try:
                self.app.save(execution)
            except IntegrityError:
                return "claimed-elsewhere"
            return "skipped"
        message_id = ids.message_id(execution.id, step_no, execution.workflow_version,
                                    execution.round)
        if self.app.exists(message_id):
            message = self.app.message(message_id)
        else:
            message = Message.queue(message_id=message_id, execution_id=execution.id,
                                    lead_id=execution.lead_id, step_no=step_no,
                                    channel=step["channel"], template_id=step["template_id"],
                                    now=now)
        execution.dispatch(step_no, message_id, now)
        try:
            self.app.save(message, execution)
        except IntegrityError:
            return "claimed-elsewhere"
        return execution, message, step_no

    def _skip_reason(self, execution: WorkflowExecution, step_no: int) -> str | None:
        """Evaluate the step's conditions and the lead's consent at send time."""
        lead = self.app.lead(execution.lead_id)
        email = execution.earlier_message(step_no, "email")
        in_app = execution.earlier_message(step_no, "in_app")
        facts = Engagement(
            score=lead.score, opted_out=frozenset(lead.opted_out),
            previous_email_opened=self.app.message(email).opened if email else None,
            in_app_read=self.app.message(in_app).read if in_app else None)
        return skip_reason(execution.step(step_no), facts)

    def _recover(self, execution: WorkflowExecution,
                 now: datetime) -> tuple[WorkflowExecution, Message, int] | str:
        """A dispatch whose sender died: try again where a repeat cannot duplicate, else say so."""
        step_no = execution.stale_dispatch(now, self.dispatch_timeout)
        if step_no is None:
            return "not-due"
        message = self.app.message(execution.step(step_no)["message_id"])
        if self.channels[message.channel].idempotent and execution.is_active:
            execution.redispatch(step_no, now, self.dispatch_timeout)
            outcome: tuple[WorkflowExecution, Message, int] | str = (execution, message, step_no)
        else:
            message.mark_unknown(UNKNOWN, now)
            execution.record_unknown_outcome(step_no, UNKNOWN, now, self.dispatch_timeout)
            outcome = "unknown"
        try:
            self.app.save(message, execution)
        except IntegrityError:
            return "claimed-elsewhere"
        log.warning("step %s of %s: stale dispatch, %s", step_no, execution.id,
                    "sending again" if outcome != "unknown" else "outcome unknown")
        return outcome

    def _render(self, execution: WorkflowExecution, message: Message,
                step_no: int) -> OutgoingMessage:
        lead = self.app.lead(execution.lead_id)
        template = self.app.template(UUID(message.template_id))
        renderer = self.app.renderer
        assert renderer is not None
        context = context_for(lead)
        try:
            subject = renderer.render(template.subject, context) if template.subject else None
            body = renderer.render(template.body, context)
        except Invalid as e:
            raise PermanentSendError(f"template {template.id} cannot render: {e}") from e
        return OutgoingMessage(message_id=message.id, lead_id=lead.id, channel=message.channel,
                               recipient=self._recipient(lead, message.channel),
                               subject=subject, body=body)

    @staticmethod
    def _recipient(lead: Lead, channel: str) -> str:
        address = {"email": lead.email, "sms": lead.phone, "in_app": str(lead.id)}[channel]
        if not address:
            raise PermanentSendError(f"lead has no {channel} address")
        return address

    def _record(self, execution_id: UUID, message_id: UUID, step_no: int, *,
                sent: tuple[str, OutgoingMessage] | None = None,
                failure: tuple[str, bool] | None = None) -> None:
        for _ in range(RECORD_RETRIES):
            execution = self.app.execution(execution_id)
            message = self.app.message(message_id)
            now = self.app.clock.now()
            if sent is not None:
                provider_id, out = sent
                message.mark_sent(provider_id, out.recipient, out.subject, out.body, now)
                execution.record_sent(step_no, message_id, now)
            elif failure is not None:
                reason, permanent = failure
                message.mark_failed(reason, permanent, now)
                execution.record_failure(step_no, reason, permanent, now)
            try:
                self.app.save(message, execution)
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record the outcome of step {step_no} of {execution_id}")
