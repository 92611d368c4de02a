"""Read types of templates and workflows: drafts, versions, and what a publish does. As in
``application.views``: snake_case attributes, step numbers from 1, built from the aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.views import StepConditionView, WindowView
from domain.definition import STORED_ON_REGISTRATION
from domain.template import Template
from domain.workflow import Workflow


@dataclass(frozen=True)
class TemplateView:
    """A template as its latest revision says it."""

    id: UUID
    name: str
    channel: str
    subject: str | None
    body: str
    revision: int  # the latest revision's number, from 1
    version: int  # the aggregate's: what an ETag is made of

    @classmethod
    def of(cls, t: Template) -> TemplateView:
        return cls(id=t.id, name=t.name, channel=t.channel, subject=t.subject, body=t.body,
                   revision=t.latest.number, version=t.version)


@dataclass(frozen=True)
class Preview:
    """A template rendered for a lead, or (no text) why a send to it would skip the step."""

    subject: str | None
    body: str | None
    skipped: str | None


@dataclass(frozen=True)
class ConditionView:
    field: str
    op: str
    value: Any  # the agent's own value to compare with


@dataclass(frozen=True)
class ReentryView:
    mode: str
    days: int | None


@dataclass(frozen=True)
class TriggerView:
    id: str | None
    score_threshold: int
    trigger_type: str
    delay_minutes: int
    conditions: list[ConditionView]
    reentry: ReentryView
    hysteresis: int
    priority: int
    exclusive_group: str | None
    on_registration: str

    @classmethod
    def of(cls, t: dict[str, Any]) -> TriggerView:
        reentry = t.get("reentry") or {"mode": "after_end"}
        return cls(id=t.get("id"), score_threshold=t["score_threshold"],
                   trigger_type=t.get("trigger_type", "immediate"),
                   delay_minutes=t.get("delay_minutes", 0),
                   conditions=[ConditionView(c["field"], c["op"], c.get("value"))
                               for c in t.get("conditions") or []],
                   reentry=ReentryView(reentry["mode"], reentry.get("days")),
                   hysteresis=t.get("hysteresis", 0), priority=t.get("priority", 0),
                   exclusive_group=t.get("exclusive_group"),
                   on_registration=t.get("on_registration", STORED_ON_REGISTRATION))


@dataclass(frozen=True)
class DefinedStepView:
    """A step as a definition plans it."""

    id: str | None  # the client's id, if it gave one
    sequence: int
    channel: str
    template_id: str | None  # None: a draft's step whose template is not picked yet
    delay_minutes: int
    conditions: list[StepConditionView]

    @classmethod
    def of(cls, number: int, s: dict[str, Any]) -> DefinedStepView:
        return cls(id=s.get("id"), sequence=number, channel=s["channel"],
                   template_id=s["template_id"], delay_minutes=s["delay_minutes"],
                   conditions=[StepConditionView.of(c) for c in s.get("conditions") or []])


@dataclass(frozen=True)
class DefinitionView:
    trigger: TriggerView
    steps: list[DefinedStepView]
    send_windows: dict[str, WindowView]  # by channel
    business_days_only: bool

    @classmethod
    def of(cls, d: dict[str, Any]) -> DefinitionView:
        return cls(trigger=TriggerView.of(d["trigger"]),
                   steps=[DefinedStepView.of(i + 1, s) for i, s in enumerate(d["steps"])],
                   send_windows={c: WindowView.of(w)
                                 for c, w in (d.get("send_windows") or {}).items()},
                   business_days_only=bool(d.get("business_days_only", False)))


@dataclass(frozen=True)
class VersionSummary:
    number: int
    published_at: datetime
    restored_from: int | None

    @classmethod
    def of(cls, v: dict[str, Any]) -> VersionSummary:
        return cls(number=v["number"], published_at=v["published_at"],
                   restored_from=v.get("restored_from"))


@dataclass(frozen=True)
class VersionView:
    """One published version, as frozen."""

    number: int
    published_at: datetime
    restored_from: int | None
    definition: DefinitionView
    template_revisions: dict[str, int]  # the revision it sends, by template id

    @classmethod
    def of(cls, v: dict[str, Any]) -> VersionView:
        return cls(number=v["number"], published_at=v["published_at"],
                   restored_from=v.get("restored_from"),
                   definition=DefinitionView.of(v["definition"]),
                   template_revisions=dict(v["template_revisions"]))


@dataclass(frozen=True)
class WorkflowView:
    """A workflow: its draft (trigger, steps, windows), its state and its versions."""

    id: UUID
    agent_id: str
    name: str
    status: str  # draft, published or paused
    trigger: TriggerView
    steps: list[DefinedStepView]
    send_windows: dict[str, WindowView]
    business_days_only: bool
    draft_changed: bool
    versions: list[VersionSummary]
    version: int  # the aggregate's: what an ETag is made of
    can_undo: bool  # a change of the draft to go back from
    can_redo: bool  # an undone change to go forward to again

    @classmethod
    def of(cls, w: Workflow) -> WorkflowView:
        draft = DefinitionView.of(w.draft)
        return cls(id=w.id, agent_id=w.agent_id, name=w.name,
                   status=w.state,
                   trigger=draft.trigger, steps=draft.steps, send_windows=draft.send_windows,
                   business_days_only=draft.business_days_only, draft_changed=w.draft_differs,
                   versions=[VersionSummary.of(v) for v in w.versions], version=w.version,
                   can_undo=w.can_undo, can_redo=w.can_redo)


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


@dataclass(frozen=True)
class MoveBlocker:
    """A running execution that could not move to a version: it is past the version's steps."""

    execution_id: UUID
    lead_id: UUID
    current_step: int  # from 1
    reason: str


@dataclass(frozen=True)
class PublishPreview:
    """What publishing the draft now would do, before the agent confirms."""

    next_version: int
    draft_changed: bool
    problem: Problem | None
    backfill_candidates: int
    running_executions: dict[str, int]  # by version number
    move_blocked_by: list[MoveBlocker]


@dataclass(frozen=True)
class NotMoved:
    execution_id: UUID
    reason: str


@dataclass(frozen=True)
class PublishResult:
    workflow_id: UUID
    version: int
    backfilled: int
    migrated: int
    not_moved: list[NotMoved]
