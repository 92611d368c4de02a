"""Templates: create and read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import AppDep
from api.errors import BODY, CHANGE, FOUND
from api.schemas import TemplateCreate, TemplatePublic
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


@router.get("/{template_id}", responses=FOUND)
def get_template(template_id: UUID, app: AppDep) -> TemplatePublic:
    return template_public(app.template(template_id))


@router.get("/{template_id}/preview", responses=FOUND)
def preview_template(template_id: UUID, app: AppDep) -> dict[str, Any]:
    return app.preview(template_id)
