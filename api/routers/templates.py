"""Templates: create, edit (each save a numbered revision), read, preview, usage."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.auth import PrincipalDep, TemplateId, TemplateToChange, WorkflowsRead, WorkflowsWrite
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE, CHANGE_ONE, FOUND, IF_MATCH
from api.etags import ETAG, IfMatch, tagged
from api.list_schemas import TemplatePage, TemplateQuery
from api.schemas import (
    PreviewPublic,
    RevisionPublic,
    RevisionSummary,
    TemplateCreate,
    TemplateEdit,
    TemplatePreviewIn,
    TemplatePublic,
    TemplateUsage,
    TemplateVariable,
)
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


@router.get("")
def list_templates(who: WorkflowsRead, app: AppDep,
                   query: Annotated[TemplateQuery, Query()]) -> TemplatePage:
    """By name: an agent's own templates and the brokerage's own (which its agents use); an
    admin's or a brokerage token's, all of the brokerage's. A read model that follows the log:
    a template saved a moment ago may take a moment to show."""
    return TemplatePage.model_validate(app.list_templates(who, query.channel, query.page()))


@router.get("/variables")
def template_variables(who: PrincipalDep) -> list[TemplateVariable]:
    """The variables a template may use, with what each is (for the template builder)."""
    return [TemplateVariable(name=name, description=text) for name, text in VARIABLES.items()]


@router.post("/preview", responses=FOUND | BODY)
def preview_text(body: TemplatePreviewIn, who: WorkflowsRead, app: AppDep) -> PreviewPublic:
    """Texts not saved yet, checked as a save checks them (422 naming ``body.body`` or
    ``body.subject``, with the ``line`` of a mistake in the text) and rendered for the lead
    ``leadId`` (a sample lead without one). Nothing is stored."""
    if body.lead_id is not None:
        app.check(who, "Lead", body.lead_id)
    return PreviewPublic.model_validate(app.preview_text(
        channel=body.channel, subject=body.subject, body=body.body, lead_id=body.lead_id))


@router.get("/{template_id}", responses=FOUND | ETAG)
def get_template(who: WorkflowsRead, template_id: TemplateId, app: AppDep,
                 response: Response) -> TemplatePublic:
    """The latest revision, and its number; the ETag to send as If-Match to edit it."""
    view = app.template(template_id)
    tagged(response, view.version)
    return TemplatePublic.model_validate(view)


@router.put("/{template_id}", responses=CHANGE_ONE | IF_MATCH | ETAG)
def edit_template(who: WorkflowsWrite, template_id: TemplateToChange, body: TemplateEdit,
                  app: AppDep, if_match: IfMatch, response: Response) -> TemplatePublic:
    """Save a new revision (checked as a new template is); live workflow versions keep
    sending the revision they pinned until republished (see ``/usage``). Needs If-Match."""
    view = app.revise_template(template_id, name=body.name, subject=body.subject,
                               body=body.body, if_match=if_match, actor=who.actor)
    tagged(response, view.version)
    return TemplatePublic.model_validate(view)


@router.get("/{template_id}/revisions", responses=FOUND)
def template_revisions(who: WorkflowsRead, template_id: TemplateId,
                       app: AppDep) -> list[RevisionSummary]:
    """Every revision, the first (as created) first."""
    return [RevisionSummary.model_validate(r) for r in app.template_revisions(template_id)]


@router.get("/{template_id}/revisions/{number}", responses=FOUND)
def template_revision(who: WorkflowsRead, template_id: TemplateId, number: int,
                      app: AppDep) -> RevisionPublic:
    return RevisionPublic.model_validate(app.template_revision(template_id, number))


@router.get("/{template_id}/usage", responses=FOUND)
def template_usage(who: WorkflowsRead, template_id: TemplateId, app: AppDep) -> TemplateUsage:
    """What to offer to republish after an edit: workflows whose live version sends an older
    revision, and drafts with the template (the publish preview tells each one's impact)."""
    return TemplateUsage.model_validate(app.template_usage(template_id))


@router.get("/{template_id}/preview", responses=FOUND)
def preview_template(who: WorkflowsRead, template_id: TemplateId, app: AppDep,
                     lead_id: Annotated[UUID | None, Query(alias="leadId")] = None,
                     revision: Annotated[int | None, Query(ge=1)] = None) -> PreviewPublic:
    """The template (at ``revision``, else its latest) rendered for the lead ``leadId`` (a
    sample lead without one); ``skipped`` says why a send to this lead would skip the step
    instead (a value the lead lacks)."""
    if lead_id is not None:
        app.check(who, "Lead", lead_id)
    return PreviewPublic.model_validate(app.preview(template_id, lead_id, revision))
