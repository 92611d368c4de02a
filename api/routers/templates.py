"""Templates: create and read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.auth import LeadReader, PrincipalDep, TemplateId, WorkflowsRead, WorkflowsWrite
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE, FOUND
from api.schemas import PreviewPublic, TemplateCreate, TemplatePublic, TemplateVariable
from domain.personalisation import VARIABLES

router = APIRouter(prefix="/api/templates", tags=["templates"], responses=AUTH)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_template(body: TemplateCreate, who: WorkflowsWrite, app: AppDep) -> TemplatePublic:
    """An agent's template is their own; an admin's (or a brokerage token's) is the
    brokerage's, which every agent of it may use and only admins change."""
    template_id = app.create_template(name=body.name, channel=body.channel,
                                      subject=body.subject, body=body.body,
                                      brokerage_id=who.brokerage_id,
                                      agent_id=None if who.wide else who.agent_id)
    return TemplatePublic.model_validate(app.template(template_id))


@router.get("/variables")
def template_variables(who: PrincipalDep) -> list[TemplateVariable]:
    """The variables a template may use, with what each is (for the template builder)."""
    return [TemplateVariable(name=name, description=text) for name, text in VARIABLES.items()]


@router.get("/{template_id}", responses=FOUND)
def get_template(who: WorkflowsRead, template_id: TemplateId, app: AppDep) -> TemplatePublic:
    return TemplatePublic.model_validate(app.template(template_id))


@router.get("/{template_id}/preview", responses=FOUND)
def preview_template(_: WorkflowsRead, who: LeadReader, template_id: TemplateId, app: AppDep,
                     lead_id: Annotated[UUID | None, Query(alias="leadId")] = None
                     ) -> PreviewPublic:
    """The template rendered for the lead ``leadId`` (a sample lead without one); ``skipped``
    says why a send to this lead would skip the step instead (a value the lead lacks). With
    ``leadId`` it needs ``leads:read`` as well."""
    if lead_id is not None:
        app.check(who, "Lead", lead_id)
    return PreviewPublic.model_validate(app.preview(template_id, lead_id))
