"""Templates: create and read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.deps import AppDep
from api.errors import BODY, CHANGE, FOUND
from api.schemas import PreviewPublic, TemplateCreate, TemplatePublic, TemplateVariable
from domain.personalisation import VARIABLES

router = APIRouter(prefix="/api/templates", tags=["templates"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_template(body: TemplateCreate, app: AppDep) -> TemplatePublic:
    template_id = app.create_template(name=body.name, channel=body.channel,
                                      subject=body.subject, body=body.body)
    return TemplatePublic.model_validate(app.template(template_id))


@router.get("/variables")
def template_variables() -> list[TemplateVariable]:
    """The variables a template may use, with what each is (for the template builder)."""
    return [TemplateVariable(name=name, description=text) for name, text in VARIABLES.items()]


@router.get("/{template_id}", responses=FOUND)
def get_template(template_id: UUID, app: AppDep) -> TemplatePublic:
    return TemplatePublic.model_validate(app.template(template_id))


@router.get("/{template_id}/preview", responses=FOUND)
def preview_template(template_id: UUID, app: AppDep,
                     lead_id: Annotated[UUID | None, Query(alias="leadId")] = None
                     ) -> PreviewPublic:
    """The template rendered for the lead ``leadId`` (a sample lead without one); ``skipped``
    says why a send to this lead would skip the step instead (a value the lead lacks)."""
    return PreviewPublic.model_validate(app.preview(template_id, lead_id))
