"""Request and response bodies. JSON names are camelCase, as the mobile client already uses."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from api.bounds import JsonBounds, check_body, check_storable, check_visible
from api.reasons import END_PATTERN, PHONE_PATTERN, TIME_PATTERN
from application.workflows import MIGRATIONS
from domain import channels, definition, execution, lead, workflow
from domain.actors import NO_REASON
from domain.scoring import MAX_SCORE, MIN_SCORE
from domain.template import MAX_BODY, MAX_SUBJECT
from domain.timing import MAX_DELAY_MINUTES, SMS_HOURS, WEEKDAYS

SMS_FROM, SMS_TO = f"{SMS_HOURS.start:%H:%M}", f"{SMS_HOURS.end:%H:%M}"


def one_of(values: Iterable[str]) -> Any:
    """The domain's own values as a ``Literal``: the API never restates them, and its OpenAPI
    lists them as an enum."""
    return Literal[tuple(values)]


# The allowed values of each choice, from the domain (mypy sees plain strings).
if TYPE_CHECKING:
    Channel = str
    ExecutionStatus = str
    StepStatus = str
    LeadStatus = str
    Weekday = str
    Operator = str
    ReentryMode = str
    TriggerType = str
    OnRegistration = str
    StepCondition = str
    ResumePolicy = str
    Migration = str
    Unit = str
    WorkflowState = str
else:
    Channel = one_of(c.value for c in channels.Channel)
    ExecutionStatus = one_of(s.value for s in execution.ExecutionStatus)
    StepStatus = one_of(s.value for s in execution.StepStatus)
    LeadStatus = one_of(s.value for s in lead.LeadStatus)
    Weekday = one_of(WEEKDAYS)
    Operator = one_of(definition.PREFERENCE_OPERATORS)
    ReentryMode = one_of(definition.REENTRY_MODES)
    TriggerType = one_of(definition.TRIGGER_TYPES)
    OnRegistration = one_of(definition.ON_REGISTRATION)
    StepCondition = one_of(definition.STEP_CONDITIONS)
    ResumePolicy = one_of(execution.RESUME_POLICIES)
    Migration = one_of(MIGRATIONS)
    Unit = one_of(definition.UNITS)
    WorkflowState = one_of(workflow.STATES)

# Types for request fields: JSON numbers and booleans only (never ``true`` for a number, nor
# ``"50"``), dates and times as ISO 8601 text only (never a number taken as seconds since
# 1970), names that show something, and free-form JSON kept within what every store and
# follower handles.
Whole = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]


def as_text(value: Any) -> Any:
    """A date or time comes as ISO 8601 text, never a number nor a number's text (pydantic's
    lax parsing takes both as seconds since 1970; its strict mode would refuse text too, as
    FastAPI validates the parsed body)."""
    if not isinstance(value, str | date) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be ISO 8601 text, such as 2027-03-01 or 2027-03-01T09:00:00Z")
    return value


_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


Day = Annotated[date, BeforeValidator(as_text)]
Instant = Annotated[AwareDatetime, BeforeValidator(as_text)]
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

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              from_attributes=True)


class Command(Schema):
    """A request body: unknown fields are refused, so a typo is never silently ignored; so is
    any string no store can hold (a NUL, a lone surrogate), and nesting past the limit.

    Its number, boolean, date and time fields are ``Whole``, ``Flag``, ``Day`` and ``Instant``
    (strict), never a bare ``int``, ``bool``, ``date`` or ``datetime``, which would take ``"50"``
    or ``true`` for a number and ``1764547200`` for a date."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return check_body(data)


# A lead's fields, as registration and a profile edit take them
Phone = Annotated[str, Field(pattern=PHONE_PATTERN,
                             description="E.164, for example +15551234567")]
Timezone = Annotated[str, Field(max_length=100, description="an IANA time zone")]
Timeline = Annotated[str, Field(max_length=200)]
Source = Annotated[str, Field(max_length=100,
                              description="where the lead came from (zillow, referral ...)")]


class LeadCreate(Command):
    agent_id: Name | None = Field(default=None, min_length=1, max_length=100,
                                  description="whose lead: an agent leaves it out (their own);"
                                  " an admin or a brokerage token names the agent")
    name: Name = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: Phone | None = None
    timezone: Timezone = "UTC"
    preferences: Preferences = Field(
        default_factory=dict, description="free-form JSON: at most 8 levels deep, 100 items "
                                          "per object or list, strings of 1000 characters, "
                                          "integers within ±(2**53 - 1), 16 KiB encoded")
    timeline: Timeline | None = None
    score: Whole = Field(default=0, ge=MIN_SCORE, le=MAX_SCORE)
    external_id: str | None = Field(default=None, max_length=200,
                                    description="the CRM's id: registering it again with the same "
                                                "data answers the existing lead (200), with "
                                                "other data 409 naming the fields")
    source: Source | None = None
    move_by: Day | None = Field(default=None, description="when the lead wants to move")


