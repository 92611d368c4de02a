"""Lead history: the audit trail of a lead, its executions and its messages, in log order."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Collection
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
)

from application.follower import Item
from domain.account import User
from domain.actors import NO_REASON
from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.message import Message
from domain.timing import describe_wait
from domain.workflow import Workflow
from projections.base import SqlProjection, insert_rows, metadata
from projections.history_actors import USER_EVENTS, UserNames, user_names, who

history = Table(
    "lead_history", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("summary", Text, nullable=False),
    Column("execution_id", String(36)),
    Column("message_id", String(36)),
    Column("data", Text, nullable=False),
    Column("actor", String(120)),  # who acted (an actor id, ``domain.actors``); null: nobody
    Column("actor_name", Text),  # the actor as a person reads it (``who``)
    Index("lead_history_lead_idx", "lead_id", "position"),
)

# Which lead an execution or a message belongs to, and what the summaries need to know of it:
# an execution's channels, workflow (name and version) and time zone; a message's channel.
subjects = Table(
    "lead_history_subjects", metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("detail", Text, nullable=False),
)

# Workflow names: version 0 is the draft's current name; version n the name it was published
# under (a workflow renamed later keeps its history as it was).
workflow_names = Table(
    "lead_history_workflows", metadata,
    Column("workflow_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
)

#: What a workflow's name follows: the draft's name (an undo or redo brings one back too), and
#: each version's as published.
WORKFLOW_EVENTS: tuple[type, ...] = (Workflow.Created, Workflow.DraftEdited, Workflow.DraftUndone,
                                     Workflow.DraftRedone, Workflow.Published)
EVENTS: tuple[type, ...] = (
    Lead.Created, Lead.ScoreChanged, Lead.ScoreIgnored, Lead.StatusChanged, Lead.EntryRefused,
    Lead.OptedOut, Lead.OptedIn, Lead.ProfileEdited, X.Created, X.ZoneChanged,
    X.StepScheduled, X.StepDispatched, X.StepSent,
    X.StepFailed, X.StepSkipped, X.StepOutcomeUnknown, X.StepDeadLettered, X.DeadLetterReplayed,
    X.StepHeld, X.StepReleased, X.Paused, X.Resumed, X.Migrated, X.Restarted, X.Cancelled,
    X.Completed, Message.Created, Message.CreatedSent, Message.Sent, Message.Failed,
    Message.Engaged, Message.OutcomeUnknown,
)
# Lead.Enrolled is not an entry of its own: the execution's start (same commit) says it.

PROFILE_NAMES = {"move_by": "moveBy"}
CHANNEL_NAMES = {"email": "email", "sms": "SMS", "in_app": "in-app message"}
MESSAGE_NAMES = {"email": "Email", "sms": "SMS", "in_app": "In-app message"}
STATUS_PAUSE = "lead status became "
SENT_NOW = "sent now by the agent"
RESUME_POLICIES = {"shift": "overdue steps shifted by the time paused",
                   "skip_overdue": "overdue steps skipped"}
# How reasons read before step one's said "after the start" and long delays had days in them
OLD_DELAY = re.compile(r"\b(\d+) min after the previous step")


def _when(value: Any, zone: str | None) -> str:
    """In the execution's (the lead's) time zone, with UTC beside it."""
    utc = value.astimezone(UTC)
    if not zone or zone == "UTC":
        return f"{utc:%a %Y-%m-%d %H:%M} UTC"
    local = value.astimezone(ZoneInfo(zone))
    beside = f"{utc:%H:%M}" if local.date() == utc.date() else f"{utc:%a %H:%M}"
    return f"{local:%a %Y-%m-%d %H:%M} {zone} ({beside} UTC)"


def _step(detail: dict[str, Any], step_no: int) -> str:
    channel = detail["channels"][step_no]
    return f"step {step_no + 1} ({CHANNEL_NAMES.get(channel, channel)})"


def _due(detail: dict[str, Any], step_no: int, due_at: Any, reason: str) -> str:
    return f"{_step(detail, step_no)} due {_when(due_at, detail.get('timezone'))}: " + _reason(
        step_no, reason)


def _reason(step_no: int, reason: str) -> str:
    """A schedule's reason; one recorded in the older wording (step one "after the previous
    step", long delays in minutes) reads as a new one would."""
    after = "the start" if step_no == 0 else "the previous step"
    return OLD_DELAY.sub(lambda found: describe_wait(int(found.group(1)), after), reason)


def _workflow(detail: dict[str, Any]) -> str:
    """The workflow by name and version (an entry written before names were kept: by id)."""
    return detail.get("workflow") or "the workflow"


