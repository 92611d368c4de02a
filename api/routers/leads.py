"""Leads: registration, score and status changes, executions, history and inbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import AppDep, RuntimeDep
from api.errors import BODY, CHANGE, CHANGE_ONE, FOUND
from api.schemas import (
    ConsentIn,
    ExecutionPublic,
    HistoryEntry,
    Inbox,
    InboxItem,
    LeadCreate,
    LeadPublic,
    ScoreChange,
    StatusChange,
    StepPublic,
)
from domain.execution import WorkflowExecution
from domain.lead import Lead

router = APIRouter(prefix="/api/leads", tags=["leads"])


def lead_public(lead: Lead) -> LeadPublic:
    return LeadPublic(id=lead.id, agent_id=lead.agent_id, name=lead.name, email=lead.email,
                      phone=lead.phone, timezone=lead.timezone, preferences=lead.preferences,
                      timeline=lead.timeline, score=lead.score, status=lead.status,
                      source=lead.source, move_by=lead.move_by, opted_out=lead.opted_out,
                      version=lead.version)


def execution_public(x: WorkflowExecution) -> ExecutionPublic:
    steps = [StepPublic(sequence=i + 1, channel=s.channel,  # type: ignore[arg-type]
                        template_id=s.template_id,
                        delay_minutes=s.delay_minutes, status=s.status,
                        due_at=s.due_at, sent_at=s.sent_at,
                        attempts=s.attempts, note=s.failure,
                        message_id=s.message_id,
                        window=s.window, conditions=s.conditions)
             for i, s in enumerate(x.steps)]
    return ExecutionPublic(id=x.id, lead_id=x.lead_id, workflow_id=x.workflow_id,
                           workflow_version=x.workflow_version, status=x.status,  # type: ignore[arg-type]
                           status_reason=x.status_reason, current_step=x.current_step + 1,
                           round=x.round, timezone=x.timezone, trigger=x.trigger,
                           started_at=x.started_at, completed_at=x.completed_at,
                           dead_letter_step=None if x.dead_letter is None else x.dead_letter + 1,
                           steps=steps)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def register_lead(body: LeadCreate, app: AppDep, response: Response) -> LeadPublic:
    """201 with the new lead; 200 with the existing one when its ``externalId`` was registered
    with the same data (a retry); 409 naming the differing fields when with other data."""
    lead_id, created = app.register(agent_id=body.agent_id, name=body.name, email=body.email,
                                    phone=body.phone, timezone=body.timezone,
                                    preferences=body.preferences, timeline=body.timeline,
                                    score=body.score, external_ref=body.external_id,
                                    source=body.source, move_by=body.move_by)
    if not created:
        response.status_code = status.HTTP_200_OK
    return lead_public(app.lead(lead_id))


@router.get("/{lead_id}", responses=FOUND)
def get_lead(lead_id: UUID, app: AppDep) -> LeadPublic:
    return lead_public(app.lead(lead_id))


@router.post("/{lead_id}/score", responses=CHANGE_ONE)
def change_score(lead_id: UUID, body: ScoreChange, app: AppDep) -> dict[str, Any]:
    """Set the score. With the scoring system's ``eventId`` a repeat is answered
    ``applied: false`` and changes nothing; with ``occurredAt`` an update older than the last
    applied is recorded as ignored and the score stays."""
    return app.change_score(lead_id, body.score, body.reason, event_id=body.event_id,
                            occurred_at=body.occurred_at)


@router.post("/{lead_id}/status", responses=CHANGE_ONE)
def change_status(lead_id: UUID, body: StatusChange, app: AppDep) -> dict[str, Any]:
    """Change the status: closed or lost pauses the lead's executions; leaving them lists the
    paused ones as resumable, or with ``resume: true`` resumes them at once."""
    return app.change_status(lead_id, body.status, body.reason, resume=body.resume,
                             policy=body.policy)


@router.get("/{lead_id}/executions", responses=FOUND)
def lead_executions(lead_id: UUID, app: AppDep) -> list[ExecutionPublic]:
    return [execution_public(x) for x in app.lead_executions(lead_id)]


@router.get("/{lead_id}/history", responses=FOUND)
def lead_history(lead_id: UUID, app: AppDep, runtime: RuntimeDep) -> list[HistoryEntry]:
    app.lead(lead_id)  # 404 for an unknown lead
    return [HistoryEntry.model_validate(row) for row in runtime.history.for_lead(str(lead_id))]


@router.get("/{lead_id}/inbox", responses=FOUND)
def lead_inbox(lead_id: UUID, app: AppDep, runtime: RuntimeDep) -> Inbox:
    """The lead's in-app messages (newest first, each with ``readAt``) and the unread count."""
    app.lead(lead_id)
    items = [InboxItem(message_id=r["message_id"], subject=r["subject"], body=r["body"],
                       sent_at=r["sent_at"], read_at=r["read_at"])
             for r in runtime.messages.inbox(str(lead_id))]
    return Inbox(items=items, unread=runtime.messages.unread(str(lead_id)))


@router.post("/{lead_id}/consent", responses=CHANGE_ONE)
def set_consent(lead_id: UUID, body: ConsentIn, app: AppDep) -> LeadPublic:
    """Opt the lead out of a channel (its steps are then skipped, and the log says so), or in."""
    app.set_consent(lead_id, body.channel, body.allowed, body.reason)
    return lead_public(app.lead(lead_id))


@router.post("/{lead_id}/inbox/{message_id}/read", status_code=204,
             responses=FOUND | CHANGE)
def mark_read(lead_id: UUID, message_id: UUID, app: AppDep) -> None:
    """Mark an in-app message read; any other message of the lead is not in its inbox (404)."""
    app.engage(message_id, "read", lead_id=lead_id)
