"""Request and response bodies. JSON names are camelCase, as the mobile client already uses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    model_validator,
)
from pydantic.alias_generators import to_camel

from api.bounds import JsonBounds, check_body, check_storable, check_visible

Channel = Literal["email", "sms", "in_app"]
ExecutionStatus = Literal["active", "paused", "completed", "cancelled"]

# Types for request fields: JSON numbers and booleans only (never ``true`` for a number, nor
# ``"50"``), names that show something, and free-form JSON kept within what every store and
# follower handles.
Whole = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Name = Annotated[str, AfterValidator(check_visible)]
#: A string query parameter (a body's strings are all checked by ``Command``).
QueryText = Annotated[str, AfterValidator(check_storable)]
Preferences = Annotated[dict[str, Any],
                        AfterValidator(JsonBounds(depth=8, items=100, string=1000,
                                                  encoded=16 * 1024))]
ConditionValue = Annotated[Any, AfterValidator(JsonBounds(depth=4, items=100, string=200,
                                                          encoded=4 * 1024))]


class Schema(BaseModel):
    """A response body."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Command(Schema):
    """A request body: unknown fields are refused, so a typo is never silently ignored; so is
    any string no store can hold (a NUL, a lone surrogate), and nesting past the limit.

    Its number and boolean fields are ``Whole`` and ``Flag`` (strict), never a bare ``int`` or
    ``bool``, which would take ``"50"`` or ``true`` for a number."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return check_body(data)


class LeadCreate(Command):
    agent_id: Name = Field(min_length=1, max_length=100)
    name: Name = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$",
                              description="E.164, for example +15551234567")
    timezone: str = Field(default="UTC", max_length=100, description="an IANA time zone")
    preferences: Preferences = Field(
        default_factory=dict, description="free-form JSON: at most 8 levels deep, 100 items "
                                          "per object or list, strings of 1000 characters, "
                                          "integers within ±(2**53 - 1), 16 KiB encoded")
    timeline: str | None = Field(default=None, max_length=200)
    score: Whole = Field(default=0, ge=0, le=100)
    external_id: str | None = Field(default=None, max_length=200,
                                    description="the CRM's id: registering it again with the same "
                                                "data answers the existing lead (200), with "
                                                "other data 409 naming the fields")
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
    score: Whole = Field(ge=0, le=100)
    reason: str = Field(default="lead scoring", max_length=200)
    event_id: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="the scoring system's id of this update: a "
                                             "repeat is answered and changes nothing")
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when the scoring system computed it: an update older than "
                                  "the last applied is recorded and ignored")


class StatusChange(Command):
    status: Literal["new", "contacted", "qualified", "nurturing", "negotiating", "closed", "lost"]
    reason: str = Field(default="agent", max_length=200)
    resume: Flag = Field(default=False, description="leaving closed or lost: resume the "
                                                    "executions it paused, in the same command")
    policy: Literal["shift", "skip_overdue"] = Field(
        default="shift", description="with resume, their overdue steps: shift the schedule by "
                                     "the time paused, or skip them")


class StepPublic(Schema):
    sequence: int = Field(description="the step's number, from 1")
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
    current_step: int = Field(description="the number (from 1) of the step it is at")
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
    read_at: datetime | None = Field(default=None, description="unread while null")


class Inbox(Schema):
    items: list[InboxItem] = Field(description="newest first, at most 100")
    unread: int = Field(description="unread in-app messages, all of them")


class TemplateCreate(Command):
    name: Name = Field(min_length=1, max_length=200)
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
    value: ConditionValue


class ReentryIn(Command):
    mode: Literal["never", "after_end", "after_days"] = "after_end"
    days: Whole | None = Field(default=None, ge=1, le=3650)


class TriggerIn(Command):
    id: str | None = Field(default=None, min_length=1, max_length=100,
                           description="the client's own id, kept and answered")
    score_threshold: Whole = Field(ge=1, le=100)
    trigger_type: Literal["immediate", "delayed"] = "immediate"
    delay_minutes: Whole = Field(default=0, ge=0, le=525_600,
                                 description="for a delayed trigger: wait before step one")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    reentry: ReentryIn = Field(default_factory=ReentryIn)
    hysteresis: Whole = Field(default=0, ge=0, le=100,
                              description="points the score must fall below the threshold "
                                          "before a new crossing counts")
    priority: Whole = Field(default=0, ge=-1000, le=1000)
    exclusive_group: str | None = Field(default=None, max_length=100)
    on_registration: Literal["start", "ignore"] = Field(
        default="start", description="leads registered with a score already at or above the "
                                     "threshold: start the workflow for them (it counts as a "
                                     "crossing), or ignore them")


class Delay(Command):
    amount: Whole = Field(ge=0, le=525_600)
    unit: Literal["minutes", "hours", "days"]


class StepConditionIn(Command):
    kind: Literal["previous_email_not_opened", "in_app_not_read", "score_at_least"]
    value: Whole | None = Field(default=None, ge=0, le=100)


class StepIn(Command):
    id: str | None = Field(default=None, min_length=1, max_length=100,
                           description="the client's own id, kept and answered")
    sequence: Whole | None = Field(default=None, ge=1, le=10_000,
                                 description="orders the steps (all or none, distinct); "
                                             "answers number them 1..n in that order")
    channel: Channel
    template_id: UUID
    delay_minutes: Whole | None = Field(default=None, ge=0, le=525_600)
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
    weekdays: list[Weekday] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1,
                                    max_length=7)


class DefinitionIn(Command):
    trigger: TriggerIn
    steps: list[StepIn] = Field(default_factory=list, max_length=50)
    send_windows: dict[Channel, WindowIn] = Field(
        default_factory=dict, description="per channel; sms inside 08:00-21:00")
    business_days_only: Flag = False

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
    agent_id: Name = Field(min_length=1, max_length=100)
    name: Name = Field(min_length=1, max_length=200)


class WorkflowEdit(DefinitionIn):
    name: Name = Field(min_length=1, max_length=200)


class StepOut(Schema):
    id: str | None = Field(default=None, description="the client's id, if it gave one")
    sequence: int = Field(description="the step's number, from 1")
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
    backfill: Flag = Field(default=False, description="also start it for leads already above "
                                                      "the threshold")
    migrate: Literal["keep", "move"] = Field(default="keep", description="running executions "
                                             "stay on their version, or move at their next step")


class RollbackIn(Command):
    version: Whole = Field(ge=1, le=1_000_000)
    migrate: Literal["keep", "move"] = "keep"


class ReasonIn(Command):
    reason: str = Field(default="agent", min_length=1, max_length=200)


class ResumeIn(Command):
    policy: Literal["shift", "skip_overdue"] = Field(
        default="shift", description="overdue steps: shift the schedule by the time paused, "
                                     "or skip them")


class ConsentIn(Command):
    channel: Channel
    allowed: Flag
    reason: str = Field(default="lead request", max_length=200)


class NotMoved(Schema):
    execution_id: UUID
    reason: str


class Published(Schema):
    workflow_id: UUID
    version: int
    backfilled: int
    migrated: int
    not_moved: list[NotMoved] = Field(
        default_factory=list, description="executions that reached a step the new version "
                                          "lacks after the check: they stay on their version")


class DeadLetterPublic(Schema):
    execution_id: UUID
    lead_id: UUID
    workflow_id: UUID
    agent_id: str
    step: int = Field(description="the held step's sequence number (from 1)")
    attempts: int
    reason: str
    dead_lettered_at: datetime


class ReplayAllIn(Command):
    agent_id: str | None = Field(default=None, min_length=1, max_length=100)
    workflow_id: UUID | None = None
    limit: Whole = Field(default=1000, ge=1, le=10_000)


class ReplayRefused(Schema):
    execution_id: UUID
    reason: str


class ReplayReport(Schema):
    replayed: list[UUID]
    refused: list[ReplayRefused]
