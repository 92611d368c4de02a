"""Lead history: the audit trail of a lead, its executions and its messages, in log order."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from eventsourcing.utils import get_topic
from sqlalchemy import BigInteger, Column, Connection, Engine, Index, String, Table, Text, select

from application.follower import Item
from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.message import Message
from projections.base import SqlProjection, insert_rows, metadata

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
    Index("lead_history_lead_idx", "lead_id", "position"),
)

# Which lead an execution or a message belongs to, and what the summaries need to know of it.
subjects = Table(
    "lead_history_subjects", metadata,
    Column("aggregate_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("detail", Text, nullable=False),
)

EVENTS: tuple[type, ...] = (
    Lead.Created, Lead.ScoreChanged, Lead.StatusChanged, Lead.Enrolled, Lead.OptedOut,
    Lead.OptedIn, X.Created, X.StepScheduled, X.StepDispatched, X.StepSent, X.StepFailed,
    X.StepSkipped, X.StepOutcomeUnknown, X.StepDeadLettered, X.DeadLetterReplayed, X.Paused,
    X.Resumed, X.Migrated, X.Restarted, X.Cancelled, X.Completed, Message.Created,
    Message.CreatedSent, Message.Sent, Message.Failed, Message.Engaged, Message.OutcomeUnknown,
)

CHANNEL_NAMES = {"email": "email", "sms": "SMS", "in_app": "in-app message"}
MESSAGE_NAMES = {"email": "Email", "sms": "SMS", "in_app": "In-app message"}


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _step(detail: dict[str, Any], step_no: int) -> str:
    channel = detail["channels"][step_no]
    return f"step {step_no + 1} ({CHANNEL_NAMES.get(channel, channel)})"


SUMMARIES: dict[type, Callable[[Any, dict[str, Any]], str]] = {
    Lead.Created: lambda e, d: f"Lead registered with score {e.score}",
    Lead.ScoreChanged: lambda e, d: f"Score changed from {e.old} to {e.new} ({e.reason})",
    Lead.StatusChanged: lambda e, d: f"Status changed from {e.old} to {e.new} ({e.reason})",
    Lead.Enrolled: lambda e, d: f"Enrolled in workflow {e.workflow_id}",
    Lead.OptedOut: lambda e, d: f"Opted out of {CHANNEL_NAMES[e.channel]} ({e.reason})",
    Lead.OptedIn: lambda e, d: f"Opted back in to {CHANNEL_NAMES[e.channel]} ({e.reason})",
    X.Created: lambda e, d: _started(e),
    X.StepScheduled: lambda e, d: f"{_step(d, e.step_no)} due {_when(e.due_at)}: {e.reason}",
    X.StepDispatched: lambda e, d: f"{_step(d, e.step_no)} dispatched (attempt {e.attempt})",
    X.StepSent: lambda e, d: f"{_step(d, e.step_no)} sent" + (
        f"; {_step(d, e.next_step)} due {_when(e.next_due_at)}: {e.next_reason}"
        if e.next_step is not None else ""),
    X.StepFailed: lambda e, d: (f"{_step(d, e.step_no)} failed"
                                f"{' for good' if e.permanent else ''}: {e.reason}"),
    X.StepSkipped: lambda e, d: f"{_step(d, e.step_no)} skipped: {e.reason}",
    X.StepOutcomeUnknown: lambda e, d: f"{_step(d, e.step_no)} outcome unknown: {e.reason}",
    X.StepDeadLettered: lambda e, d: (f"{_step(d, e.step_no)} dead-lettered after {e.attempts} "
                                      f"attempts ({e.reason}); held for the agent to replay"),
    X.DeadLetterReplayed: lambda e, d: f"{_step(d, e.step_no)} replayed from the dead-letter list",
    X.Paused: lambda e, d: f"Workflow paused: {e.reason}",
    X.Resumed: lambda e, d: f"Workflow resumed ({e.policy.replace('_', ' ')} overdue steps)",
    X.Migrated: lambda e, d: f"Moved to workflow version {e.workflow_version} from the next step",
    X.Restarted: lambda e, d: f"Workflow restarted from step 1: {e.reason}",
    X.Cancelled: lambda e, d: f"Workflow cancelled: {e.reason}",
    X.Completed: lambda e, d: "Workflow completed",
    Message.Created: lambda e, d: f"{MESSAGE_NAMES[e.channel]} queued",
    Message.CreatedSent: lambda e, d: _message_sent(e, e.channel),
    Message.Sent: lambda e, d: _message_sent(e, d["channel"]),
    Message.Failed: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} failed: {e.reason}",
    Message.Engaged: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} {e.kind}",
    Message.OutcomeUnknown: lambda e, d: f"{MESSAGE_NAMES[d['channel']]} may not have gone out",
}


def _message_sent(e: Any, channel: str) -> str:
    return f"{MESSAGE_NAMES[channel]} sent" + (f": “{e.subject}”" if e.subject else "")


def _started(e: Any) -> str:
    t = e.trigger
    how = (f"score {t.get('old')} → {t.get('new')} crossed {t.get('score_threshold')}"
           if t.get("kind") == "score" else
           f"registered with score {t.get('new')}, at or above {t.get('score_threshold')}"
           if t.get("kind") == "registration" else
           f"backfilled at publish: score {t.get('new')} at or above {t.get('score_threshold')}")
    return f"Workflow {e.workflow_id} v{e.workflow_version} started: {how}"


def _data(event: Any) -> str:
    """The event's own fields, as JSON, for readers who want more than the summary."""
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    fields = {k: v for k, v in event.__dict__.items() if k not in skip}
    return orjson.dumps(fields, default=str,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()


class LeadHistoryProjection(SqlProjection):
    """Almost every event lands here, so a batch is written with two statements at most (new
    subjects, history rows), and which lead an execution or a message belongs to is kept in
    memory once read."""

    name = "lead_history"
    topics = tuple(get_topic(c) for c in EVENTS)
    tables = (history, subjects)
    CACHE_SIZE = 200_000

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._subjects: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()

    def forget(self) -> None:
        super().forget()
        self._subjects.clear()  # another runner moved on, or a batch rolled back: read afresh

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        missing = {str(i.event.originator_id) for i in items
                   if not isinstance(i.event, (Lead.Event, X.Created, Message.Created))
                   and str(i.event.originator_id) not in self._subjects}
        if missing:
            for row in conn.execute(select(subjects).where(subjects.c.aggregate_id.in_(missing))):
                self._keep(row.aggregate_id, row.lead_id, json.loads(row.detail))
        new: dict[str, dict[str, str]] = {}
        rows = []
        for item in items:
            event = item.event
            lead_id, detail = self._subject(conn, event, new)
            execution_id = message_id = None
            if isinstance(event, X.Event):
                execution_id = str(event.originator_id)
            elif isinstance(event, Message.Event):
                message_id = str(event.originator_id)
                execution_id = detail.get("execution_id")
            rows.append({"position": item.position, "lead_id": lead_id,
                         "occurred_at": event.timestamp.isoformat(),
                         "kind": type(event).__qualname__,
                         "summary": SUMMARIES[type(event)](event, detail),
                         "execution_id": execution_id, "message_id": message_id,
                         "data": _data(event)})
        insert_rows(conn, subjects, list(new.values()))
        insert_rows(conn, history, rows)

    def _subject(self, conn: Connection, event: Any,
                 new: dict[str, dict[str, str]]) -> tuple[str, dict[str, Any]]:
        """The lead an event belongs to, and what its summary needs to know."""
        if isinstance(event, Lead.Event):
            return str(event.originator_id), {}
        ident = str(event.originator_id)
        if isinstance(event, X.Created | Message.Created):
            detail: dict[str, Any]
            if isinstance(event, X.Created):
                detail = {"channels": [s["channel"] for s in event.steps]}
            else:
                detail = {"channel": event.channel, "execution_id": str(event.execution_id)}
            new[ident] = {"aggregate_id": ident, "lead_id": str(event.lead_id),
                          "detail": json.dumps(detail)}
            return self._keep(ident, str(event.lead_id), detail)
        lead_id, detail = self._subjects[ident]
        self._subjects.move_to_end(ident)
        if isinstance(event, X.Migrated):
            detail = {"channels": [s["channel"] for s in event.steps]}
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

    def for_lead(self, lead_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        query = (select(history).where(history.c.lead_id == lead_id)
                 .order_by(history.c.position).limit(limit))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for row in rows:
            row["data"] = json.loads(row["data"])
        return rows
