"""Templates: the list, and the editor per channel with a live preview for a chosen lead (or
the sample lead), the variables, and the mistakes with their line. Saving goes to the JSON API
(``POST /api/templates``, ``PUT /api/templates/{id}`` with If-Match)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import AppDep
from api.etags import etag
from api.pages import PageError, PageUser, Viewer, a_page_of, agent_names, page_check, render
from api.pages.leads_list import Filters, matching
from application.access import Forbidden
from application.errors import NotFound
from domain.channels import Channel
from domain.personalisation import VARIABLES
from domain.template import MAX_BODY, MAX_SUBJECT

router = APIRouter(include_in_schema=False)
CHANNELS = {"email": "Email", "sms": "SMS", "in_app": "In-app message"}
assert set(CHANNELS) == {c.value for c in Channel}
#: What a variable is inserted as (an open mapping's key as an example, with a fallback).
#: Templates a page of the list.
PAGE = 100
SNIPPETS = {"lead.preferences.<key>": "{{ lead.preferences.area | default('your area') }}"}


@router.get("/templates")
def templates_page(request: Request, viewer: PageUser, app: AppDep,
                   cursor: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    """One's own templates and the brokerage's (an admin: the brokerage's every one), by
    name, from the same use case as ``GET /api/templates``."""
    items, more = a_page_of("/templates", lambda ask: app.list_templates(
        viewer.principal, None, ask), cursor, PAGE)
    return render(request, "templates.html", viewer=viewer, title="Templates",
                  channels=CHANNELS, items=items, more=more,
                  agents=agent_names(app, viewer))


@router.get("/templates/new")
def new_template_page(request: Request, viewer: PageUser, app: AppDep,
                      channel: str = "email") -> HTMLResponse:
    if channel not in CHANNELS:
        raise PageError(404, "Not found", "There is no such channel.")
    return _editor(request, viewer, app, None, channel, None)


@router.get("/templates/{template_id}")
def template_page(request: Request, template_id: str, viewer: PageUser, app: AppDep,
                  lead: str | None = None, part: str | None = None) -> HTMLResponse:
    """The editor (``?part=meta``: where it is used and its revisions, fetched after a save;
    ``?lead=``: the preview's lead to begin with)."""
    found = page_check(viewer, app, "Template", template_id)
    return _editor(request, viewer, app, found, None, lead, part == "meta")


def _editor(request: Request, viewer: Viewer, app: Any, template_id: UUID | None,
            channel: str | None, lead: str | None, meta: bool = False) -> HTMLResponse:
    view = app.template(template_id) if template_id else None
    return render(
        request, "template_meta.html" if meta else "template_editor.html", viewer=viewer,
        title=view.name if view else f"New {CHANNELS[channel or 'email'].lower()} template",
        template=view, channel=view.channel if view else channel, channels=CHANNELS,
        etag=etag(view.version) if view else "", read_only=_read_only(app, viewer, template_id),
        revisions=_revisions(app, template_id), usage=app.template_usage(template_id)
        if template_id else None, variables=VARIABLES, snippets=SNIPPETS,
        chosen=_chosen(app, viewer, lead), max_body=MAX_BODY, max_subject=MAX_SUBJECT,
        preview_leads=[] if meta else matching(app, viewer, Filters()).items)


def _read_only(app: Any, viewer: Viewer, template_id: UUID | None) -> bool:
    """The brokerage's own template, for an agent: seen and used, changed only by admins."""
    if template_id is None:
        return False
    try:
        app.check(viewer.principal, "Template", template_id, change=True)
    except Forbidden:
        return True
    return False


def _revisions(app: Any, template_id: UUID | None) -> list[tuple[Any, str]]:
    """Each revision, the latest first, with who saved it by name where it is known."""
    if template_id is None:
        return []
    return [(r, _actor(app, r.by) if r.by or r.number > 1 else "as created")
            for r in reversed(app.template_revisions(template_id))]


def _actor(app: Any, by: str | None) -> str:
    who = (by or "").split(" ")[0]
    if who.startswith("user:"):
        try:
            return str(app.user(UUID(who.removeprefix("user:"))).name)
        except (ValueError, NotFound):
            return "a user"
    return "an integration" if who.startswith("token:") else "—"


def _chosen(app: Any, viewer: Viewer, lead: str | None) -> Any:
    """The lead asked for by ``?lead=`` (from a lead's page), if the viewer may see it."""
    if not lead:
        return None
    try:
        return app.lead(page_check(viewer, app, "Lead", lead))
    except PageError:
        return None