class LeadEdit(Command):
    """A profile edit: only the fields given change (null clears an email, phone, timeline,
    source or moveBy; name, timezone and preferences cannot be null); each is checked as at
    registration."""

    name: Annotated[Name, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="not null")
    email: EmailStr | None = None
    phone: Phone | None = None
    timezone: Timezone | None = Field(default=None, description="an IANA time zone; not null")
    preferences: Preferences | None = Field(
        default=None, description="replaces the preferences (bounded as at registration); "
                                  "not null")
    timeline: Timeline | None = None
    source: Source | None = None
    move_by: Day | None = None

    def changes(self) -> dict[str, Any]:
        """The fields given, by attribute name."""
        return self.model_dump(include=self.model_fields_set)


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
    status: LeadStatus
    source: str | None
    move_by: str | None
    opted_out: list[str]
    version: int


class ScoreChange(Command):
    score: Whole = Field(ge=MIN_SCORE, le=MAX_SCORE)
    reason: str = Field(default="lead scoring", max_length=200)
    event_id: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="the scoring system's id of this update: a "
                                             "repeat is answered and changes nothing")
    occurred_at: Instant | None = Field(
        default=None, description="when the scoring system computed it: an update older than "
                                  "the last applied is recorded and ignored")


class StatusChange(Command):
    status: LeadStatus
    reason: str = Field(default=NO_REASON, max_length=200)
    resume: Flag = Field(default=False, description="leaving closed or lost: resume the "
                                                    "executions it paused, in the same command")
    policy: ResumePolicy = Field(
        default="shift", description="with resume, their overdue steps: shift the schedule by "
                                     "the time paused, or skip them")


class ScoreResult(Schema):
    lead_id: UUID
    old: int
    new: int
    applied: bool
    reason: str | None = Field(description="why it was not applied (a repeat, an older "
                                           "update, the same score)")


class StatusResult(Schema):
    lead_id: UUID
    status: LeadStatus
    paused_executions: list[UUID]
    resumable_executions: list[UUID]
    resumed_executions: list[UUID]


class WindowOut(Schema):
    start: str
    end: str
    weekdays: list[Weekday]


class StepConditionOut(Schema):
    kind: StepCondition
    value: int | None = None


class StepPublic(Schema):
    sequence: int = Field(description="the step's number, from 1")
    channel: Channel
    template_id: str | None = Field(description="null: a draft's step with no template yet")
    delay_minutes: int
    status: StepStatus
    due_at: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0
    message_id: UUID | None = None
    note: str | None = Field(default=None, description="why it failed or was skipped")
    window: WindowOut | None = None
    conditions: list[StepConditionOut] = Field(default_factory=list)


class EntryPublic(Schema):
    """What started the execution: a score crossing, a registration or a backfill, and the
    trigger it met."""

    kind: str
    new: int | None = Field(description="the score that started it")
    old: int | None = Field(description="the score before, for a crossing")
    lead_version: int | None
    score_threshold: int | None
    exclusive_group: str | None
    priority: int | None


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
    trigger: EntryPublic
    started_at: datetime
    completed_at: datetime | None
    dead_letter_step: int | None = Field(
        default=None, description="the step held after its attempts ran out: replay it, or "
                                  "cancel or restart the execution")
    steps: list[StepPublic]


class Actor(Schema):
    """Who acted: the principal's id, and how the history names them."""
    actor: str = Field(description="user:<id>, token:<id>, or user:<id> via token:<id> (a "
                                   "user's own token)")
    name: str = Field(description="the user's name; a token as \"an API token\" and the "
                                  "start of its id")


class HistoryEntry(Schema):
    position: int
    occurred_at: datetime
    kind: str
    summary: str
    execution_id: UUID | None
    message_id: UUID | None
    data: dict[str, Any]
    by: Actor | None = Field(description="who acted, on an entry of a person's action (a "
                                         "status, consent, pause, resume, skip, send-now, "
                                         "cancel, restart or replay); null for the system's")


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
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)


class TemplatePreviewIn(Command):
    """Texts not saved yet, to see them rendered (an editor's live preview)."""

    channel: Channel
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str = Field(max_length=MAX_BODY)
    lead_id: UUID | None = Field(default=None, description="render for this lead (one the "
                                 "caller may see); a sample lead without it")


class TemplateEdit(Command):
    """A new revision: the channel stays the template's."""

    name: Name = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)


class TemplatePublic(Schema):
    id: UUID
    name: str
    channel: Channel
    subject: str | None
    body: str
    revision: int = Field(description="the latest revision's number, from 1 (the template as "
                                      "created); these texts are that revision's")


