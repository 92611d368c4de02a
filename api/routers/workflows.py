"""Workflows: create a draft, read it, publish it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from api.deps import AppDep
from api.schemas import Published, StepOut, VersionPublic, WorkflowCreate, WorkflowPublic
from domain.workflow import Workflow

router = APIRouter(prefix="/api/workflows", tags=["workflows"])


def workflow_public(w: Workflow) -> WorkflowPublic:
    return WorkflowPublic(
        id=w.id, agent_id=w.agent_id, name=w.name,
        status="published" if w.versions else "draft",
        trigger={"scoreThreshold": w.score_threshold, "triggerType": "immediate",
                 "conditions": []},
        steps=[StepOut(sequence=i, channel=s["channel"], template_id=s["template_id"],
                       delay_minutes=s["delay_minutes"]) for i, s in enumerate(w.steps)],
        versions=[VersionPublic(number=v["number"], published_at=v["published_at"])
                  for v in w.versions])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(body: WorkflowCreate, app: AppDep) -> WorkflowPublic:
    steps = [{"channel": s.channel, "template_id": str(s.template_id),
              "delay_minutes": s.delay_minutes} for s in body.steps]
    workflow_id = app.create_workflow(agent_id=body.agent_id, name=body.name,
                                      score_threshold=body.trigger.score_threshold, steps=steps)
    return workflow_public(app.workflow(workflow_id))


@router.get("/{workflow_id}")
def get_workflow(workflow_id: UUID, app: AppDep) -> WorkflowPublic:
    return workflow_public(app.workflow(workflow_id))


@router.post("/{workflow_id}/publish")
def publish_workflow(workflow_id: UUID, app: AppDep) -> Published:
    return Published(workflow_id=workflow_id, version=app.publish_workflow(workflow_id))
