"""Request and response bodies. JSON names are camelCase, as the mobile client already uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel

Channel = Literal["email", "sms", "in_app"]
ExecutionStatus = Literal["active", "paused", "completed", "cancelled"]


class Schema(BaseModel):
    """A response body."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Command(Schema):
    """A request body: unknown fields are refused, so a typo is never silently ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class LeadCreate(Command):
    agent_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$",
                              description="E.164, for example +15551234567")
    timezone: str = "UTC"
    preferences: dict[str, Any] = Field(default_factory=dict)
    timeline: str | None = Field(default=None, max_length=200)
    score: int = Field(default=0, ge=0, le=100)
    external_id: str | None = Field(default=None, max_length=200,
                                    description="the CRM's id; registering it again is a no-op")


class LeadPublic(Schema):
    id: UUID
    agent_id: str
    name: str
    email: str | None
    phone: str | None
    timezone: str
    preferences: dict[str, Any]
    timeline: str | None
    score: int
    status: str
    version: int


class ScoreChange(Command):
    score: int = Field(ge=0, le=100)
    reason: str = Field(default="lead scoring", max_length=200)


class StatusChange(Command):
    status: Literal["new", "contacted", "qualified", "nurturing", "negotiating", "closed", "lost"]
    reason: str = Field(default="agent", max_length=200)


class StepPublic(Schema):
    sequence: int
    channel: Channel
    template_id: str
    delay_minutes: int
    status: str
    due_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0


class ExecutionPublic(Schema):
    id: UUID
    lead_id: UUID
    workflow_id: UUID
    workflow_version: int
    status: ExecutionStatus
    status_reason: str | None
    current_step: int
    started_at: datetime
    completed_at: datetime | None
    steps: list[StepPublic]


class HistoryEntry(Schema):
    position: int
    occurred_at: datetime
    kind: str
    summary: str
    execution_id: UUID | None
    message_id: UUID | None
    data: dict[str, Any]


class InboxItem(Schema):
    message_id: UUID
    subject: str | None
    body: str
    sent_at: datetime


class TemplateCreate(Command):
    name: str = Field(min_length=1, max_length=200)
    channel: Channel
    subject: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)


class TemplatePublic(Schema):
    id: UUID
    name: str
    channel: Channel
    subject: str | None
    body: str


class TriggerIn(Command):
    score_threshold: int = Field(ge=1, le=100)
    trigger_type: Literal["immediate"] = "immediate"
    conditions: list[dict[str, Any]] = Field(default_factory=list, max_length=0,
                                             description="not supported yet: must be empty")


class StepIn(Command):
    channel: Channel
    template_id: UUID
    delay_minutes: int = Field(ge=0, le=525_600)
    conditions: list[dict[str, Any]] = Field(default_factory=list, max_length=0,
                                             description="not supported yet: must be empty")


class WorkflowCreate(Command):
    agent_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    trigger: TriggerIn
    steps: list[StepIn] = Field(min_length=1, max_length=50)


class StepOut(Schema):
    sequence: int
    channel: Channel
    template_id: str
    delay_minutes: int


class VersionPublic(Schema):
    number: int
    published_at: datetime


class WorkflowPublic(Schema):
    id: UUID
    agent_id: str
    name: str
    status: Literal["draft", "published"]
    trigger: dict[str, Any]
    steps: list[StepOut]
    versions: list[VersionPublic]


class Published(Schema):
    workflow_id: UUID
    version: int
