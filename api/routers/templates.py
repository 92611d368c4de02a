"""Templates: create and read."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.deps import AppDep
from api.errors import BODY, CHANGE, FOUND
from api.schemas import TemplateCreate, TemplatePublic
from domain.personalisation import VARIABLES
from domain.template import Template

router = APIRouter(prefix="/api/templates", tags=["templates"])


def template_public(t: Template) -> TemplatePublic:
    return TemplatePublic(id=t.id, name=t.name, channel=t.channel,  # type: ignore[arg-type]
                          subject=t.subject, body=t.body)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CHANGE | BODY)
def create_template(body: TemplateCreate, app: AppDep) -> TemplatePublic:
    template_id = app.create_template(name=body.name, channel=body.channel,
                                      subject=body.subject, body=body.body)
    return template_public(app.template(template_id))


@router.get("/variables")
def template_variables() -> list[dict[str, str]]:
    """The variables a template may use, with what each is (for the template builder)."""
    return [{"name": name, "description": text} for name, text in VARIABLES.items()]


@router.get("/{template_id}", responses=FOUND)
def get_template(template_id: UUID, app: AppDep) -> TemplatePublic:
    return template_public(app.template(template_id))


@router.get("/{template_id}/preview", responses=FOUND)
def preview_template(template_id: UUID, app: AppDep,
                     lead_id: Annotated[UUID | None, Query(alias="leadId")] = None
                     ) -> dict[str, Any]:
    """The template rendered for the lead ``leadId`` (a sample lead without one); ``skipped``
    says why a send to this lead would skip the step instead (a value the lead lacks)."""
    return app.preview(template_id, lead_id)