def _first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _by(d: dict[str, Any], fallback: str = "") -> str:
    """" by Ann Lee": who acted, when the event names them (else ``fallback``)."""
    return f" by {d['by']}" if d.get("by") else fallback


def _sent_now(reason: str, d: dict[str, Any]) -> str:
    """A send-now's reason with the person who asked for it in place of "the agent"."""
    return reason.replace(SENT_NOW, f"sent now{_by(d)}", 1) if d.get("by") else reason


def _label(names: dict[tuple[str, int], str], workflow_id: Any, version: int) -> str:
    """“Name” vN, the name the version was published under (by id if it is not known)."""
    name = names.get((str(workflow_id), version))
    return f"“{name}” v{version}" if name is not None else f"workflow {workflow_id} v{version}"


def _name(event: Any, names: dict[tuple[str, int], str],
          renamed: dict[tuple[str, int], str]) -> None:
    """Follow a workflow's name: the draft's (version 0), and each version's as published."""
    workflow_id = str(event.originator_id)
    if isinstance(event, Workflow.Published):
        key, name = (workflow_id, event.number), names.get((workflow_id, 0))
    else:
        key, name = (workflow_id, 0), event.name
    if name is not None:
        names[key] = renamed[key] = name


SUMMARIES: dict[type, Callable[[Any, dict[str, Any]], str]] = {
    Lead.Created: lambda e, d: f"Lead registered with score {e.score}",
    Lead.ScoreChanged: lambda e, d: (f"Score changed from {e.old} to {e.new} ({e.reason})"
                                     if e.old != e.new else
                                     f"Score confirmed at {e.new} ({e.reason})"),
    Lead.ScoreIgnored: lambda e, d: f"Score update to {e.score} ignored: {e.why} ({e.reason})",
    Lead.StatusChanged: lambda e, d: (f"Status changed from {e.old} to {e.new}{_by(d)}"
                                      + ("" if e.reason == NO_REASON else f" ({e.reason})")),
    Lead.EntryRefused: lambda e, d: (
        f"Did not start {d['workflow']}"
        f"{' at publish (backfill)' if e.score_version is None else ''}: {e.reason}"),
    Lead.OptedOut: lambda e, d: f"Opted out of {CHANNEL_NAMES[e.channel]}{_by(d)} ({e.reason})",
    Lead.OptedIn: lambda e, d: (f"Opted back in to {CHANNEL_NAMES[e.channel]}{_by(d)} "
                                f"({e.reason})"),
    # The fields by their API names, never their values (the entry's data has those)
    Lead.ProfileEdited: lambda e, d: f"Profile edited{_by(d)}: " + ", ".join(
        PROFILE_NAMES.get(f, f) for f in e.changes),
    X.ZoneChanged: lambda e, d: (f"Times now in {e.timezone}, the lead's new time zone "
                                 f"(later steps are planned in it)"),
    X.Created: lambda e, d: _started(e, d),
    X.StepScheduled: lambda e, d: _due(d, e.step_no, e.due_at, _sent_now(e.reason, d)),
    X.StepDispatched: lambda e, d: f"{_step(d, e.step_no)} dispatched (attempt {e.attempt})",
    X.StepSent: lambda e, d: f"{_step(d, e.step_no)} sent" + (
        f"; {_due(d, e.next_step, e.next_due_at, e.next_reason or '')}"
        if e.next_step is not None else ""),
    X.StepFailed: lambda e, d: (f"{_step(d, e.step_no)} failed"
                                f"{' for good' if e.permanent else ''}: {e.reason}"),
    X.StepSkipped: lambda e, d: f"{_step(d, e.step_no)} skipped{_by(d)}: {e.reason}",
    X.StepOutcomeUnknown: lambda e, d: f"{_step(d, e.step_no)} outcome unknown: {e.reason}",
    X.StepDeadLettered: lambda e, d: (f"{_step(d, e.step_no)} dead-lettered after {e.attempts} "
                                      f"attempts ({e.reason}); held for the agent to replay"),
    X.DeadLetterReplayed: lambda e, d: (f"{_step(d, e.step_no)} replayed from the dead-letter "
                                        f"list{_by(d)}"),
    X.StepHeld: lambda e, d: f"{_step(d, e.step_no)} held: {_workflow(d)} is paused",
    X.StepReleased: lambda e, d: (f"{_step(d, e.step_no)} released, due "
                                  f"{_when(e.due_at, d.get('timezone'))}: {e.reason}"),
    X.Paused: lambda e, d: (f"Paused: {e.reason}" if e.reason.startswith(STATUS_PAUSE) else
                            f"Execution paused{_by(d, ' by the agent')}"
                            + ("" if e.reason == NO_REASON else f": {e.reason}")),
    X.Resumed: lambda e, d: (f"Execution resumed{_by(d)} "
                             f"({RESUME_POLICIES.get(e.policy, e.policy)})"),
    X.Migrated: lambda e, d: f"Moved to {_workflow(d)} from the next step",
    X.Restarted: lambda e, d: _first(f"{_workflow(d)} restarted from step 1{_by(d)}: "
                                     f"{e.reason}"),
    X.Cancelled: lambda e, d: _first(f"{_workflow(d)} cancelled{_by(d)}: {e.reason}"),
    X.Completed: lambda e, d: _first(f"{_workflow(d)} completed"),
    Message.Created: lambda e, d: f"{MESSAGE_NAMES[e.channel]} queued",
    Message.CreatedSent: lambda e, d: _message_sent(e, e.channel),
    Message.Sent: lambda e, d: _message_sent(e, d["channel"]),
    Message.Failed: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} failed: {e.reason}",
    Message.Engaged: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} {e.kind}",
    Message.OutcomeUnknown: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} may not have gone out",
}


