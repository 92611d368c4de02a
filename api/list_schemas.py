"""The lists' query parameters and pages: ``{"items": [...], "next": "<cursor>" | null}``.

Each list's query is one model: camelCase names only, and a name the list does not take is
refused (422 naming ``query.<name>``), so a misspelt filter never silently lists everything."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas import Channel, ExecutionStatus, LeadStatus, QueryText, Schema, WorkflowState
from application.list_views import (
    DEFAULT_LIMIT,
    ENROLLED,
    LEAD_SORTS,
    MAX_LIMIT,
    ExecutionFilter,
    LeadFilter,
    PageAsk,
)
from domain.scoring import MAX_SCORE, MIN_SCORE

if TYPE_CHECKING:
    LeadSort = str
else:
    LeadSort = Literal[LEAD_SORTS]

CURSOR = "the `next` of the page before, as it came (leave it out for the first page)"


class ListQuery(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                       description=f"rows a page, at most {MAX_LIMIT}")
    cursor: QueryText | None = Field(default=None, min_length=1, max_length=1000,
                                     description=CURSOR)

    def page(self) -> PageAsk:
        return PageAsk(limit=self.limit, cursor=self.cursor)


class OwnedQuery(ListQuery):
    agent_id: QueryText | None = Field(
        default=None, min_length=1, max_length=100,
        description="one agent's (an admin or a brokerage token; an agent's lists are theirs)")


class LeadQuery(OwnedQuery):
    status: LeadStatus | None = None
    score_min: int | None = Field(default=None, ge=MIN_SCORE, le=MAX_SCORE)
    score_max: int | None = Field(default=None, ge=MIN_SCORE, le=MAX_SCORE)
    q: QueryText | None = Field(
        default=None, min_length=1, max_length=200,
        description="words (at most 8), each the start of a word of the lead's name or email, "
                    "in any case: `ana lim`, `gmail`")
    workflow_id: UUID | None = Field(
        default=None, description=f"leads with a {' or '.join(ENROLLED)} execution of it")
    sort: LeadSort = Field(default="score", description="`score`: highest first (newest "
                           "first among equals); `created`: newest registration first")

    def wanted(self) -> LeadFilter:
        return LeadFilter(status=self.status, score_min=self.score_min,
                          score_max=self.score_max, q=self.q, workflow_id=self.workflow_id,
                          sort=self.sort)


class ExecutionQuery(OwnedQuery):
    status: ExecutionStatus | None = None
    workflow_id: UUID | None = None
    lead_id: UUID | None = None

    def wanted(self) -> ExecutionFilter:
        return ExecutionFilter(status=self.status, workflow_id=self.workflow_id,
                               lead_id=self.lead_id)


class WorkflowQuery(OwnedQuery):
    status: WorkflowState | None = None


class TemplateQuery(ListQuery):
    channel: Channel | None = None


NEXT = "the cursor of the page after; null on the last page"


class LeadItem(Schema):
    id: UUID
    agent_id: str
    name: str
    email: str | None
    score: int
    status: LeadStatus
    created_at: datetime
    updated_at: datetime = Field(description="the last registration, score, status or "
                                             "profile change")


class LeadPage(Schema):
    items: list[LeadItem] = Field(description="by score (highest first) or newest first")
    next: str | None = Field(description=NEXT)


class ExecutionItem(Schema):
    id: UUID
    lead_id: UUID
    agent_id: str
    workflow_id: UUID
    workflow_version: int
    status: ExecutionStatus
    started_at: datetime


class ExecutionPage(Schema):
    items: list[ExecutionItem] = Field(description="the latest started first")
    next: str | None = Field(description=NEXT)


class WorkflowItem(Schema):
    id: UUID
    agent_id: str
    name: str
    status: WorkflowState
    live_version: int | None = Field(description="the newest published version; null for a "
                                                 "draft never published")
    active_executions: int
    sent_last_7_days: int = Field(description="steps sent, counted by the hour: from the hour "
                                              "seven days ago (counted whole) to now")
    updated_at: datetime


class WorkflowPage(Schema):
    items: list[WorkflowItem] = Field(description="by name")
    next: str | None = Field(description=NEXT)


class TemplateItem(Schema):
    id: UUID
    agent_id: str | None = Field(description="null: the brokerage's own, for all its agents")
    name: str
    channel: Channel
    subject: str | None
    updated_at: datetime


class TemplatePage(Schema):
    items: list[TemplateItem] = Field(description="by name")
    next: str | None = Field(description=NEXT)
