"""Workflows: drafts, publish (with its preview), rollback, pause and resume."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import AppDep
from api.schemas import (
    Published,
    PublishIn,
    ReasonIn,
    RollbackIn,
    StepOut,
    VersionPublic,
    WorkflowCreate,
    WorkflowEdit,
    WorkflowPublic,
)
from domain.workflow import Workflow

router = APIRouter(prefix="/api/workflows", tags=["workflows"])


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def workflow_public(w: Workflow) -> WorkflowPublic:
    draft = w.draft
    state: Literal["draft", "published", "paused"] = (
        "paused" if w.paused else "published" if w.versions else "draft")
    return WorkflowPublic(
        id=w.id, agent_id=w.agent_id, name=w.name, status=state,
        trigger=_camel(draft["trigger"]),
        steps=[StepOut(sequence=i + 1, channel=s["channel"], template_id=s["template_id"],
                       delay_minutes=s["delay_minutes"], conditions=s["conditions"])
               for i, s in enumerate(draft["steps"])],
        send_windows=draft["send_windows"], business_days_only=draft["business_days_only"],
        draft_changed=w.draft_differs,
        versions=[VersionPublic(number=v["number"], published_at=v["published_at"],
                                restored_from=v["restored_from"]) for v in w.versions])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(body: WorkflowCreate, app: AppDep) -> WorkflowPublic:
    workflow_id = app.create_workflow(agent_id=body.agent_id, name=body.name,
                                      definition=body.definition())
    return workflow_public(app.workflow(workflow_id))


@router.get("/{workflow_id}")
def get_workflow(workflow_id: UUID, app: AppDep) -> WorkflowPublic:
    return workflow_public(app.workflow(workflow_id))


@router.put("/{workflow_id}")
def edit_workflow(workflow_id: UUID, body: WorkflowEdit, app: AppDep) -> WorkflowPublic:
    """Edit the draft; published versions and running executions do not change."""
    return workflow_public(app.edit_workflow(workflow_id, name=body.name,
                                             definition=body.definition()))


@router.get("/{workflow_id}/versions/{number}")
def get_version(workflow_id: UUID, number: int, app: AppDep) -> dict[str, Any]:
    version = app.workflow(workflow_id).frozen(number)
    return {"number": version["number"], "publishedAt": version["published_at"],
            "restoredFrom": version["restored_from"],
            "definition": _camel(version["definition"])}


@router.get("/{workflow_id}/publish-preview")
def publish_preview(workflow_id: UUID, app: AppDep) -> dict[str, Any]:
    """Before publishing: the next version number, whether the draft can run, how many leads
    are already above the threshold, and how many executions run on each older version."""
    return app.publish_preview(workflow_id)


@router.post("/{workflow_id}/publish")
def publish_workflow(workflow_id: UUID, app: AppDep, body: PublishIn | None = None
                     ) -> Published:
    body = body or PublishIn()
    return Published.model_validate(app.publish_workflow(workflow_id, backfill=body.backfill,
                                                         migrate=body.migrate))


@router.post("/{workflow_id}/rollback")
def rollback_workflow(workflow_id: UUID, body: RollbackIn, app: AppDep) -> Published:
    return Published.model_validate(app.rollback_workflow(workflow_id, body.version,
                                                          migrate=body.migrate))


@router.post("/{workflow_id}/pause")
def pause_workflow(workflow_id: UUID, app: AppDep, body: ReasonIn | None = None
                   ) -> WorkflowPublic:
    """No new entries and no sends until resumed; running executions keep their place."""
    reason = (body or ReasonIn()).reason
    return workflow_public(app.hold_workflow(workflow_id, True, reason))


@router.post("/{workflow_id}/resume")
def resume_workflow(workflow_id: UUID, app: AppDep) -> WorkflowPublic:
    return workflow_public(app.hold_workflow(workflow_id, False, "resumed"))
