"""The leads pages: the list, one lead, its parts (fetched again as its history moves) and
the stream of its new history entries (server-sent events)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import HTMLResponse
from sse_starlette import EventSourceResponse

from api.deps import AppDep, RuntimeDep
from api.pages import PageUser, agent_names, page_check, render
from api.pages.lead_events import new_entries
from api.pages.lead_view import part_context, timeline
from api.pages.leads_list import PAGE, STATUSES, Filters, matching

router = APIRouter(include_in_schema=False)
Part = Literal["summary", "status", "consent", "profile", "score", "executions", "inbox"]


@router.get("/leads")
def leads_page(request: Request, viewer: PageUser, app: AppDep,
               q: Annotated[str, Query(max_length=200)] = "",
               status: Annotated[str, Query(max_length=20)] = "",
               score_min: Annotated[str, Query(alias="scoreMin", max_length=100)] = "",
               score_max: Annotated[str, Query(alias="scoreMax", max_length=100)] = "",
               cursor: Annotated[str, Query(max_length=1000)] = "",
               part: str | None = None) -> HTMLResponse:
    """The list (``?part=results``: the results alone, as the page's script fetches them)."""
    filters = Filters(q=q, status=status, score_min=score_min, score_max=score_max,
                      cursor=cursor)
    found = matching(app, viewer, filters)
    return render(request, "leads_results.html" if part == "results" else "leads.html",
                  viewer=viewer, title="Leads", filters=filters, found=found,
                  agents=agent_names(app, viewer),
                  statuses=STATUSES, page=PAGE, more=_more(request, found.next))


def _more(request: Request, cursor: str | None) -> str | None:
    """The address of the page after (the same filters, the next cursor)."""
    if cursor is None:
        return None
    asked = {k: v for k, v in request.query_params.items() if k not in ("cursor", "part") and v}
    return "/leads?" + urlencode({**asked, "cursor": cursor})


@router.get("/leads/{lead_id}")
def lead_page(request: Request, lead_id: str, viewer: PageUser, app: AppDep,
              runtime: RuntimeDep) -> HTMLResponse:
    found = page_check(viewer, app, "Lead", lead_id)
    return render(request, "lead.html", viewer=viewer,
                  **part_context(app, runtime, found, "page"))


@router.get("/leads/{lead_id}/parts/{part}")
def lead_part(request: Request, lead_id: str, part: Annotated[Part, Path()], viewer: PageUser,
              app: AppDep, runtime: RuntimeDep) -> HTMLResponse:
    """One part of the lead page, as the page has it (its script swaps it in)."""
    found = page_check(viewer, app, "Lead", lead_id)
    return render(request, f"lead/{part}.html", viewer=viewer,
                  **part_context(app, runtime, found, part))


@router.get("/leads/{lead_id}/earlier")
def lead_earlier(request: Request, lead_id: str, viewer: PageUser, app: AppDep,
                 runtime: RuntimeDep,
                 before: Annotated[int | None, Query(ge=0)] = None) -> HTMLResponse:
    """The timeline's next batch of entries before the log position ``before`` (its
    "Show earlier entries"; without it, the newest), with the control for the batch after."""
    found = page_check(viewer, app, "Lead", lead_id)
    return render(request, "lead/earlier_batch.html", viewer=viewer,
                  zone=app.lead(found).timezone, **timeline(runtime, found, before=before))


@router.get("/leads/{lead_id}/events")
def lead_events(request: Request, lead_id: str, viewer: PageUser, app: AppDep,
                runtime: RuntimeDep, after: int = 0,
                last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    """The lead's new history entries as they land (``history`` events, each with the
    entries' HTML and kinds; the id is the last entry's log position, so a reconnecting
    browser carries on after it). Checked as the page is; a stream ends after a few minutes,
    and the browser's reconnection is checked again."""
    found = page_check(viewer, app, "Lead", lead_id)
    since = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    return EventSourceResponse(new_entries(request, app, runtime, found, since),
                               ping=15, headers={"Cache-Control": "no-store"})
