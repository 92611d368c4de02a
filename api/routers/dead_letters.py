"""The dead-letter list: steps whose attempts ran out, held for an agent to replay."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import ExecutionsWrite, LeadsRead
from api.deps import AppDep, RuntimeDep
from api.errors import AUTH, BODY, CHANGE
from api.schemas import DeadLetterPublic, QueryText, ReplayAllIn, ReplayReport
from application.access import Principal

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"], responses=AUTH)


@router.get("")
def list_dead_letters(
        who: LeadsRead,
        runtime: RuntimeDep,
        agent_id: Annotated[QueryText | None, Query(alias="agentId", max_length=100)] = None,
        workflow_id: Annotated[UUID | None, Query(alias="workflowId")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[DeadLetterPublic]:
    """Oldest first. The read model follows the log: a step dead-lettered a moment ago may take
    a moment to appear. An agent sees their own; an admin their brokerage's (``agentId``
    narrows it to one agent)."""
    rows = runtime.directory.dead_letters(agent_id=_agent(who, agent_id),
                                          workflow_id=workflow_id, limit=limit,
                                          brokerage_id=who.brokerage_id)
    return [DeadLetterPublic(step=r["step_no"] + 1,
                             **{k: v for k, v in r.items() if k != "step_no"}) for r in rows]


@router.post("/replay", responses=CHANGE | BODY)
def replay_dead_letters(who: ExecutionsWrite, app: AppDep,
                        body: ReplayAllIn | None = None) -> ReplayReport:
    """Replay every listed step (or one agent's, or one workflow's), after a provider outage
    say. Each is its own command; those refused are reported with their reason."""
    body = body or ReplayAllIn()
    report = app.replay_dead_letters(agent_id=_agent(who, body.agent_id),
                                     workflow_id=body.workflow_id, limit=body.limit,
                                     brokerage_id=who.brokerage_id, actor=who.actor)
    return ReplayReport.model_validate(report)


def _agent(who: Principal, asked: str | None) -> str | None:
    """An agent's list is their own, whatever they ask; a wide principal's as asked."""
    return asked if who.wide else (who.agent_id or "")
