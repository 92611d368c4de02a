"""What the lists ask and answer: whose things a list reaches, its filters, a page of rows.

The lists are read models (eventually consistent with the log): a lead registered a moment ago
may take a moment to appear; the single-object use cases read the log itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")

#: Rows in a page, by default and at most.
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


@dataclass(frozen=True)
class Reach:
    """Whose things a list shows: the brokerage's, or one agent's of it (for templates, the
    agent's own and the brokerage's own, which its agents use)."""
    brokerage_id: UUID
    agent_id: str | None  # None: every agent's


@dataclass(frozen=True)
class PageAsk:
    """Which page: after ``cursor`` (the ``next`` of the page before; None: the first)."""
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows in the list's order, and the cursor of the page after (None: this is the last)."""
    items: list[T]
    next: str | None


#: The orders a lead list may take: score (highest first) or registration (newest first).
LEAD_SORTS = ("score", "created")
#: Leads "in" a workflow: those with an execution of it in these statuses.
ENROLLED = ("active", "paused")


@dataclass(frozen=True)
class LeadFilter:
    status: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    q: str | None = None  # words, each the start of a word of the name or of the email
    workflow_id: UUID | None = None  # with a live execution of it (ENROLLED)
    sort: str = "score"


@dataclass(frozen=True)
class ExecutionFilter:
    status: str | None = None
    workflow_id: UUID | None = None
    lead_id: UUID | None = None


@dataclass(frozen=True)
class LeadSummary:
    id: UUID
    agent_id: str
    name: str
    email: str | None
    score: int
    status: str
    created_at: datetime
    updated_at: datetime  # the last registration, score, status or profile change


@dataclass(frozen=True)
class ExecutionSummary:
    id: UUID
    lead_id: UUID
    agent_id: str
    workflow_id: UUID
    workflow_version: int
    status: str
    started_at: datetime


@dataclass(frozen=True)
class WorkflowSummary:
    id: UUID
    agent_id: str
    name: str
    status: str  # draft, published, paused
    live_version: int | None  # the newest published version (what new entries start on)
    active_executions: int
    sent_last_7_days: int  # steps sent, counted by the hour (see Catalogue.workflow_page)
    updated_at: datetime


@dataclass(frozen=True)
class TemplateSummary:
    id: UUID
    agent_id: str | None  # None: the brokerage's own
    name: str
    channel: str
    subject: str | None
    updated_at: datetime
