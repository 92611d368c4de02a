"""Workflows: drafts, publish (with its preview), rollback, pause and resume."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import WorkflowId, WorkflowsRead, WorkflowsWrite
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE, CHANGE_ONE, FOUND, IF_MATCH
from api.etags import ETAG, IfMatch, tagged
from api.list_schemas import WorkflowPage, WorkflowQuery
from api.schemas import (
    Published,
    PublishIn,
    PublishPreview,
    ReasonIn,
    RollbackIn,
    VersionDetail,
    WorkflowCreate,
    WorkflowEdit,
    WorkflowPublic,
)

router = APIRouter(prefix="/api/workflows", tags=["workflows"], responses=AUTH)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_workflow(body: WorkflowCreate, who: WorkflowsWrite, app: AppDep) -> WorkflowPublic:
    workflow_id = app.create_workflow(brokerage_id=who.brokerage_id,
                                      agent_id=app.agent_for(who, body.agent_id),
                                      name=body.name, definition=body.definition())
    return WorkflowPublic.model_validate(app.workflow(workflow_id))


@router.get("")
def list_workflows(who: WorkflowsRead, app: AppDep,
                   query: Annotated[WorkflowQuery, Query()]) -> WorkflowPage:
    """The principal's workflows by name, each with its state, live version, active executions
    and steps sent in the last seven days. A read model that follows the log: a change a
    moment ago may take a moment to show (``GET /api/workflows/{id}`` reads the log)."""
    return WorkflowPage.model_validate(app.list_workflows(who, query.status, query.page(),
                                                          agent_id=query.agent_id))


@router.get("/{workflow_id}", responses=FOUND | ETAG)
def get_workflow(who: WorkflowsRead, workflow_id: WorkflowId, app: AppDep,
                 response: Response) -> WorkflowPublic:
    """The workflow and its draft; the ETag to send as If-Match to edit the draft."""
    view = app.workflow(workflow_id)
    tagged(response, view.version)
    return WorkflowPublic.model_validate(view)


@router.put("/{workflow_id}", responses=CHANGE_ONE | IF_MATCH | ETAG)
def edit_workflow(who: WorkflowsWrite, workflow_id: WorkflowId, body: WorkflowEdit,
                  app: AppDep, if_match: IfMatch, response: Response) -> WorkflowPublic:
    """Edit the draft; published versions and running executions do not change. Needs
    If-Match (any change of the workflow since it was read, a publish too, makes it stale)."""
    view = app.edit_workflow(workflow_id, name=body.name, definition=body.definition(),
                             if_match=if_match, actor=who.actor)
    tagged(response, view.version)
    return WorkflowPublic.model_validate(view)


@router.get("/{workflow_id}/versions/{number}", responses=FOUND)
def get_version(who: WorkflowsRead, workflow_id: WorkflowId, number: int,
                app: AppDep) -> VersionDetail:
    return VersionDetail.model_validate(app.workflow_version(workflow_id, number))


@router.get("/{workflow_id}/publish-preview", responses=FOUND)
def publish_preview(who: WorkflowsRead, workflow_id: WorkflowId, app: AppDep) -> PublishPreview:
    """Before publishing: the next version number, whether the draft can run, how many leads
    are already above the threshold, and how many executions run on each older version."""
    return PublishPreview.model_validate(app.publish_preview(workflow_id))


@router.post("/{workflow_id}/publish", responses=CHANGE_ONE)
def publish_workflow(who: WorkflowsWrite, workflow_id: WorkflowId, app: AppDep,
                     body: PublishIn | None = None
                     ) -> Published:
    body = body or PublishIn()
    return Published.model_validate(app.publish_workflow(workflow_id, backfill=body.backfill,
                                                         migrate=body.migrate,
                                                         actor=who.actor))


@router.post("/{workflow_id}/rollback", responses=CHANGE_ONE)
def rollback_workflow(who: WorkflowsWrite, workflow_id: WorkflowId, body: RollbackIn,
                      app: AppDep) -> Published:
    return Published.model_validate(app.rollback_workflow(workflow_id, body.version,
                                                          migrate=body.migrate,
                                                          actor=who.actor))


@router.post("/{workflow_id}/pause", responses=CHANGE_ONE)
def pause_workflow(who: WorkflowsWrite, workflow_id: WorkflowId, app: AppDep,
                   body: ReasonIn | None = None
                   ) -> WorkflowPublic:
    """No new entries and no sends until resumed; running executions keep their place."""
    reason = (body or ReasonIn()).reason
    return WorkflowPublic.model_validate(app.hold_workflow(workflow_id, True, reason,
                                                           actor=who.actor))


@router.post("/{workflow_id}/resume", responses=FOUND | CHANGE)
def resume_workflow(who: WorkflowsWrite, workflow_id: WorkflowId, app: AppDep) -> WorkflowPublic:
    return WorkflowPublic.model_validate(app.hold_workflow(workflow_id, False, "resumed",
                                                           actor=who.actor))
