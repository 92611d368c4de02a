"""The workflows pages: the list (create, duplicate) and the builder of one workflow.

The builder's page carries the choices the domain allows (channels, units, conditions and their
operators) and its script, ``builder.js``, does the rest over the JSON API: it reads the draft
with its ETag, autosaves each change with If-Match, undoes and redoes through the draft's own
history, shows the draft's problems on the cards, and publishes through the preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import AppDep
from api.pages import PageChange, PageUser, a_page_of, agent_names, page_check, render
from api.pages.message_templates import CHANNELS as CHANNEL_TITLES
from application.errors import Invalid
from domain.definition import CONDITION_FIELDS, PREFERENCE_OPERATORS, STEP_CONDITIONS, UNITS
from domain.personalisation import VARIABLES
from domain.timing import WEEKDAYS

router = APIRouter(include_in_schema=False)

#: How the page names each of the domain's choices (tests/unit/test_builder_page.py checks
#: that every choice has a name).
CHANNELS = {"email": "email", "sms": "SMS", "in_app": "in-app message"}
STEP_CONDITION_NAMES = {"previous_email_not_opened": "The previous email was not opened",
                        "in_app_not_read": "The in-app message was not read",
                        "score_at_least": "The score is at least"}
FIELD_NAMES = {"source": "Source", "move_within_days": "Moves within (days)", "score": "Score"}
PREFERENCE = ("preferences.", "A preference")
OPERATOR_NAMES = {"eq": "equal to", "ne": "not equal to", "in": "one of (commas between)",
                  "gte": "at least", "lte": "at most"}
#: A new workflow's threshold, until the agent changes it.
NEW_THRESHOLD = 80
#: Workflows on a page of the list.
PAGE = 100


def choices() -> dict[str, Any]:
    """The builder's pickers, from the domain's own lists."""
    fields = [(name, FIELD_NAMES[name], ops) for name, ops in CONDITION_FIELDS.items()]
    fields.append((*PREFERENCE, PREFERENCE_OPERATORS))
    return {"channels": list(CHANNELS.items()), "channel_titles": CHANNEL_TITLES,
            "units": list(UNITS), "weekdays": WEEKDAYS,
            "step_conditions": [(k, STEP_CONDITION_NAMES[k]) for k in STEP_CONDITIONS],
            "lead_fields": fields,
            "operators": [(op, OPERATOR_NAMES[op]) for op in PREFERENCE_OPERATORS],
            "variables": list(VARIABLES)}


@router.get("/workflows/{workflow_id}")
def builder_page(request: Request, viewer: PageUser, workflow_id: str,
                 app: AppDep) -> HTMLResponse:
    found = page_check(viewer, app, "Workflow", workflow_id)
    workflow = app.workflow(found)
    templates = [{"id": str(t.id), "name": t.name, "channel": t.channel}
                 for t in app.usable_templates(found)]
    return render(request, "builder.html", viewer=viewer, title=workflow.name,
                  workflow=workflow, templates=templates, **choices())


@router.post("/workflows")
def create_workflow(request: Request, viewer: PageChange, app: AppDep,
                    name: Annotated[str, Form(max_length=200)] = "") -> Response:
    """A new draft with the threshold at 80 and no steps; the builder opens on it."""
    try:
        workflow_id = app.create_workflow(
            brokerage_id=viewer.principal.brokerage_id,
            agent_id=app.agent_for(viewer.principal, None), name=name,
            definition={"trigger": {"score_threshold": NEW_THRESHOLD}, "steps": []})
    except Invalid as e:
        return list_page(request, viewer, app, error=e.reason, name=name, status=422)
    return RedirectResponse(f"/workflows/{workflow_id}", status_code=303)


@router.post("/workflows/{workflow_id}/duplicate")
def duplicate_workflow(viewer: PageChange, workflow_id: str, app: AppDep) -> Response:
    copy = app.duplicate_workflow(page_check(viewer, app, "Workflow", workflow_id))
    return RedirectResponse(f"/workflows/{copy}", status_code=303)


@router.get("/workflows")
def workflows_page(request: Request, viewer: PageUser, app: AppDep,
                   cursor: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    return list_page(request, viewer, app, cursor=cursor)


def list_page(request: Request, viewer: Any, app: Any, *, error: str | None = None,
              name: str = "", status: int = 200, cursor: str = "") -> HTMLResponse:
    """One's own workflows (an admin: the brokerage's), by name, with their status, live
    version, running executions and steps sent in 7 days, from the same use case as
    ``GET /api/workflows``."""
    workflows, more = a_page_of("/workflows", lambda ask: app.list_workflows(
        viewer.principal, None, ask), cursor, PAGE)
    return render(request, "workflows.html", status=status, viewer=viewer, title="Workflows",
                  workflows=workflows, more=more, error=error, new_name=name,
                  agents=agent_names(app, viewer))