class RevisionSummary(Schema):
    number: int
    name: str
    by: str | None = Field(description="who saved it, when known")
    saved_at: datetime


class RevisionPublic(RevisionSummary):
    template_id: UUID
    channel: Channel
    subject: str | None
    body: str


class PinnedUse(Schema):
    workflow_id: UUID
    name: str
    live_version: int
    pinned_revision: int = Field(description="the revision the live version sends")


class DraftUse(Schema):
    workflow_id: UUID
    name: str
    status: WorkflowState


class TemplateUsage(Schema):
    template_id: UUID
    latest_revision: int
    outdated: list[PinnedUse] = Field(description="workflows whose live version sends an older "
                                                  "revision: republish to send the latest")
    drafts: list[DraftUse] = Field(description="workflows whose draft has a step with it")


class TemplateVariable(Schema):
    name: str
    description: str


class PreviewPublic(Schema):
    subject: str | None
    body: str | None
    skipped: str | None = Field(description="why a send to this lead would skip the step")


class ConditionIn(Command):
    """A rule on the lead: ``source``, ``move_within_days``, ``score`` or ``preferences.<key>``."""

    field: str = Field(min_length=1, max_length=100)
    op: Operator
    value: ConditionValue


class ReentryIn(Command):
    mode: ReentryMode = "after_end"
    days: Whole | None = Field(default=None, ge=1, le=definition.MAX_REENTRY_DAYS)


class TriggerIn(Command):
    id: str | None = Field(default=None, min_length=1, max_length=100,
                           description="the client's own id, kept and answered")
    score_threshold: Whole = Field(ge=MIN_SCORE + 1, le=MAX_SCORE)
    trigger_type: TriggerType = "immediate"
    delay_minutes: Whole = Field(default=0, ge=0, le=MAX_DELAY_MINUTES,
                                 description="for a delayed trigger: wait before step one")
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    reentry: ReentryIn = Field(default_factory=ReentryIn)
    hysteresis: Whole = Field(default=0, ge=0, le=MAX_SCORE,
                              description="points the score must fall below the threshold "
                                          "before a new crossing counts")
    priority: Whole = Field(default=0, ge=-definition.MAX_PRIORITY, le=definition.MAX_PRIORITY)
    exclusive_group: str | None = Field(default=None, max_length=100)
    on_registration: OnRegistration = Field(
        default="start", description="leads registered with a score already at or above the "
                                     "threshold: start the workflow for them (it counts as a "
                                     "crossing), or ignore them")


class Delay(Command):
    """A wait in the unit the agent chose; its limit is said in that unit."""
    unit: Unit
    amount: Whole = Field(ge=0, description=f"at most {MAX_DELAY_MINUTES} minutes in all "
                          f"({MAX_DELAY_MINUTES // definition.UNITS['days']} days)",
                          # the loosest bound (in minutes) for the document; the check is below
                          json_schema_extra={"maximum": MAX_DELAY_MINUTES})

    @field_validator("amount")
    @classmethod
    def _at_most(cls, amount: int, info: ValidationInfo) -> int:
        unit = info.data.get("unit")  # absent when the unit was refused: that is said
        if unit in definition.UNITS and amount * definition.UNITS[unit] > MAX_DELAY_MINUTES:
            raise ValueError(f"must be at most {MAX_DELAY_MINUTES // definition.UNITS[unit]} "
                             f"{unit}")
        return amount


class StepConditionIn(Command):
    kind: StepCondition
    value: Whole | None = Field(default=None, ge=MIN_SCORE, le=MAX_SCORE)


class StepIn(Command):
    id: str | None = Field(default=None, min_length=1, max_length=100,
                           description="the client's own id, kept and answered")
    sequence: Whole | None = Field(default=None, ge=1, le=10_000,
                                 description="orders the steps (all or none, distinct); "
                                             "answers number them 1..n in that order")
    channel: Channel
    template_id: UUID | None = Field(default=None, description="the step's template; a draft "
                                     "may leave it out until one is picked (publishing "
                                     "refuses a step without one)")
    delay_minutes: Whole | None = Field(default=None, ge=0, le=MAX_DELAY_MINUTES)
    delay: Delay | None = Field(default=None, description="alternative to delayMinutes")
    conditions: list[StepConditionIn] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _one_delay(self) -> StepIn:
        if self.delay is not None and self.delay_minutes is not None:
            raise ValueError("give delayMinutes or delay, not both")
        if self.delay is not None:  # within the limit: Delay checked it
            self.delay_minutes = self.delay.amount * definition.UNITS[self.delay.unit]
            self.delay = None
        self.delay_minutes = self.delay_minutes or 0
        return self


