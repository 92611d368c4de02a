"""The leads list: search by name or email, filter by status and score range.

Until the directory's own lists are merged (``GET /api/leads``: cursor pages and a
word-prefix search), this reads ``projections.lead_search``: the leads within the viewer's
reach by status and score, each read through the lead use case, names and emails searched
here; the first ``PAGE`` that match are shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.pages import Viewer
from application.views import LeadView
from domain.lead import LeadStatus
from domain.scoring import MAX_SCORE, MIN_SCORE
from projections.lead_search import LeadQuery, lead_ids

PAGE = 50
STATUSES = [s.value for s in LeadStatus]


@dataclass
class Filters:
    """The list's query as the agent typed it, and what was wrong with it, by field."""
    q: str = ""
    status: str = ""
    score_min: str = ""
    score_max: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def score(self, name: str) -> int | None:
        text = getattr(self, name).strip()
        if not text:
            return None
        if not text.lstrip("-").isdigit() or not MIN_SCORE <= int(text) <= MAX_SCORE:
            self.errors[name] = f"a whole number from {MIN_SCORE} to {MAX_SCORE}"
            return None
        return int(text)


def matching(app: Any, runtime: Any, viewer: Viewer, filters: Filters) -> list[LeadView]:
    low, high = filters.score("score_min"), filters.score("score_max")
    if low is not None and high is not None and low > high:
        filters.errors["score_min"] = "is above the highest score asked for"
    if filters.status and filters.status not in STATUSES:
        filters.errors["status"] = "is not a status"
    if filters.errors:
        return []
    who = viewer.principal
    query = LeadQuery(brokerage_id=who.brokerage_id, agent_id=None if who.wide else who.agent_id,
                      status=filters.status or None, score_min=low, score_max=high)
    words = filters.q.casefold().split()
    found = []
    for lead_id in lead_ids(runtime.directory.engine, query):
        lead: LeadView = app.lead(lead_id)
        text = f"{lead.name} {lead.email or ''}".casefold()
        if all(word in text for word in words):
            found.append(lead)
            if len(found) == PAGE:
                break
    return found
