"""Helpers for application-level tests: a recording channel and a scenario set-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from adapters.bootstrap import Runtime
from adapters.settings import Settings
from application.app import FollowUp
from application.errors import PermanentSendError, TransientSendError
from application.ports import ChannelSender, OutgoingMessage
from domain.execution import WorkflowExecution
from domain.lead import Lead
from tests.conftest import FakeClock


@dataclass
class RecordingChannel(ChannelSender):
    """A channel fake: records every message; can be told to fail the next sends."""

    sent: list[OutgoingMessage] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    idempotent: bool = False
    opened: list[int] = field(default_factory=list)  # what each open() was asked for

    def open(self, connections: int) -> int:
        self.opened.append(connections)
        return connections

    def send(self, message: OutgoingMessage) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"fake-{len(self.sent)}"

    def fail_next(self, *, permanent: bool, times: int = 1) -> None:
        error = PermanentSendError("refused") if permanent else TransientSendError("busy")
        self.failures.extend([error] * times)


def three_step_workflow(app: FollowUp, threshold: int = 80) -> UUID:
    """Email after 0 min, SMS after 60, in-app after 1440; published."""
    email = app.create_template(name="e", channel="email",
                                subject="{{ lead.first_name }}, new listings",
                                body="Hi {{ lead.name }}: a {{ lead.preferences.property_type }}"
                                     " for you, moving {{ lead.timeline }}.")
    sms = app.create_template(name="s", channel="sms", body="Hi {{ lead.first_name }}!")
    in_app = app.create_template(name="i", channel="in_app", subject="Matches",
                                 body="{{ lead.first_name }}, 3 new matches")
    steps = [{"channel": "email", "template_id": str(email), "delay_minutes": 0},
             {"channel": "sms", "template_id": str(sms), "delay_minutes": 60},
             {"channel": "in_app", "template_id": str(in_app), "delay_minutes": 1440}]
    workflow = app.create_workflow(agent_id="agent-1", name="hot", definition={
        "trigger": {"score_threshold": threshold}, "steps": steps})
    app.publish_workflow(workflow)
    return workflow


def register_ana(app: FollowUp, score: int = 50) -> UUID:
    return app.register_lead(agent_id="agent-1", name="Ana Lima", email="ana@example.com",
                             phone="+15550001111", timezone="Europe/Lisbon",
                             preferences={"property_type": "condo"}, timeline="within 3 months",
                             score=score)


class Harness:
    """One process's runtime with recording channels, followers run by hand."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.settings = settings
        self.clock = clock
        self.channel = RecordingChannel()
        self.rt = self._runtime()

    def _runtime(self) -> Runtime:
        rt = Runtime(self.settings, clock=self.clock, channel_overrides={
            "email": self.channel, "sms": self.channel, "in_app": self.channel})
        self.followers = {f.consumer.name: f for f in
                          rt.scheduler_followers() + rt.projector_followers()}
        return rt

    def crossing(self) -> UUID:
        """Given a published three-step workflow (threshold 80) and Ana at 50, raise her to 85."""
        three_step_workflow(self.rt.app)
        lead = register_ana(self.rt.app)
        self.rt.app.change_score(lead, 85, "viewed a listing")
        return lead

    def dispatch_without_sending(self, execution_id: UUID) -> None:
        """Claim the due step in the log and stop there, as a sender that dies at once."""
        prepared = self.rt.sender._prepare(execution_id, self.clock.now(), self.rt.app.catalog())
        assert not isinstance(prepared, str) and prepared.outcome == "send"
        self.rt.app.save(*prepared.aggregates)

    def stranded_dispatch(self) -> tuple[UUID, WorkflowExecution]:
        """Given Ana crossing the threshold and her email step claimed by a sender that died
        before sending: her id and the execution as it was before the claim."""
        lead = self.crossing()
        self.settle()
        [execution] = executions_of(self.rt.app, lead)
        self.dispatch_without_sending(execution.id)
        return lead, execution

    def restart(self) -> None:
        """A new process: new application, followers reading their positions from storage."""
        self.rt.stop()
        self.rt = self._runtime()

    def settle(self) -> None:
        for name in ("trigger", "due_feeder", "read-models"):
            self.followers[name].catch_up()

    def send_due(self) -> list[str]:
        """What the claim loop and the actors do, in this thread."""
        self.settle()
        now_ms = int(self.clock.now().timestamp() * 1000)
        outcomes = [self.rt.sender.send_due(UUID(m))
                    for m in self.rt.schedule.claim(now_ms, 100, 60_000)]
        self.settle()
        return outcomes


def executions_of(app: FollowUp, lead_id: UUID) -> list[WorkflowExecution]:
    """Every execution of the lead, as aggregates (the use case answers read types)."""
    return [app.load(WorkflowExecution, e) for e in app.load(Lead, lead_id).all_execution_ids()]
