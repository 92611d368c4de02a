"""Executions: an agent's overrides on one lead's run through a workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ExecutionId, ExecutionsWrite, LeadsRead
from api.deps import AppDep
from api.errors import AUTH, CHANGE, CHANGE_ONE, FOUND
from api.list_schemas import ExecutionPage, ExecutionQuery
from api.schemas import ExecutionPublic, ReasonIn, ResumeIn

router = APIRouter(prefix="/api/executions", tags=["executions"], responses=AUTH)
_public = ExecutionPublic.model_validate


@router.get("")
def list_executions(who: LeadsRead, app: AppDep,
                    query: Annotated[ExecutionQuery, Query()]) -> ExecutionPage:
    """The executions of the principal's leads, the latest started first, a page at a time.
    A read model that follows the log: a start or a change of status a moment ago may take a
    moment to show (``GET /api/executions/{id}`` reads the log)."""
    return ExecutionPage.model_validate(app.list_executions(who, query.wanted(), query.page(),
                                                            agent_id=query.agent_id))


@router.get("/{execution_id}", responses=FOUND)
def get_execution(who: LeadsRead, execution_id: ExecutionId, app: AppDep) -> ExecutionPublic:
    return _public(app.execution(execution_id))


@router.post("/{execution_id}/pause", responses=CHANGE_ONE)
def pause(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep,
          body: ReasonIn | None = None) -> ExecutionPublic:
    return _public(app.pause_execution(execution_id, (body or ReasonIn()).reason,
                                       actor=who.actor))


@router.post("/{execution_id}/resume", responses=CHANGE_ONE)
def resume(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep,
           body: ResumeIn | None = None) -> ExecutionPublic:
    """Resume; overdue steps are shifted by the time paused (``shift``) or skipped."""
    return _public(app.resume_execution(execution_id, (body or ResumeIn()).policy,
                                        actor=who.actor))


@router.post("/{execution_id}/replay", responses=FOUND | CHANGE)
def replay(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep) -> ExecutionPublic:
    """Send the dead-lettered step again now (or at its window's next opening), with a fresh
    set of attempts."""
    return _public(app.replay_dead_letter(execution_id, actor=who.actor))


@router.post("/{execution_id}/skip", responses=CHANGE_ONE)
def skip(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep,
         body: ReasonIn | None = None) -> ExecutionPublic:
    """Skip the next step; the one after it is scheduled from now."""
    return _public(app.skip_step(execution_id, (body or ReasonIn()).reason, actor=who.actor))


@router.post("/{execution_id}/send-now", responses=FOUND | CHANGE)
def send_now(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep) -> ExecutionPublic:
    """Send the next step now, ignoring its delay and send window."""
    return _public(app.send_now(execution_id, actor=who.actor))


@router.post("/{execution_id}/cancel", responses=CHANGE_ONE)
def cancel(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep,
           body: ReasonIn | None = None) -> ExecutionPublic:
    return _public(app.cancel_execution(execution_id, (body or ReasonIn()).reason,
                                        actor=who.actor))


@router.post("/{execution_id}/restart", responses=CHANGE_ONE)
def restart(who: ExecutionsWrite, execution_id: ExecutionId, app: AppDep,
            body: ReasonIn | None = None) -> ExecutionPublic:
    """Start again from step one; earlier messages stay in the history."""
    return _public(app.restart_execution(execution_id, (body or ReasonIn()).reason,
                                         actor=who.actor))
