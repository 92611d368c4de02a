"""The FollowUp application: one event log for every aggregate, and the use cases over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, ProcessRecorder, Tracking

from application.errors import Conflict, Invalid, NotFound
from application.ports import Clock, SystemClock, TemplateRenderer
from domain import ids
from domain.errors import DomainError
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message
from domain.personalisation import sample_context
from domain.template import Template
from domain.workflow import PublishedWorkflows, Workflow

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)

CONFLICT_RETRIES = 8


class FollowUp(Application[UUID]):
    """Use cases: load, decide (one domain call), save. They return ids or plain data."""

    name = "FollowUp"
    snapshotting_intervals: ClassVar = {Lead: 200, WorkflowExecution: 100,
                                        PublishedWorkflows: 100}

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock | None = None,
                 renderer: TemplateRenderer | None = None) -> None:
        super().__init__(env=env)
        self.clock = clock or SystemClock()
        self.renderer = renderer
        self.on_saved: list[Callable[[], None]] = []

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        # A process recorder writes a follower's new events and its tracking position in the
        # same transaction, into this same log.
        recorder = self.factory.process_recorder()
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def save(self, *objs: Any, tracking: Tracking | None = None, **kwargs: Any) -> Any:
        """Save atomically; a follower passes its ``tracking`` position to be written with it."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        for wake in self.on_saved:
            wake()
        return recordings

    # Helpers ---------------------------------------------------------------

    def load(self, kind: type[A], ident: UUID) -> A:
        try:
            found: Aggregate = self.repository.get(ident)
        except AggregateNotFoundError:
            raise NotFound(kind.__name__, ident) from None
        if not isinstance(found, kind):
            raise NotFound(kind.__name__, ident)
        return found

    def exists(self, ident: UUID) -> bool:
        return ident in self.repository

    def retrying(self, command: Callable[[], T]) -> T:
        """Run a load-decide-save command again (reloading) when another writer got there first."""
        for _ in range(CONFLICT_RETRIES):
            try:
                return command()
            except IntegrityError:
                continue
            except DomainError as e:
                raise Invalid(e.field, e.reason) from e
        raise Conflict("the aggregate kept changing; try again")

    # Leads -----------------------------------------------------------------

    def register_lead(self, *, agent_id: str, name: str, email: str | None, phone: str | None,
                      timezone: str, preferences: dict[str, Any], timeline: str | None,
                      score: int = 0, external_ref: str | None = None) -> UUID:
        lead_id = ids.lead_id(agent_id, external_ref) if external_ref else uuid4()
        if external_ref and self.exists(lead_id):
            return lead_id

        def command() -> UUID:
            lead = Lead.register(lead_id=lead_id, agent_id=agent_id, name=name, email=email,
                                 phone=phone, timezone=timezone, preferences=preferences,
                                 timeline=timeline, score=score)
            self.save(lead)
            return lead_id

        try:
            return self.retrying(command)
        except Conflict:
            return lead_id  # registered concurrently with the same external reference

    def change_score(self, lead_id: UUID, score: int, reason: str) -> dict[str, Any]:
        def command() -> dict[str, Any]:
            lead = self.load(Lead, lead_id)
            old = lead.score
            lead.change_score(score, reason, self.clock.now())
            self.save(lead)
            return {"leadId": str(lead_id), "old": old, "new": lead.score}

        return self.retrying(command)

    def change_status(self, lead_id: UUID, status: str, reason: str) -> dict[str, Any]:
        """Change the status; a stopping status pauses every active execution in the same commit."""

        def command() -> dict[str, Any]:
            lead = self.load(Lead, lead_id)
            lead.change_status(status, reason)
            paused = []
            if lead.is_stopped:
                now = self.clock.now()
                for execution_id in lead.execution_ids():
                    execution = self.load(WorkflowExecution, execution_id)
                    if execution.pause(f"lead status became {lead.status}: {reason}", now):
                        paused.append(execution)
            self.save(lead, *paused)
            return {"leadId": str(lead_id), "status": lead.status,
                    "pausedExecutions": [str(e.id) for e in paused]}

        return self.retrying(command)

    def lead(self, lead_id: UUID) -> Lead:
        return self.load(Lead, lead_id)

    def lead_executions(self, lead_id: UUID) -> list[WorkflowExecution]:
        lead = self.load(Lead, lead_id)
        return [self.load(WorkflowExecution, e) for e in lead.execution_ids()]

    def execution(self, execution_id: UUID) -> WorkflowExecution:
        return self.load(WorkflowExecution, execution_id)

    def message(self, message_id: UUID) -> Message:
        return self.load(Message, message_id)

    # Templates -------------------------------------------------------------

    def create_template(self, *, name: str, channel: str, body: str,
                        subject: str | None = None) -> UUID:
        def command() -> UUID:
            template = Template.create(name=name, channel=channel, subject=subject, body=body)
            if self.renderer is not None:
                self.renderer.check(body, "body")
                if template.subject:
                    self.renderer.check(template.subject, "subject")
            self.save(template)
            return template.id

        return self.retrying(command)

    def template(self, template_id: UUID) -> Template:
        return self.load(Template, template_id)

    def preview(self, template_id: UUID, context: dict[str, Any] | None = None) -> dict[str, Any]:
        template = self.template(template_id)
        assert self.renderer is not None
        ctx = context or sample_context()
        subject = self.renderer.render(template.subject, ctx) if template.subject else None
        return {"subject": subject, "body": self.renderer.render(template.body, ctx)}

    # Workflows -------------------------------------------------------------

    def create_workflow(self, *, agent_id: str, name: str, score_threshold: int,
                        steps: list[dict[str, Any]]) -> UUID:
        def command() -> UUID:
            workflow = Workflow.create(agent_id=agent_id, name=name,
                                       score_threshold=score_threshold, steps=steps)
            self.save(workflow)
            return workflow.id

        return self.retrying(command)

    def workflow(self, workflow_id: UUID) -> Workflow:
        return self.load(Workflow, workflow_id)

    def publish_workflow(self, workflow_id: UUID) -> int:
        """Freeze the draft as a numbered version and list it in the live catalogue, atomically."""

        def command() -> int:
            workflow = self.load(Workflow, workflow_id)
            channels = {s["template_id"]: self._template_channel(s["template_id"])
                        for s in workflow.steps}
            now = self.clock.now()
            number = workflow.publish(template_channels=channels, now=now)
            catalog = self.catalog()
            catalog.list_version(workflow.id, number, workflow.score_threshold, now)
            self.save(workflow, catalog)
            return number

        return self.retrying(command)

    def catalog(self) -> PublishedWorkflows:
        try:
            found: Aggregate = self.repository.get(ids.CATALOG_ID)
            assert isinstance(found, PublishedWorkflows)
            return found
        except AggregateNotFoundError:
            return PublishedWorkflows.open()

    def _template_channel(self, template_id: str) -> str | None:
        try:
            return self.load(Template, UUID(template_id)).channel
        except NotFound:
            return None
