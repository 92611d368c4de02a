"""Request and response bodies. JSON names are camelCase, as the mobile client already uses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator
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
    source: str | None = Field(default=None, max_length=100,
                               description="where the lead came from (zillow, referral ...)")
    move_by: date | None = Field(default=None, description="when the lead wants to move")


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
    source: str | None
    move_by: str | None
    opted_out: list[str]
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
    message_id: UUID | None = None
    note: str | None = Field(default=None, description="why it failed or was skipped")
    window: dict[str, Any] | None = None
    conditions: list[dict[str, Any]] = Field(default_factory=list)


class ExecutionPublic(Schema):
    id: UUID
    lead_id: UUID
    workflow_id: UUID
    workflow_version: int
    status: ExecutionStatus
    status_reason: str | None
    current_step: int
    round: int
    timezone: str
    trigger: dict[str, Any]
    started_at: datetime
    completed_at: datetime | None
    dead_letter_step: int | None = Field(
        default=None, description="the step held after its attempts ran out: replay it, or "
                                  "cancel or restart the execution")
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


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ConditionIn(Command):
    """A rule on the lead: ``source``, ``move_within_days``, ``score`` or ``preferences.<key>``."""

    field: str = Field(min_length=1, max_length=100)
    op: Literal["eq", "ne", "in", "gte", "lte"]
    value: Any


class ReentryIn(Command):
    mode: Literal["never", "after_end", "after_days"] = "after_end"
    days: int | None = Field(default=None, ge=1, le=3650)


class TriggerIn(Command):
    score_threshold: int = Field(ge=1, le=100)
    trigger_type: Literal["immediate", "delayed"] = "immediate"
    delay_minutes: int = Field(default=0, ge=0, le=525_600,
                               description="for a delayed trigger: wait before step one")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    reentry: ReentryIn = Field(default_factory=ReentryIn)
    hysteresis: int = Field(default=0, ge=0, le=100,
                            description="points the score must fall below the threshold "
                                        "before a new crossing counts")
    priority: int = Field(default=0, ge=-1000, le=1000)
    exclusive_group: str | None = Field(default=None, max_length=100)


class Delay(Command):
    amount: int = Field(ge=0, le=525_600)
    unit: Literal["minutes", "hours", "days"]


class StepConditionIn(Command):
    kind: Literal["previous_email_not_opened", "in_app_not_read", "score_at_least"]
    value: int | None = Field(default=None, ge=0, le=100)


class StepIn(Command):
    channel: Channel
    template_id: UUID
    delay_minutes: int | None = Field(default=None, ge=0, le=525_600)
    delay: Delay | None = Field(default=None, description="alternative to delayMinutes")
    conditions: list[StepConditionIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _one_delay(self) -> StepIn:
        if self.delay is not None and self.delay_minutes is not None:
            raise ValueError("give delayMinutes or delay, not both")
        if self.delay is not None:
            minutes = self.delay.amount * {"minutes": 1, "hours": 60, "days": 1440}[self.delay.unit]
            if minutes > 525_600:
                raise ValueError("a delay is at most 365 days")
            self.delay_minutes, self.delay = minutes, None
        self.delay_minutes = self.delay_minutes or 0
        return self


class WindowIn(Command):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", description="HH:MM or 24:00")
    weekdays: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1)


class DefinitionIn(Command):
    trigger: TriggerIn
    steps: list[StepIn] = Field(default_factory=list, max_length=50)
    send_windows: dict[Channel, WindowIn] = Field(
        default_factory=dict, description="per channel; sms inside 08:00-21:00")
    business_days_only: bool = False

    @model_validator(mode="after")
    def _sms_hours(self) -> DefinitionIn:
        sms = self.send_windows.get("sms")  # HH:MM strings order as the times do
        if sms is not None and not (sms.start >= "08:00" and sms.end <= "21:00"):
            raise ValueError("sendWindows.sms must lie inside 08:00-21:00 (SMS is never sent "
                             "21:00-08:00 in the lead's time zone)")
        return self

    def definition(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"agent_id", "name"})


class WorkflowCreate(DefinitionIn):
    agent_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)


class WorkflowEdit(DefinitionIn):
    name: str = Field(min_length=1, max_length=200)


class StepOut(Schema):
    sequence: int
    channel: Channel
    template_id: str
    delay_minutes: int
    conditions: list[dict[str, Any]]


class VersionPublic(Schema):
    number: int
    published_at: datetime
    restored_from: int | None


class WorkflowPublic(Schema):
    id: UUID
    agent_id: str
    name: str
    status: Literal["draft", "published", "paused"]
    trigger: dict[str, Any]
    steps: list[StepOut]
    send_windows: dict[str, dict[str, Any]]
    business_days_only: bool
    draft_changed: bool
    versions: list[VersionPublic]


class PublishIn(Command):
    backfill: bool = Field(default=False, description="also start it for leads already above "
                                                      "the threshold")
    migrate: Literal["keep", "move"] = Field(default="keep", description="running executions "
                                             "stay on their version, or move at their next step")


class RollbackIn(Command):
    version: int = Field(ge=1)
    migrate: Literal["keep", "move"] = "keep"


class ReasonIn(Command):
    reason: str = Field(default="agent", min_length=1, max_length=200)


class ResumeIn(Command):
    policy: Literal["shift", "skip_overdue"] = Field(
        default="shift", description="overdue steps: shift the schedule by the time paused, "
                                     "or skip them")


class ConsentIn(Command):
    channel: Channel
    allowed: bool
    reason: str = Field(default="lead request", max_length=200)


class Published(Schema):
    workflow_id: UUID
    version: int
    backfilled: int
    migrated: int


class DeadLetterPublic(Schema):
    execution_id: UUID
    lead_id: UUID
    workflow_id: UUID
    agent_id: str
    step: int = Field(description="the held step's sequence number (from 0)")
    attempts: int
    reason: str
    dead_lettered_at: datetime


class ReplayAllIn(Command):
    agent_id: str | None = Field(default=None, min_length=1, max_length=100)
    workflow_id: UUID | None = None
    limit: int = Field(default=1000, ge=1, le=10_000)


class ReplayRefused(Schema):
    execution_id: UUID
    reason: str


class ReplayReport(Schema):
    replayed: list[UUID]
    refused: list[ReplayRefused]