def _message_sent(e: Any, channel: str) -> str:
    return f"{MESSAGE_NAMES[channel]} sent" + (f": “{e.subject}”" if e.subject else "")


def _started(e: Any, d: dict[str, Any]) -> str:
    t = e.trigger
    how = (f"score {t.get('old')} → {t.get('new')} crossed {t.get('score_threshold')}"
           if t.get("kind") == "score" else
           f"registered with score {t.get('new')}, at or above {t.get('score_threshold')}"
           if t.get("kind") == "registration" else
           f"backfilled at publish: score {t.get('new')} at or above {t.get('score_threshold')}")
    return _first(f"{_workflow(d)} started: {how}")


def _data(event: Any) -> str:
    """The event's own fields, as JSON, for readers who want more than the summary."""
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    fields = {k: v for k, v in event.__dict__.items() if k not in skip}
    return orjson.dumps(fields, default=str,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


def _row(position: int, event: Any, lead_id: str, detail: dict[str, Any],
         users: dict[str, str]) -> dict[str, Any]:
    """The history entry of one event, naming who acted if the event says."""
    execution_id = message_id = None
    if isinstance(event, X.Event):
        execution_id = str(event.originator_id)
    elif isinstance(event, Message.Event):
        message_id = str(event.originator_id)
        execution_id = detail.get("execution_id")
    actor = getattr(event, "by", None)
    name = who(actor, users)
    summary = SUMMARIES[type(event)](event, {**detail, "by": name} if name else detail)
    return {"position": position, "lead_id": lead_id, "occurred_at": event.timestamp.isoformat(),
            "kind": type(event).__qualname__, "summary": summary,
            "execution_id": execution_id, "message_id": message_id, "data": _data(event),
            "actor": actor, "actor_name": name}


def _followed(event: Any, detail: dict[str, Any],
              names: dict[tuple[str, int], str]) -> dict[str, Any]:
    """What an execution's later entries need after it moved to another version or zone."""
    if isinstance(event, X.ZoneChanged):
        return {**detail, "timezone": event.timezone}
    detail = {**detail, "channels": [s["channel"] for s in event.steps]}
    if "workflow_id" in detail:
        detail["workflow"] = _label(names, detail["workflow_id"], event.workflow_version)
    return detail


class LeadHistoryProjection(SqlProjection):
    """Almost every event lands here, so a batch is written with a few statements at most (new
    subjects, history rows, and workflow names when a workflow was created, renamed or
    published), and which lead an execution or a message belongs to is kept in memory once
    read, as are the workflows' names."""

    name = "lead_history"
    topics = tuple(get_topic(c) for c in (*EVENTS, *WORKFLOW_EVENTS, *USER_EVENTS))
    tables = (history, subjects, workflow_names, user_names)
    CACHE_SIZE = 200_000

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._subjects: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._names: dict[tuple[str, int], str] | None = None
        self._users = UserNames()

    def forget(self) -> None:
        super().forget()
        self._subjects.clear()  # another runner moved on, or a batch rolled back: read afresh
        self._names = None
        self._users.forget()

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        missing = {str(i.event.originator_id) for i in items
                   if not isinstance(i.event, (Lead.Event, Workflow.Event, User.Event,
                                               X.Created, Message.Created))
                   and str(i.event.originator_id) not in self._subjects}
        if missing:
            for row in conn.execute(select(subjects).where(subjects.c.aggregate_id.in_(missing))):
                self._keep(row.aggregate_id, row.lead_id, json.loads(row.detail))
        names, users = self._workflow_names(conn), self._users.read(conn)
        renamed: dict[tuple[str, int], str] = {}
        new: dict[str, dict[str, str]] = {}
        rows = []
        for item in items:
            event = item.event
            if isinstance(event, Workflow.Event):
                _name(event, names, renamed)
                continue
            if isinstance(event, User.Event):
                self._users.follow(conn, event)
                continue
            lead_id, detail = self._subject(conn, event, new, names)
            rows.append(_row(item.position, event, lead_id, detail, users))
        self._write_names(conn, renamed)
        self._users.write(conn)
        insert_rows(conn, subjects, list(new.values()))
        insert_rows(conn, history, rows)

    def _workflow_names(self, conn: Connection) -> dict[tuple[str, int], str]:
        if self._names is None:
            self._names = {(r.workflow_id, r.version): r.name
                           for r in conn.execute(select(workflow_names))}
        return self._names

    @staticmethod
    def _write_names(conn: Connection, renamed: dict[tuple[str, int], str]) -> None:
        for workflow_id, version in renamed:
            conn.execute(workflow_names.delete().where(workflow_names.c.workflow_id == workflow_id,
                                                       workflow_names.c.version == version))
        insert_rows(conn, workflow_names, [{"workflow_id": w, "version": v, "name": n}
                                           for (w, v), n in renamed.items()])

    def _subject(self, conn: Connection, event: Any, new: dict[str, dict[str, str]],
                 names: dict[tuple[str, int], str]) -> tuple[str, dict[str, Any]]:
        """The lead an event belongs to, and what its summary needs to know."""
        if isinstance(event, Lead.EntryRefused):
            return str(event.originator_id), {"workflow": _label(names, event.workflow_id,
                                                                 event.workflow_version)}
        if isinstance(event, Lead.Event):
            return str(event.originator_id), {}
        ident = str(event.originator_id)
        if isinstance(event, X.Created | Message.Created):
            detail: dict[str, Any]
            if isinstance(event, X.Created):
                detail = {"channels": [s["channel"] for s in event.steps],
                          "workflow": _label(names, event.workflow_id, event.workflow_version),
                          "workflow_id": str(event.workflow_id), "timezone": event.timezone}
            else:
                detail = {"channel": event.channel, "execution_id": str(event.execution_id)}
            new[ident] = {"aggregate_id": ident, "lead_id": str(event.lead_id),
                          "detail": json.dumps(detail)}
            return self._keep(ident, str(event.lead_id), detail)
        lead_id, detail = self._subjects[ident]
        self._subjects.move_to_end(ident)
        if isinstance(event, X.Migrated | X.ZoneChanged):
            detail = _followed(event, detail, names)
            if ident in new:
                new[ident]["detail"] = json.dumps(detail)
            else:
                conn.execute(subjects.update().where(subjects.c.aggregate_id == ident)
                             .values(detail=json.dumps(detail)))
            self._keep(ident, lead_id, detail)
        return lead_id, detail

    def _keep(self, ident: str, lead_id: str,
              detail: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._subjects[ident] = (lead_id, detail)
        self._subjects.move_to_end(ident)
        if len(self._subjects) > self.CACHE_SIZE:
            self._subjects.popitem(last=False)
        return lead_id, detail

    def for_lead(self, lead_id: str, limit: int = 1000, after: int | None = None,
                 newest: bool = False, before: int | None = None,
                 kinds: Collection[str] | None = None) -> list[dict[str, Any]]:
        """The lead's entries, oldest first: the first ``limit`` (the last, if ``newest``),
        only those after the log position ``after`` (what a page showing the rest lacks) and
        before ``before`` (what a page showing the newest lacks), only of ``kinds``."""
        query = select(history).where(history.c.lead_id == lead_id)
        if after is not None:
            query = query.where(history.c.position > after)
        if before is not None:
            query = query.where(history.c.position < before)
        if kinds is not None:
            query = query.where(history.c.kind.in_(sorted(kinds)))
        order = history.c.position.desc() if newest else history.c.position
        query = query.order_by(order).limit(limit)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if newest:
            rows.reverse()
        for row in rows:
            row["data"] = json.loads(row["data"])
            actor, name = row.pop("actor"), row.pop("actor_name")
            row["by"] = {"actor": actor, "name": name} if actor else None
        return rows
