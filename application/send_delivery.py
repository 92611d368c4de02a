"""Delivering a claimed step: its template rendered for the lead, the provider called, and the
outcome recorded on the execution and the step's message (unsaved)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.app import FollowUp
from application.errors import Invalid, MissingValue, NotFound, PermanentSendError, SendError
from application.ports import ChannelSender, OutgoingMessage
from application.send_decision import Content, Prepared
from domain.errors import InvalidValue
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message
from domain.personalisation import context_for
from domain.template import Revision, Template
from domain.workflow import Workflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    provider_id: str | None
    outgoing: OutgoingMessage | None
    failure: str | None
    permanent: bool


class Delivery:
    """Renders and sends; keeps the templates it read (their revisions never change) and what
    each published version pins."""

    def __init__(self, app: FollowUp, channels: Mapping[str, ChannelSender]) -> None:
        self.app = app
        self.channels = channels
        self.templates: dict[UUID, Template] = {}
        self.versions: dict[tuple[UUID, int], dict[str, Any]] = {}

    def deliver(self, p: Prepared) -> Result:
        if p.execution.in_quiet_hours(p.step_no, self.app.clock.now()):
            # claimed just before 21:00 and reached after it: retried at the next opening
            return Result(None, None, "quiet hours began before the text went", False)
        try:
            outgoing = self.render(p)
            provider_id = self.channels[p.channel].send(outgoing)
        except SendError as e:
            permanent = isinstance(e, PermanentSendError)
            log.info("step %s of %s failed (permanent=%s)", p.step_no + 1, p.execution.id,
                     permanent)
            return Result(None, None, str(e), permanent)
        log.info("step %s of %s sent as %s", p.step_no + 1, p.execution.id, p.message_id)
        return Result(provider_id, outgoing, None, False)

    def content(self, execution: WorkflowExecution, step_no: int,
                lead: Lead) -> Content | str | None:
        """The step's subject and body for the lead, rendered before the claim, or why they
        cannot be (the send then fails for good with that reason, without rendering again);
        None when the template cannot be read (its send meets that as before). A value the
        lead lacks raises ``MissingValue``."""
        try:
            template_id, revision = self.revision(execution, step_no)
        except NotFound:
            return None
        try:
            return self.rendered(revision, lead)
        except MissingValue:
            raise
        except Invalid as e:
            return f"template {template_id} cannot render: {e}"

    def rendered(self, revision: Revision, lead: Lead) -> Content:
        renderer = self.app.renderer
        assert renderer is not None
        context = context_for(lead)
        subject = renderer.render(revision.subject, context) if revision.subject else None
        return subject, renderer.render(revision.body, context)

    def render(self, p: Prepared) -> OutgoingMessage:
        lead = p.lead
        if p.render_failure is not None:
            raise PermanentSendError(p.render_failure)
        template_id, revision = self.revision(p.execution, p.step_no)
        try:
            subject, body = p.content or self.rendered(revision, lead)
        except Invalid as e:
            raise PermanentSendError(f"template {template_id} cannot render: {e}") from e
        return OutgoingMessage(message_id=p.message_id, lead_id=lead.id, channel=p.channel,
                               recipient=recipient(lead, p.channel),
                               subject=subject, body=body)

    def compile(self, template_id: UUID, number: int | None = None) -> None:
        """Read the template's revision (its latest without ``number``) and compile its texts
        now, not at its first send (raises ``NotFound`` or ``Invalid`` as that send would)."""
        template = self.template(template_id, number or 1)
        revision = template.revision(number) if number else template.latest
        renderer = self.app.renderer
        for text, field in ((revision.subject, "subject"), (revision.body, "body")):
            if text and renderer is not None:
                renderer.check(text, field)

    def revision(self, execution: WorkflowExecution, step_no: int) -> tuple[UUID, Revision]:
        """The template of the execution's step, at the revision its workflow version pinned
        (the latest where the version is not found)."""
        template_id = UUID(str(execution.step(step_no).template_id))
        number = self.pinned(execution.workflow_id, execution.workflow_version, template_id)
        template = self.template(template_id, number or 1)
        return template_id, template.revision(number) if number else template.latest

    def pinned(self, workflow_id: UUID, version: int, template_id: UUID) -> int | None:
        try:
            pins: dict[str, int] = self.frozen(workflow_id, version)["template_revisions"]
        except (NotFound, InvalidValue):
            return None
        return pins.get(str(template_id))

    def frozen(self, workflow_id: UUID, version: int) -> dict[str, Any]:
        """A published version, as frozen (kept: it never changes)."""
        key = (workflow_id, version)
        found = self.versions.get(key)
        if found is None:
            found = self.versions[key] = self.app.load(Workflow, workflow_id).frozen(version)
        return found

    def template(self, template_id: UUID, revision: int) -> Template:
        """The template, read again only when the one kept lacks ``revision`` (revisions never
        change once saved, so what was read of them stays true)."""
        found = self.templates.get(template_id)
        if found is None or len(found.revisions) < revision:
            found = self.templates[template_id] = self.app.load(Template, template_id)
        return found


def recipient(lead: Lead, channel: str) -> str:
    address = {"email": lead.email, "sms": lead.phone, "in_app": str(lead.id)}[channel]
    if not address:
        raise PermanentSendError(f"lead has no {channel} address")
    return address


def record_result(p: Prepared, result: Result, now: datetime) -> None:
    """The provider's answer, on the step's message and its execution (which schedules the
    next step, retries, or dead-letters)."""
    execution = p.execution
    if result.provider_id is not None and result.outgoing is not None:
        out = result.outgoing
        if p.message is None:
            p.message = Message.record_sent(
                **p.message_identity(), queued_at=p.at, provider_id=result.provider_id,
                recipient=out.recipient, subject=out.subject, body=out.body, now=now)
        else:
            p.message.mark_sent(result.provider_id, out.recipient, out.subject, out.body, now)
        execution.record_sent(p.step_no, p.message_id, now, score=p.lead.score)
    else:
        reason = result.failure or "failed"
        p.queued().mark_failed(reason, result.permanent, now)
        execution.record_failure(p.step_no, reason, result.permanent, now, score=p.lead.score)
