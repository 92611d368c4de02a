"""Leads: registration, score and status changes, executions, history and inbox."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.auth import LeadId, LeadsRead, LeadsWrite, ScoresWrite
from api.deps import AppDep, RuntimeDep
from api.errors import AUTH, BODY, CHANGE, CHANGE_ONE, FOUND
from api.list_schemas import LeadPage, LeadQuery
from api.schemas import (
    ConsentIn,
    ExecutionPublic,
    HistoryEntry,
    Inbox,
    InboxItem,
    LeadCreate,
    LeadEdit,
    LeadPublic,
    ScoreChange,
    ScoreResult,
    StatusChange,
    StatusResult,
)

router = APIRouter(prefix="/api/leads", tags=["leads"], responses=AUTH)
#: History entries a page of `GET /api/leads/{id}/history` holds at most.
HISTORY_PAGE = 1000


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def register_lead(body: LeadCreate, who: LeadsWrite, app: AppDep,
                  response: Response) -> LeadPublic:
    """201 with the new lead; 200 with the existing one when its ``externalId`` was registered
    with the same data (a retry); 409 naming the differing fields when with other data."""
    lead_id, created = app.register(brokerage_id=who.brokerage_id,
                                    agent_id=app.agent_for(who, body.agent_id),
                                    name=body.name, email=body.email,
                                    phone=body.phone, timezone=body.timezone,
                                    preferences=body.preferences, timeline=body.timeline,
                                    score=body.score, external_ref=body.external_id,
                                    source=body.source, move_by=body.move_by)
    if not created:
        response.status_code = status.HTTP_200_OK
    return LeadPublic.model_validate(app.lead(lead_id))


@router.get("")
def list_leads(who: LeadsRead, app: AppDep, query: Annotated[LeadQuery, Query()]) -> LeadPage:
    """An agent's leads, or a brokerage's (an admin, a brokerage token), a page at a time
    (pass ``next`` as ``cursor`` for the next page), filtered and searched. A read model that
    follows the log: a lead registered or changed a moment ago may take a moment to show here
    as it is (``GET /api/leads/{id}`` reads the log)."""
    return LeadPage.model_validate(app.list_leads(who, query.wanted(), query.page(),
                                                  agent_id=query.agent_id))


@router.get("/{lead_id}", responses=FOUND)
def get_lead(who: LeadsRead, lead_id: LeadId, app: AppDep) -> LeadPublic:
    return LeadPublic.model_validate(app.lead(lead_id))


@router.patch("/{lead_id}", responses=CHANGE_ONE)
def edit_lead(who: LeadsWrite, lead_id: LeadId, body: LeadEdit, app: AppDep) -> LeadPublic:
    """Edit the profile: the fields given, checked as at registration; an edit that changes
    nothing records nothing. Later sends use the new values (a new time zone moves the send
    windows of the steps scheduled after it)."""
    return LeadPublic.model_validate(app.edit_lead(lead_id, body.changes(), actor=who.actor))


@router.post("/{lead_id}/score", responses=CHANGE_ONE)
def change_score(who: ScoresWrite, lead_id: LeadId, body: ScoreChange,
                 app: AppDep) -> ScoreResult:
    """Set the score. With the scoring system's ``eventId`` a repeat is answered
    ``applied: false`` and changes nothing; with ``occurredAt`` an update older than the last
    applied is recorded as ignored and the score stays."""
    return ScoreResult.model_validate(app.change_score(
        lead_id, body.score, body.reason, event_id=body.event_id, occurred_at=body.occurred_at))


@router.post("/{lead_id}/status", responses=CHANGE_ONE)
def change_status(who: LeadsWrite, lead_id: LeadId, body: StatusChange,
                  app: AppDep) -> StatusResult:
    """Change the status: closed or lost pauses the lead's executions; leaving them lists the
    paused ones as resumable, or with ``resume: true`` resumes them at once."""
    return StatusResult.model_validate(app.change_status(
        lead_id, body.status, body.reason, resume=body.resume, policy=body.policy,
        actor=who.actor))


@router.get("/{lead_id}/executions", responses=FOUND)
def lead_executions(who: LeadsRead, lead_id: LeadId, app: AppDep) -> list[ExecutionPublic]:
    return [ExecutionPublic.model_validate(x) for x in app.lead_executions(lead_id)]


@router.get("/{lead_id}/history", responses=FOUND)
def lead_history(who: LeadsRead, lead_id: LeadId, runtime: RuntimeDep,
                 after: Annotated[int | None, Query(
                     ge=0, description="only the entries after this position: the last "
                                       "entry's position of the page before")] = None,
                 limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE)] = HISTORY_PAGE,
                 ) -> list[HistoryEntry]:
    """The lead's audit trail, oldest first, ``limit`` entries at a time: a page shorter
    than ``limit`` is the last; ask for the next with ``after``."""
    return [HistoryEntry.model_validate(row) for row in
            runtime.history.for_lead(str(lead_id), limit=limit, after=after)]


@router.get("/{lead_id}/inbox", responses=FOUND)
def lead_inbox(who: LeadsRead, lead_id: LeadId, runtime: RuntimeDep) -> Inbox:
    """The lead's in-app messages (newest first, each with ``readAt``) and the unread count."""
    items = [InboxItem(message_id=r["message_id"], subject=r["subject"], body=r["body"],
                       sent_at=r["sent_at"], read_at=r["read_at"])
             for r in runtime.messages.inbox(str(lead_id))]
    return Inbox(items=items, unread=runtime.messages.unread(str(lead_id)))


@router.post("/{lead_id}/consent", responses=CHANGE_ONE)
def set_consent(who: LeadsWrite, lead_id: LeadId, body: ConsentIn, app: AppDep) -> LeadPublic:
    """Opt the lead out of a channel (its steps are then skipped, and the log says so), or in."""
    app.set_consent(lead_id, body.channel, body.allowed, body.reason, actor=who.actor)
    return LeadPublic.model_validate(app.lead(lead_id))


@router.post("/{lead_id}/inbox/{message_id}/read", status_code=204,
             responses=FOUND | CHANGE)
def mark_read(who: LeadsWrite, lead_id: LeadId, message_id: UUID, app: AppDep) -> None:
    """Mark an in-app message read; any other message of the lead is not in its inbox (404)."""
    app.engage(message_id, "read", lead_id=lead_id)
