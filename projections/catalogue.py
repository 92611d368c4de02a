"""Catalogue read model: the lists of workflows (name, state, live version, active executions,
steps sent by the hour) and of templates, within a brokerage or an agent's reach.

It keeps, per execution, only its workflow and whether it is active: what the counts need."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    bindparam,
    func,
    or_,
    select,
)

from application.follower import Item
from application.list_views import Page, PageAsk, Reach, TemplateSummary, WorkflowSummary
from application.ports import Catalogue
from domain.execution import WorkflowExecution as X
from domain.template import Template
from domain.workflow import Workflow
from projections.base import Rows, SqlProjection, insert_rows, metadata
from projections.directory import STATUS_EVENTS
from projections.paging import fetch, within

#: A name as the lists order it: case folded, in code point order on both databases.
NameKey = Text().with_variant(Text(collation="C"), "postgresql")

workflows = Table(
    "catalogue_workflows", metadata,
    Column("workflow_id", String(36), primary_key=True),
    Column("brokerage_id", String(36), nullable=False),
    Column("agent_id", String(100), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", NameKey, nullable=False),
    Column("status", String(20), nullable=False),
    Column("live_version", Integer),
    Column("paused", Boolean, nullable=False),
    Column("active_executions", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("catalogue_workflows_agent_idx", "brokerage_id", "agent_id", "name_key", "workflow_id"),
    Index("catalogue_workflows_brokerage_idx", "brokerage_id", "name_key", "workflow_id"),
)

templates = Table(
    "catalogue_templates", metadata,
    Column("template_id", String(36), primary_key=True),
    Column("brokerage_id", String(36), nullable=False),
    Column("agent_id", String(100)),  # None: the brokerage's own
    Column("name", Text, nullable=False),
    Column("name_key", NameKey, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("subject", Text),
    Column("updated_at", String(40), nullable=False),
    Index("catalogue_templates_brokerage_idx", "brokerage_id", "name_key", "template_id"),
)

runs = Table(
    "catalogue_executions", metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("workflow_id", String(36), nullable=False),
    Column("active", Boolean, nullable=False),
)

# Steps sent per workflow and hour (hours since the epoch, UTC).
sends = Table(
    "catalogue_sends", metadata,
    Column("workflow_id", String(36), primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("sent", Integer, nullable=False),
)

WORKFLOW_EVENTS = (Workflow.Created, Workflow.DraftEdited, Workflow.Published, Workflow.Paused,
                   Workflow.Resumed)
EXECUTION_EVENTS = (X.Created, X.StepSent, *STATUS_EVENTS)


def hour_of(when: datetime) -> int:
    return int(when.timestamp() // 3600)


def _status(row: dict[str, Any]) -> str:
    return "paused" if row["paused"] else "published" if row["live_version"] else "draft"


class CatalogueProjection(SqlProjection, Catalogue):
    name = "catalogue"
    topics = tuple(get_topic(c) for c in (*WORKFLOW_EVENTS, Template.Created, Template.Revised,
                                          *EXECUTION_EVENTS))
    tables = (workflows, templates, runs, sends)

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        fold = Fold(conn, items)
        for item in items:
            fold.apply(item.event, str(item.event.originator_id))
        for rows in (fold.flows, fold.templates, fold.runs):
            rows.write(conn)
        _add_sends(conn, fold.sent)

    def workflow_page(self, reach: Reach, status: str | None, page: PageAsk,
                      sent_since: datetime) -> Page[WorkflowSummary]:
        """By name; each with its steps sent in the hours from ``sent_since``'s on (the hour
        it falls in counts whole)."""
        query = select(workflows).where(*within(workflows, reach))
        if status is not None:
            query = query.where(workflows.c.status == status)
        with self.engine.connect() as conn:
            found = fetch(conn, query, (workflows.c.name_key, workflows.c.workflow_id),
                          descending=False, kind="workflows", page=page, build=lambda r: r)
            sent = _sent_since(conn, [r.workflow_id for r in found.items], hour_of(sent_since))
        return Page([_workflow(r, sent.get(r.workflow_id, 0)) for r in found.items], found.next)

    def template_page(self, reach: Reach, channel: str | None,
                      page: PageAsk) -> Page[TemplateSummary]:
        query = select(templates).where(templates.c.brokerage_id == str(reach.brokerage_id))
        if reach.agent_id is not None:  # the agent's own and the brokerage's own
            query = query.where(or_(templates.c.agent_id == reach.agent_id,
                                    templates.c.agent_id.is_(None)))
        if channel is not None:
            query = query.where(templates.c.channel == channel)
        with self.engine.connect() as conn:
            return fetch(conn, query, (templates.c.name_key, templates.c.template_id),
                         descending=False, kind="templates", page=page, build=_template)


def _sent_since(conn: Connection, workflow_ids: list[str], hour: int) -> dict[str, int]:
    if not workflow_ids:
        return {}
    query = (select(sends.c.workflow_id, func.sum(sends.c.sent).label("sent"))
             .where(sends.c.workflow_id.in_(workflow_ids), sends.c.hour >= hour)
             .group_by(sends.c.workflow_id))
    return {r.workflow_id: int(r.sent) for r in conn.execute(query)}


def _workflow(row: Row[Any], sent: int) -> WorkflowSummary:
    return WorkflowSummary(id=UUID(row.workflow_id), agent_id=row.agent_id, name=row.name,
                           status=row.status, live_version=row.live_version,
                           active_executions=row.active_executions, sent_last_7_days=sent,
                           updated_at=datetime.fromisoformat(row.updated_at))


def _template(row: Row[Any]) -> TemplateSummary:
    return TemplateSummary(id=UUID(row.template_id), agent_id=row.agent_id, name=row.name,
                           channel=row.channel, subject=row.subject,
                           updated_at=datetime.fromisoformat(row.updated_at))


class Fold:
    """A batch's events folded into the rows they touch, in log order."""

    def __init__(self, conn: Connection, items: list[Item]) -> None:
        ids = {kind: {str(i.event.originator_id) for i in items if isinstance(i.event, kind)}
               for kind in (Workflow.Event, Template.Event, X.Event)}
        self.runs = Rows(conn, runs, "execution_id", ids[X.Event])
        started = {str(i.event.workflow_id) for i in items if isinstance(i.event, X.Created)}
        self.flows = Rows(conn, workflows, "workflow_id", ids[Workflow.Event] | started | {
            r["workflow_id"] for r in self.runs.rows.values()})
        self.templates = Rows(conn, templates, "template_id", ids[Template.Event])
        self.sent: Counter[tuple[str, int]] = Counter()

    def apply(self, event: Any, ident: str) -> None:
        if isinstance(event, Workflow.Event):
            self._workflow(event, ident)
        elif isinstance(event, Template.Created):
            self.templates.add(ident, {
                "template_id": ident, "brokerage_id": str(event.brokerage_id),
                "agent_id": event.agent_id, "name": event.name, "name_key": event.name.casefold(),
                "channel": event.channel, "subject": event.subject,
                "updated_at": event.timestamp.isoformat()})
        elif isinstance(event, Template.Revised):
            self.templates.change(ident, name=event.name, name_key=event.name.casefold(),
                                  subject=event.subject, updated_at=event.timestamp.isoformat())
        elif isinstance(event, X.Created):
            self.runs.add(ident, {"execution_id": ident, "workflow_id": str(event.workflow_id),
                                  "active": True})
            self._count(str(event.workflow_id), +1)
        elif isinstance(event, X.StepSent):
            run = self.runs.rows.get(ident)
            if run is not None:
                self.sent[run["workflow_id"], hour_of(event.sent_at)] += 1
        else:
            self._run_status(ident, STATUS_EVENTS[type(event)] == "active")

    def _workflow(self, event: Any, ident: str) -> None:
        at = event.timestamp.isoformat()
        if isinstance(event, Workflow.Created):
            self.flows.add(ident, {
                "workflow_id": ident, "brokerage_id": str(event.brokerage_id),
                "agent_id": event.agent_id, "name": event.name, "name_key": event.name.casefold(),
                "status": "draft", "live_version": None, "paused": False,
                "active_executions": 0, "updated_at": at})
            return
        if isinstance(event, Workflow.DraftEdited):
            values: dict[str, Any] = {"name": event.name, "name_key": event.name.casefold()}
        elif isinstance(event, Workflow.Published):
            values = {"live_version": event.number}
        else:
            values = {"paused": isinstance(event, Workflow.Paused)}
        row = self.flows.change(ident, updated_at=at, **values)
        if row is not None:
            row["status"] = _status(row)

    def _run_status(self, ident: str, active: bool) -> None:
        run = self.runs.rows.get(ident)
        if run is not None and run["active"] != active:
            self.runs.change(ident, active=active)
            self._count(run["workflow_id"], +1 if active else -1)

    def _count(self, workflow_id: str, by: int) -> None:
        row = self.flows.rows.get(workflow_id)
        if row is not None:
            self.flows.change(workflow_id, active_executions=row["active_executions"] + by)


def _add_sends(conn: Connection, sent: Counter[tuple[str, int]]) -> None:
    """Add the batch's sends to their hours' counts (one read, one insert, one update)."""
    if not sent:
        return
    found = conn.execute(select(sends).where(sends.c.workflow_id.in_({w for w, _ in sent}),
                                             sends.c.hour.in_({h for _, h in sent})))
    stored = {(r.workflow_id, r.hour): r.sent for r in found}
    insert_rows(conn, sends, [{"workflow_id": w, "hour": h, "sent": n}
                              for (w, h), n in sorted(sent.items()) if (w, h) not in stored])
    changed = [{"w": w, "h": h, "n": stored[w, h] + n} for (w, h), n in sorted(sent.items())
               if (w, h) in stored]
    if changed:
        conn.execute(sends.update().where(sends.c.workflow_id == bindparam("w"),
                                          sends.c.hour == bindparam("h"))
                     .values(sent=bindparam("n")), changed)
