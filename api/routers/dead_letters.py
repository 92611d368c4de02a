"""The dead-letter list: steps whose attempts ran out, held for an agent to replay."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import AppDep, RuntimeDep
from api.errors import BODY, CHANGE
from api.schemas import DeadLetterPublic, QueryText, ReplayAllIn, ReplayReport

router = APIRouter(prefix="/api/dead-letters", tags=["dead letters"])


@router.get("")
def list_dead_letters(
        runtime: RuntimeDep,
        agent_id: Annotated[QueryText | None, Query(alias="agentId", max_length=100)] = None,
        workflow_id: Annotated[UUID | None, Query(alias="workflowId")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[DeadLetterPublic]:
    """Oldest first. The read model follows the log: a step dead-lettered a moment ago may take
    a moment to appear."""
    rows = runtime.directory.dead_letters(agent_id=agent_id, workflow_id=workflow_id,
                                          limit=limit)
    return [DeadLetterPublic(step=r["step_no"] + 1,
                             **{k: v for k, v in r.items() if k != "step_no"}) for r in rows]


@router.post("/replay", responses=CHANGE | BODY)
def replay_dead_letters(app: AppDep, body: ReplayAllIn | None = None) -> ReplayReport:
    """Replay every listed step (or one agent's, or one workflow's), after a provider outage
    say. Each is its own command; those refused are reported with their reason."""
    body = body or ReplayAllIn()
    report = app.replay_dead_letters(agent_id=body.agent_id, workflow_id=body.workflow_id,
                                     limit=body.limit)
    return ReplayReport.model_validate(report)
