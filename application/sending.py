"""Sending a due step: reload, re-check, claim in the log, render, send, record, schedule next."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.app import FollowUp
from application.errors import Invalid, MissingValue, NotFound, PermanentSendError, SendError
from application.ports import ChannelSender, OutgoingMessage
from domain import ids
from domain.conditions import Engagement, skip_reason
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message
from domain.personalisation import context_for
from domain.template import Template
from domain.workflow import PublishedWorkflows, Workflow

log = logging.getLogger(__name__)

#: A message's subject (None for channels without one) and body.
Content = tuple[str | None, str]

RECORD_RETRIES = 8
#: A dispatch with no outcome after this long means its sender died (sends time out far sooner).
DISPATCH_TIMEOUT = timedelta(minutes=2)
#: Templates read and compiled when a worker starts, at most.
WARM_TEMPLATES = 500
HELD = "the workflow is paused"
UNKNOWN = "the sender stopped during the provider call; the message may or may not have gone"
#: A batch is claimed and recorded in chunks of about this many seconds of sending (one chunk when
#: the provider is fast), so a sender that dies mid-batch strands at most that much unrecorded.
CHUNK_SECONDS = 5.0
#: A batch stops claiming after this long; the rest stay due and come back with their lease. Well
#: inside the actor's time limit (60 s), which would otherwise stop a claimed chunk mid-way.
BATCH_BUDGET_SECONDS = 40.0
#: How long one send is taken to last before this process has timed any on its channel.
FIRST_GUESS_SECONDS = 0.25


class StepSender:
    """Safe to call any number of times for the same execution: only a due step is claimed."""

    def __init__(self, app: FollowUp, channels: Mapping[str, ChannelSender], *,
                 dispatch_timeout: timedelta = DISPATCH_TIMEOUT,
                 chunk_seconds: float = CHUNK_SECONDS,
                 batch_budget_seconds: float = BATCH_BUDGET_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.channels = channels
        self.dispatch_timeout = dispatch_timeout
        self.chunk_seconds = chunk_seconds
        self.batch_budget_seconds = batch_budget_seconds
        self.monotonic = monotonic
        self._templates: dict[UUID, Template] = {}
        #: Recent seconds per send, by channel (a moving average; threads share it, and a lost
        #: update only delays what it learns)
        self._send_seconds: dict[str, float] = {}

    def warm(self, max_templates: int = WARM_TEMPLATES, connections: int = 0) -> int:
        """Pay at start what the first sends would pay while a lead waits: the application and
        its connections, up to ``connections`` open connections per provider (one per sending
        thread), the catalogue, and the templates of the live workflows' steps (read and
        compiled). Returns how many templates are ready; one that cannot be read or compiled
        is left to fail at its send, as it would have."""
        if connections:
            for channel in {id(c): c for c in self.channels.values()}.values():
                channel.open(connections)
        catalog = self.app.catalog()
        renderer = self.app.renderer
        ready = 0
        for workflow_id, live in catalog.live_at(self.app.clock.now()):
            workflow = self.app.load(Workflow, workflow_id)
            steps = workflow.frozen(live["number"])["definition"]["steps"]
            for step in steps:
                if ready >= max_templates:
                    return ready
                try:
                    template = self._template(UUID(str(step["template_id"])))
                    if renderer is not None:
                        for text, field in ((template.subject, "subject"),
                                            (template.body, "body")):
                            if text:
                                renderer.check(text, field)
                    ready += 1
                except (NotFound, Invalid) as e:
                    log.warning("template %s not ready at start: %s", step["template_id"], e)
        return ready

    def send_due(self, execution_id: UUID) -> str:
        """Send the execution's due step if there is one; returns what happened."""
        now = self.app.clock.now()
        prepared = self._prepare(execution_id, now, self.app.catalog())
        if isinstance(prepared, str):
            return prepared
        try:
            self.app.save(*prepared.aggregates)
        except IntegrityError:
            return "claimed-elsewhere"
        if prepared.outcome != "send":
            return prepared.outcome
        result = self._deliver(prepared)
        self._record(prepared, result)
        return "sent" if result.provider_id else "failed"

    def send_batch(self, execution_ids: list[UUID]) -> list[str]:
        """Send many executions' due steps, reading them with one query per kind and saving the
        claims, then the outcomes, with one transaction each per chunk (the whole batch is one
        chunk when the provider is fast: see ``CHUNK_SECONDS``). If another writer touched one
        of a chunk's executions, the rest go one at a time; after ``BATCH_BUDGET_SECONDS`` the
        rest are left unclaimed ("deferred"), due again when their lease ends."""
        started = self.monotonic()
        now = self.app.clock.now()
        catalog = self.app.catalog()
        executions = self.app.load_many(WorkflowExecution, execution_ids)  # one query for all
        leads = self.app.load_many(Lead, [x.lead_id for x in executions.values()])
        prepared = [self._prepare(x, now, catalog, executions.get(x), leads)
                    for x in execution_ids]
        ready = [p for p in prepared if isinstance(p, Prepared)]
        sending = [p for p in ready if p.outcome == "send"]
        outcomes: dict[UUID, str] = {p.execution.id: p.outcome for p in ready}
        done, first = 0, True
        while first or done < len(sending):
            if not first and self.monotonic() - started > self.batch_budget_seconds:
                left = sending[done:]
                log.warning("batch of %d: out of time after %d sends; %d left for their lease",
                            len(execution_ids), done, len(left))
                outcomes.update((p.execution.id, "deferred") for p in left)
                break
            chunk = sending[done:done + self._chunk_size(sending[done:])]
            # The first chunk's claims carry the batch's other decisions (skips, unknowns)
            claims = [*(p for p in ready if p.outcome != "send"), *chunk] if first else chunk
            try:
                if claims:
                    self.app.save(*(a for p in claims for a in p.aggregates))
            except IntegrityError:
                log.info("batch of %d: a claim conflicted; sending one at a time",
                         len(execution_ids))
                if first:
                    return [self.send_due(x) for x in execution_ids]
                outcomes.update((p.execution.id, self.send_due(p.execution.id))
                                for p in sending[done:])
                break
            self._send_chunk(chunk, outcomes)
            done, first = done + len(chunk), False
        return [p if isinstance(p, str) else outcomes[p.execution.id] for p in prepared]

    def _chunk_size(self, sending: list[Prepared]) -> int:
        """How many sends take about ``chunk_seconds`` on the slowest channel among them."""
        slowest = max((self._send_seconds.get(p.channel, FIRST_GUESS_SECONDS) for p in sending),
                      default=0.0)
        return max(1, int(self.chunk_seconds / slowest)) if slowest > 0 else len(sending)

    def _send_chunk(self, chunk: list[Prepared], outcomes: dict[UUID, str]) -> None:
        """Deliver a claimed chunk and save its outcomes in one transaction."""
        if not chunk:
            return
        results = []
        for p in chunk:
            began = self.monotonic()
            results.append(self._deliver(p))
            took = self.monotonic() - began
            seen = self._send_seconds.get(p.channel)
            self._send_seconds[p.channel] = took if seen is None else 0.8 * seen + 0.2 * took
        for p, result in zip(chunk, results, strict=True):
            self._apply(p, result, self.app.clock.now())
        try:
            self.app.save(*(a for p in chunk for a in p.aggregates))
        except IntegrityError:
            for p, result in zip(chunk, results, strict=True):
                self._record(p, result)
        outcomes.update((p.execution.id, "sent" if r.provider_id else "failed")
                        for p, r in zip(chunk, results, strict=True))

    def _prepare(self, execution_id: UUID, now: datetime, catalog: PublishedWorkflows,
                 loaded: WorkflowExecution | None = None,
                 leads: Mapping[UUID, Lead] | None = None) -> Prepared | str:
        """Decide what to do with the execution now and record it on the aggregates (unsaved).
        ``loaded`` and ``leads`` are what a batch read already (a missing one is read here)."""
        if loaded is None:
            try:
                loaded = self.app.load(WorkflowExecution, execution_id)
            except NotFound:
                return "unknown"
        execution = loaded
        step_no = execution.due_step(now)
        if step_no is None:
            return self._recover(execution, now)
        held = catalog.is_held(execution.workflow_id)
        # The workflow is paused: the step waits, and says so once; the resume releases it (the
        # index offers it again after the lease meanwhile)
        if held and not execution.hold(step_no, HELD, now):
            return "held"
        lead = (leads or {}).get(execution.lead_id) or self.app.load(Lead, execution.lead_id)
        message_id = ids.message_id(execution.id, step_no, execution.workflow_version,
                                    execution.round)
        if held:
            return Prepared(execution, None, message_id, step_no, lead, "held", now)
        if execution.defer_quiet_hours(step_no, now):  # a text is never sent 21:00-08:00
            return Prepared(execution, None, message_id, step_no, lead, "quiet-hours", now)
        skip = self._skip_reason(execution, step_no, lead)
        try:
            content = None if skip else self._content(execution.step(step_no), lead)
        except MissingValue as e:  # the lead lacks a value the template prints without default
            skip = e.reason
        if skip is not None:
            execution.skip(step_no, skip, now, score=lead.score)
            return Prepared(execution, None, message_id, step_no, lead, "skipped", now)
        # The claim is the execution's StepDispatched; the message is recorded with its outcome.
        # A retry after a failed attempt finds it there and adds the new outcome to it.
        message = (self._message(message_id) if execution.step(step_no)["attempts"]
                   else None)
        execution.dispatch(step_no, message_id, now)
        return Prepared(execution, message, message_id, step_no, lead, "send", now, content)

    def _deliver(self, p: Prepared) -> Result:
        if p.execution.in_quiet_hours(p.step_no, self.app.clock.now()):
            # claimed just before 21:00 and reached after it: retried at the next opening
            return Result(None, None, "quiet hours began before the text went", False)
        try:
            outgoing = self._render(p)
            provider_id = self.channels[p.channel].send(outgoing)
        except SendError as e:
            permanent = isinstance(e, PermanentSendError)
            log.info("step %s of %s failed (permanent=%s)", p.step_no, p.execution.id, permanent)
            return Result(None, None, str(e), permanent)
        log.info("step %s of %s sent as %s", p.step_no, p.execution.id, p.message_id)
        return Result(provider_id, outgoing, None, False)

    @staticmethod
    def _apply(p: Prepared, result: Result, now: datetime) -> None:
        execution = p.execution
        if result.provider_id is not None and result.outgoing is not None:
            out = result.outgoing
            if p.message is None:
                p.message = Message.record_sent(
                    **p.message_identity(), queued_at=p.at, provider_id=result.provider_id,
                    recipient=out.recipient, subject=out.subject, body=out.body, now=now)
            else:
                p.message.mark_sent(result.provider_id, out.recipient, out.subject, out.body,
                                    now)
            execution.record_sent(p.step_no, p.message_id, now, score=p.lead.score)
        else:
            reason = result.failure or "failed"
            p.queued().mark_failed(reason, result.permanent, now)
            execution.record_failure(p.step_no, reason, result.permanent, now,
                                     score=p.lead.score)

    def _skip_reason(self, execution: WorkflowExecution, step_no: int, lead: Lead) -> str | None:
        """Evaluate the step's conditions and the lead's consent at send time."""
        kinds = {c["kind"] for c in execution.step(step_no).get("conditions") or []}
        email = (execution.earlier_message(step_no, "email")
                 if "previous_email_not_opened" in kinds else None)
        in_app = (execution.earlier_message(step_no, "in_app")
                  if "in_app_not_read" in kinds else None)
        facts = Engagement(
            score=lead.score, opted_out=frozenset(lead.opted_out),
            previous_email_opened=self.app.load(Message, email).opened if email else None,
            in_app_read=self.app.load(Message, in_app).read if in_app else None)
        return skip_reason(execution.step(step_no), facts)

    def _recover(self, execution: WorkflowExecution, now: datetime) -> Prepared | str:
        """A dispatch whose sender died: try again where a repeat cannot duplicate, else say so."""
        step_no = execution.stale_dispatch(now, self.dispatch_timeout)
        if step_no is None:
            return "not-due"
        step = execution.step(step_no)
        message_id = UUID(str(step["message_id"]))
        lead = self.app.load(Lead, execution.lead_id)
        p = Prepared(execution, self._message(message_id), message_id, step_no, lead, "send",
                     step["dispatched_at"])
        if self.channels[p.channel].idempotent and execution.is_active:
            if execution.defer_quiet_hours(step_no, now):  # sent again later, never at night
                p.outcome = "quiet-hours"
                return p
            execution.redispatch(step_no, now, self.dispatch_timeout)
            log.warning("step %s of %s: stale dispatch, sending again", step_no, execution.id)
            return p
        p.queued().mark_unknown(UNKNOWN, now)
        execution.record_unknown_outcome(step_no, UNKNOWN, now, self.dispatch_timeout,
                                         score=lead.score)
        log.warning("step %s of %s: stale dispatch, outcome unknown", step_no, execution.id)
        p.outcome = "unknown"
        return p

    def _message(self, message_id: UUID) -> Message | None:
        """The step's message if an earlier attempt recorded one."""
        return self.app.load(Message, message_id) if self.app.exists(message_id) else None

    def _content(self, step: dict[str, Any], lead: Lead) -> Content | None:
        """The step's subject and body for the lead, rendered before the claim; None if they
        cannot render (the send then fails for good, saying why). A value the lead lacks
        raises ``MissingValue``."""
        try:
            return self._rendered(self._template(UUID(str(step["template_id"]))), lead)
        except MissingValue:
            raise
        except (Invalid, NotFound):
            return None

    def _rendered(self, template: Template, lead: Lead) -> Content:
        renderer = self.app.renderer
        assert renderer is not None
        context = context_for(lead)
        subject = renderer.render(template.subject, context) if template.subject else None
        return subject, renderer.render(template.body, context)

    def _render(self, p: Prepared) -> OutgoingMessage:
        lead = p.lead
        template = self._template(UUID(str(p.execution.step(p.step_no)["template_id"])))
        try:
            subject, body = p.content or self._rendered(template, lead)
        except Invalid as e:
            raise PermanentSendError(f"template {template.id} cannot render: {e}") from e
        return OutgoingMessage(message_id=p.message_id, lead_id=lead.id, channel=p.channel,
                               recipient=self._recipient(lead, p.channel),
                               subject=subject, body=body)

    @staticmethod
    def _recipient(lead: Lead, channel: str) -> str:
        address = {"email": lead.email, "sms": lead.phone, "in_app": str(lead.id)}[channel]
        if not address:
            raise PermanentSendError(f"lead has no {channel} address")
        return address

    def _template(self, template_id: UUID) -> Template:
        # Templates never change once saved (a new revision is a new template), so cache them.
        found = self._templates.get(template_id)
        if found is None:
            found = self._templates[template_id] = self.app.load(Template, template_id)
        return found

    def _record(self, p: Prepared, result: Result) -> None:
        """Record the outcome, reloading when another writer (a pause, say) got there first."""
        for _ in range(RECORD_RETRIES):
            reloaded = Prepared(self.app.load(WorkflowExecution, p.execution.id),
                                self._message(p.message_id), p.message_id, p.step_no, p.lead,
                                p.outcome, p.at)
            self._apply(reloaded, result, self.app.clock.now())
            try:
                self.app.save(*reloaded.aggregates)
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record the outcome of step {p.step_no + 1} of "
                           f"{p.execution.id}")


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
    outcome: str
    at: datetime
    #: The subject and body, when they were rendered as the step was claimed
    content: Content | None = None

    @property
    def channel(self) -> str:
        return str(self.execution.step(self.step_no)["channel"])

    @property
    def aggregates(self) -> list[Any]:
        return [a for a in (self.message, self.execution) if a is not None]

    def message_identity(self) -> dict[str, Any]:
        """What a new message of this step is created with, whatever its first outcome."""
        step = self.execution.step(self.step_no)
        return {"message_id": self.message_id, "execution_id": self.execution.id,
                "lead_id": self.execution.lead_id, "step_no": self.step_no,
                "channel": step["channel"], "template_id": step["template_id"]}

    def queued(self) -> Message:
        """The step's message, recorded now as queued if no attempt recorded it before."""
        if self.message is None:
            self.message = Message.queue(**self.message_identity(), now=self.at)
        return self.message


@dataclass(frozen=True)
class Result:
    provider_id: str | None
    outgoing: OutgoingMessage | None
    failure: str | None
    permanent: bool
