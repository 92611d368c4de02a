"""What the lead page shows, part by part (each part is also a fragment the page's script
fetches again when the lead's history moves): read from the same use cases and read models as
the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.deps import Runtime
from api.pages.formatting import MAX_DOTS, score_chart, score_points, shown
from application.views import ExecutionView, LeadView
from domain.actors import NO_REASON
from domain.execution import RESUME_POLICIES
from domain.lead import STOPPING_STATUSES, LeadStatus

STATUSES = [s.value for s in LeadStatus]
STOPPING = frozenset(s.value for s in STOPPING_STATUSES)
CHANNELS = {"email": "Email", "sms": "SMS", "in_app": "In-app messages"}
CHANNEL_NAMES = {"email": "Email", "sms": "SMS", "in_app": "In-app message"}
POLICIES = {"shift": "Shift the schedule by the pause",
            "skip_overdue": "Skip the steps that fell due"}
assert set(POLICIES) == set(RESUME_POLICIES)
#: How the history read model begins the reason of a pause by a closing status.
STATUS_PAUSE = "lead status became "
#: The parts of the page a script may fetch again (``/leads/{id}/parts/{part}``).
PARTS = ("summary", "status", "consent", "profile", "score", "executions", "inbox")
#: Timeline entries the page shows at first, and each "Show earlier" adds.
TIMELINE_BATCH = 100
#: Score changes the chart draws at most (the newest).
SCORE_POINTS = 500
SCORE_KINDS = ("Lead.Created", "Lead.ScoreChanged")
#: Rows of the score's table (the chart's text alternative): the newest changes.
SCORE_TABLE_ROWS = 50


@dataclass(frozen=True)
class Execution:
    """An execution with its workflow's name, and what the agent may do to it now."""
    view: ExecutionView
    workflow: str

    @property
    def dead_lettered(self) -> bool:
        return self.view.dead_letter_step is not None

    @property
    def controls(self) -> list[str]:
        """The overrides its status allows, in the order the page shows them."""
        status = self.view.status
        if status == "active":
            return ["pause", "skip", "send-now", "cancel", "restart"]
        if status == "paused" and self.dead_lettered:
            return ["replay", "cancel", "restart"]
        if status == "paused":
            return ["resume", "skip", "cancel", "restart"]
        return ["restart"]

    @property
    def paused_by_status(self) -> bool:
        return (self.view.status == "paused" and not self.dead_lettered
                and (self.view.status_reason or "").startswith(STATUS_PAUSE))


def part_context(app: Any, runtime: Runtime, lead_id: UUID, part: str) -> dict[str, Any]:
    """The template context of one part (the whole page: every part)."""
    lead: LeadView = app.lead(lead_id)
    ctx: dict[str, Any] = {"lead": lead, "zone": lead.timezone, "statuses": STATUSES,
                           "stopping": STOPPING, "channels": CHANNELS, "policies": POLICIES,
                           "channel_names": CHANNEL_NAMES, "shown": shown,
                           "no_reason": NO_REASON}
    if part in ("page", "executions", "status"):
        ctx["executions"] = executions(app, lead_id)
        ctx["resumable"] = [x for x in ctx["executions"] if x.paused_by_status]
    if part in ("page", "score"):
        scores = runtime.history.for_lead(str(lead_id), limit=SCORE_POINTS, newest=True,
                                          kinds=SCORE_KINDS)
        ctx.update(score_context(scores, app.clock.now()), max_dots=MAX_DOTS,
                   score_limit=SCORE_POINTS, table_rows=SCORE_TABLE_ROWS)
    if part == "page":
        ctx.update(timeline(runtime, lead_id, before=None))
        ctx["last_position"] = ctx["entries"][0]["position"] if ctx["entries"] else 0
    if part in ("page", "inbox"):
        ctx["inbox"] = runtime.messages.inbox(str(lead_id))
        ctx["unread"] = runtime.messages.unread(str(lead_id))
    return ctx


def timeline(runtime: Runtime, lead_id: UUID, before: int | None) -> dict[str, Any]:
    """A batch of the lead's timeline, newest first, before the log position ``before`` (None:
    the newest), and where the next batch would start (None: this one reaches the first)."""
    found = runtime.history.for_lead(str(lead_id), limit=TIMELINE_BATCH + 1, newest=True,
                                     before=before)
    more = len(found) > TIMELINE_BATCH
    entries = list(reversed(found[1:] if more else found))
    return {"entries": entries, "earlier": entries[-1]["position"] if more else None}


def executions(app: Any, lead_id: UUID) -> list[Execution]:
    """The lead's executions, the latest started first, each with its workflow's name."""
    names: dict[UUID, str] = {}
    found = []
    for view in reversed(app.lead_executions(lead_id)):
        if view.workflow_id not in names:
            names[view.workflow_id] = app.workflow(view.workflow_id).name
        found.append(Execution(view, f"{names[view.workflow_id]} v{view.workflow_version}"))
    return found


def score_context(entries: list[dict[str, Any]], now: Any) -> dict[str, Any]:
    points = score_points(entries)
    return {"score_points": points, "score_chart": score_chart(points, now)}
