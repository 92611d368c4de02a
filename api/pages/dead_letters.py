"""The dead-letter list: steps whose attempts ran out, each with its lead and workflow, to
replay one at a time or all at once (through the JSON API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import AppDep, RuntimeDep
from api.pages import PageUser, Viewer, render

router = APIRouter(include_in_schema=False)
LIMIT = 500


@dataclass(frozen=True)
class DeadLetter:
    row: dict[str, Any]
    lead: str
    zone: str
    workflow: str


@router.get("/dead-letters")
def dead_letters_page(request: Request, viewer: PageUser, app: AppDep, runtime: RuntimeDep,
                      part: str | None = None) -> HTMLResponse:
    name = "dead_letters_list.html" if part == "list" else "dead_letters.html"
    return render(request, name, viewer=viewer, title="Dead letters",
                  letters=letters(app, runtime, viewer), limit=LIMIT)


def letters(app: Any, runtime: Any, viewer: Viewer) -> list[DeadLetter]:
    """The viewer's dead letters (an agent's own, an admin's brokerage's), oldest first, as
    the API lists them."""
    who = viewer.principal
    rows = runtime.directory.dead_letters(agent_id=None if who.wide else who.agent_id or "",
                                          limit=LIMIT, brokerage_id=who.brokerage_id)
    leads: dict[str, Any] = {}
    names: dict[str, str] = {}
    found = []
    for row in rows:
        lead = leads.get(row["lead_id"]) or leads.setdefault(
            row["lead_id"], app.lead(UUID(row["lead_id"])))
        workflow = names.get(row["workflow_id"]) or names.setdefault(
            row["workflow_id"], app.workflow(UUID(row["workflow_id"])).name)
        found.append(DeadLetter(row, lead.name, lead.timezone, workflow))
    return found