class WindowIn(Command):
    start: str = Field(pattern=TIME_PATTERN, description="HH:MM, local time")
    end: str = Field(pattern=END_PATTERN, description="HH:MM or 24:00")
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1,
                                    max_length=len(WEEKDAYS))


class DefinitionIn(Command):
    trigger: TriggerIn
    steps: list[StepIn] = Field(default_factory=list, max_length=50)
    send_windows: dict[Channel, WindowIn] = Field(
        default_factory=dict, description=f"per channel; sms inside {SMS_FROM}-{SMS_TO}")
    business_days_only: Flag = False
    # An SMS window outside the SMS hours is refused by the domain's check, which names the
    # field (body.sendWindows.sms); a check here could name only the whole body.

    def definition(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"agent_id", "name"})


class WorkflowCreate(DefinitionIn):
    agent_id: Name | None = Field(default=None, min_length=1, max_length=100,
                                  description="whose workflow: an agent leaves it out (their"
                                  " own); an admin may name one of the brokerage's agents")
    name: Name = Field(min_length=1, max_length=200)


class WorkflowEdit(DefinitionIn):
    name: Name = Field(min_length=1, max_length=200)


class StepOut(Schema):
    id: str | None = Field(default=None, description="the client's id, if it gave one")
    sequence: int = Field(description="the step's number, from 1")
    channel: Channel
    template_id: str | None = Field(description="null: a draft's step with no template yet")
    delay_minutes: int
    conditions: list[StepConditionOut]


class ConditionOut(Schema):
    field: str
    op: Operator
    value: Any = Field(description="the value compared with, as given")


class ReentryOut(Schema):
    mode: ReentryMode
    days: int | None


class TriggerOut(Schema):
    id: str | None = Field(default=None, description="the client's id, if it gave one")
    score_threshold: int
    trigger_type: TriggerType
    delay_minutes: int
    conditions: list[ConditionOut]
    reentry: ReentryOut
    hysteresis: int
    priority: int
    exclusive_group: str | None
    on_registration: OnRegistration


class DefinitionOut(Schema):
    trigger: TriggerOut
    steps: list[StepOut]
    send_windows: dict[Channel, WindowOut] = Field(description="per channel (the keys are "
                                                               "channel names)")
    business_days_only: bool


class VersionPublic(Schema):
    number: int
    published_at: datetime
    restored_from: int | None


class VersionDetail(VersionPublic):
    definition: DefinitionOut
    template_revisions: dict[str, int] = Field(description="the revision of each step's "
                                                           "template it sends (keys are "
                                                           "template ids)")


class WorkflowPublic(Schema):
    id: UUID
    agent_id: str
    name: str
    status: WorkflowState
    trigger: TriggerOut
    steps: list[StepOut]
    send_windows: dict[Channel, WindowOut] = Field(description="per channel (the keys are "
                                                               "channel names)")
    business_days_only: bool
    draft_changed: bool
    versions: list[VersionPublic]
    can_undo: bool = Field(description="the draft has a change to undo")
    can_redo: bool = Field(description="the draft has an undone change to redo")


class DraftProblem(Schema):
    field: str = Field(description="the definition's field, as the API names it: "
                                   "``steps[1].templateId``")
    reason: str


class DraftProblems(Schema):
    problems: list[DraftProblem] = Field(description="every reason the draft cannot be "
                                         "published now, in the order of its fields; empty: "
                                         "it can")


class DuplicateIn(Command):
    name: Name | None = Field(default=None, min_length=1, max_length=200,
                              description="the copy's name (default: Copy of <name>)")


class MoveBlocker(Schema):
    execution_id: UUID
    lead_id: UUID
    current_step: int = Field(description="the step it is at (from 1)")
    reason: str


class PublishPreview(Schema):
    next_version: int
    draft_changed: bool
    problem: DraftProblem | None = Field(description="why the draft cannot run, if it cannot")
    backfill_candidates: int = Field(description="leads already at or above the threshold")
    running_executions: dict[str, int] = Field(description="running executions by version "
                                                           "number")
    move_blocked_by: list[MoveBlocker] = Field(description="running executions that could "
                                                           "not move to the new version")


class PublishIn(Command):
    backfill: Flag = Field(default=False, description="also start it for leads already above "
                                                      "the threshold")
    migrate: Migration = Field(default="keep", description="running executions "
                               "stay on their version, or move at their next step")


class RollbackIn(Command):
    version: Whole = Field(ge=1, le=1_000_000)
    migrate: Migration = "keep"


class ReasonIn(Command):
    reason: str = Field(default=NO_REASON, min_length=1, max_length=200)


class ResumeIn(Command):
    policy: ResumePolicy = Field(
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
