"""The leads list: search by name or email, filter by status and score range, a page at a
time, from the same use case as ``GET /api/leads`` (the directory read model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.pages import Viewer
from application.errors import Invalid
from application.list_views import LeadFilter, LeadSummary, Page, PageAsk
from domain.lead import LeadStatus
from domain.scoring import MAX_SCORE, MIN_SCORE

PAGE = 50
STATUSES = [s.value for s in LeadStatus]
#: The list's query fields by the names the page's form gives them.
FIELDS = {"scoreMin": "score_min", "scoreMax": "score_max", "q": "q", "status": "status",
          "cursor": "cursor"}


@dataclass
class Filters:
    """The list's query as the agent typed it, and what was wrong with it, by field."""
    q: str = ""
    status: str = ""
    score_min: str = ""
    score_max: str = ""
    cursor: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def score(self, name: str) -> int | None:
        text = getattr(self, name).strip()
        if not text:
            return None
        if not text.lstrip("-").isdigit() or not MIN_SCORE <= int(text) <= MAX_SCORE:
            self.errors[name] = f"a whole number from {MIN_SCORE} to {MAX_SCORE}"
            return None
        return int(text)

    def wanted(self) -> LeadFilter:
        if self.status and self.status not in STATUSES:
            self.errors["status"] = "is not a status"
        low, high = self.score("score_min"), self.score("score_max")
        if low is not None and high is not None and low > high:
            self.errors["score_min"] = "is above Score to"  # the screen's names, not the API's
        return LeadFilter(status=self.status or None, score_min=low, score_max=high,
                          q=self.q.strip() or None)

    @property
    def asked(self) -> bool:
        return bool(self.q or self.status or self.score_min or self.score_max)


def matching(app: Any, viewer: Viewer, filters: Filters, limit: int = PAGE) -> Page[LeadSummary]:
    """A page of the viewer's leads that match (none, with the reasons in ``filters.errors``,
    for a query that cannot be asked)."""
    wanted = filters.wanted()
    if not filters.errors:
        try:
            return app.list_leads(viewer.principal, wanted,  # type: ignore[no-any-return]
                                  PageAsk(limit=limit, cursor=filters.cursor or None))
        except Invalid as e:
            filters.errors[FIELDS.get(e.field, e.field)] = e.reason
    return Page(items=[], next=None)
