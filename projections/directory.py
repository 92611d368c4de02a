"""Directory read model: leads by agent and score, executions by workflow and version, and the
dead-letter list (steps whose attempts ran out, held for an agent's replay); the lists of leads
(with their search terms, ``lead_terms.py``) and executions (``directory_pages.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, String, Table, select

from application.follower import Item
from application.list_views import (
    ExecutionFilter,
    ExecutionSummary,
    LeadFilter,
    LeadSummary,
    Page,
    PageAsk,
    Reach,
)
from application.ports import Directory
from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.workflow import Workflow
from projections import directory_pages, lead_terms
from projections.base import Changes, SqlProjection, insert_rows, metadata
from projections.directory_tables import dead_letters, executions, held_steps, leads

__all__ = ["DirectoryProjection", "dead_letters", "executions", "held_steps", "leads"]

# Which workflows have had a step with a template (in a draft or a version): where to look for
# what an edit of the template concerns (the workflows themselves say what they pin now).
template_uses = Table(
    "directory_template_uses", metadata,
    Column("template_id", String(36), primary_key=True),
    Column("workflow_id", String(36), primary_key=True),
)
#: The workflow events that carry a definition.
DEFINITIONS = (Workflow.Created, Workflow.DraftEdited, Workflow.DraftUndone,
               Workflow.DraftRedone, Workflow.Published)

STATUS_EVENTS = {X.Paused: "paused", X.Resumed: "active", X.Restarted: "active",
                 X.Cancelled: "cancelled", X.Completed: "completed", X.StepDeadLettered: "paused",
                 X.DeadLetterReplayed: "active"}
# What takes an execution off the dead-letter list (its history keeps the record).
LEAVES_DEAD_LETTERS = (X.DeadLetterReplayed, X.Restarted, X.Cancelled)
# What ends a hold (a hold the resume missed ends with the execution's next change of status).
LEAVES_HELD = (X.StepReleased, *STATUS_EVENTS)


def _lead_row(item: Item) -> dict[str, Any]:
    event = item.event
    at = event.timestamp.isoformat()
    return {"lead_id": str(event.originator_id), "brokerage_id": str(event.brokerage_id),
            "agent_id": event.agent_id, "name": event.name, "email": event.email,
            "score": event.score, "status": "new", "created_at": at, "updated_at": at,
            "created_pos": item.position}


def _execution_row(item: Item) -> dict[str, Any]:
    event = item.event
    return {"execution_id": str(event.originator_id), "lead_id": str(event.lead_id),
            "workflow_id": str(event.workflow_id), "version": event.workflow_version,
            "status": "active", "started_at": event.started_at.isoformat(),
            "position": item.position}


def _owners(conn: Connection, rows: list[dict[str, Any]],
            registered: dict[str, dict[str, Any]]) -> None:
    """New executions take their lead's brokerage and agent (from this batch, or stored)."""
    missing = {r["lead_id"] for r in rows} - set(registered)
    stored = {r.lead_id: r._mapping for r in conn.execute(
        select(leads.c.lead_id, leads.c.brokerage_id, leads.c.agent_id)
        .where(leads.c.lead_id.in_(missing)))} if missing else {}
    for row in rows:
        owner = registered.get(row["lead_id"]) or stored[row["lead_id"]]
        row.update(brokerage_id=owner["brokerage_id"], agent_id=owner["agent_id"])


class DirectoryProjection(SqlProjection, Directory):
    name = "directory"
    topics = tuple(get_topic(c) for c in (Lead.Created, Lead.ScoreChanged, Lead.StatusChanged,
                                          X.Created, X.Migrated, *STATUS_EVENTS,
                                          Lead.ProfileEdited, X.StepHeld, X.StepReleased,
                                          *DEFINITIONS))
    tables = (leads, executions, dead_letters, held_steps, template_uses, lead_terms.terms)

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        lead_rows, execution_rows = Changes(leads, "lead_id"), Changes(executions, "execution_id")
        edited: set[str] = set()  # leads whose name or email changed: searched by new words
        for item in items:
            event, ident = item.event, str(item.event.originator_id)
            at = event.timestamp.isoformat()
            if isinstance(event, Lead.Created):
                lead_rows.insert(ident, _lead_row(item))
            elif isinstance(event, Lead.ScoreChanged):
                lead_rows.update(ident, {"score": event.new, "updated_at": at})
            elif isinstance(event, Lead.StatusChanged):
                lead_rows.update(ident, {"status": event.new, "updated_at": at})
            elif isinstance(event, Lead.ProfileEdited) and {"name", "email"} & set(event.changes):
                lead_rows.update(ident, {k: v for k, v in event.changes.items()
                                         if k in ("name", "email")} | {"updated_at": at})
                edited.add(ident)
            elif isinstance(event, X.Created):
                execution_rows.insert(ident, _execution_row(item))
            elif isinstance(event, X.Migrated):
                execution_rows.update(ident, {"version": event.workflow_version})
            elif type(event) in STATUS_EVENTS:
                execution_rows.update(ident, {"status": STATUS_EVENTS[type(event)]})
        registered = {row["lead_id"]: row for row in lead_rows.new.values()}
        lead_rows.write(conn)
        lead_terms.index(conn, registered.values(), fresh=True)
        if edited - set(registered):
            lead_terms.index(conn, [dict(r._mapping) for r in conn.execute(
                select(leads.c.lead_id, leads.c.brokerage_id, leads.c.name, leads.c.email)
                .where(leads.c.lead_id.in_(edited - set(registered))))], fresh=False)
        _owners(conn, list(execution_rows.new.values()), registered)
        execution_rows.write(conn)
        for item in items:  # the dead-letter list, in log order, once executions are written
            event, ident = item.event, str(item.event.originator_id)
            if isinstance(event, X.StepDeadLettered):
                row = conn.execute(select(executions.c.lead_id, executions.c.workflow_id)
                                   .where(executions.c.execution_id == ident)).one()
                conn.execute(dead_letters.insert().values(
                    execution_id=ident, lead_id=row.lead_id, workflow_id=row.workflow_id,
                    step_no=event.step_no, attempts=event.attempts, reason=event.reason,
                    dead_lettered_at=event.at.isoformat()))
            elif isinstance(event, LEAVES_DEAD_LETTERS):
                conn.execute(dead_letters.delete().where(dead_letters.c.execution_id == ident))
        self._holds(conn, items)
        self._template_uses(conn, items)

    @staticmethod
    def _template_uses(conn: Connection, items: list[Item]) -> None:
        """The (template, workflow) pairs the batch's definitions name, new ones added."""
        pairs = {(s["template_id"], str(i.event.originator_id)) for i in items
                 if isinstance(i.event, DEFINITIONS) for s in i.event.definition["steps"]
                 if s["template_id"] is not None}  # a draft's step may have none yet
        workflows = {w for _, w in pairs}
        if not workflows:
            return
        known = {(r.template_id, r.workflow_id) for r in conn.execute(
            select(template_uses).where(template_uses.c.workflow_id.in_(workflows)))}
        insert_rows(conn, template_uses, [{"template_id": t, "workflow_id": w}
                                          for t, w in sorted(pairs - known)])

    @staticmethod
    def _holds(conn: Connection, items: list[Item]) -> None:
        """The held steps, in log order, once executions are written."""
        for item in items:
            event, ident = item.event, str(item.event.originator_id)
            if isinstance(event, (X.StepHeld, *LEAVES_HELD)):
                conn.execute(held_steps.delete().where(held_steps.c.execution_id == ident))
            if isinstance(event, X.StepHeld):
                row = conn.execute(select(executions.c.workflow_id)
                                   .where(executions.c.execution_id == ident)).one()
                conn.execute(held_steps.insert().values(
                    execution_id=ident, workflow_id=row.workflow_id, step_no=event.step_no))

    def leads_at_or_above(self, brokerage_id: UUID, agent_id: str, score: int) -> list[UUID]:
        query = (select(leads.c.lead_id).where(leads.c.brokerage_id == str(brokerage_id),
                                               leads.c.agent_id == agent_id,
                                               leads.c.score >= score,
                                               leads.c.status.not_in(("closed", "lost")))
                 .order_by(leads.c.score.desc(), leads.c.lead_id))
        with self.engine.connect() as conn:
            return [UUID(r.lead_id) for r in conn.execute(query)]

    def live_executions(self, workflow_id: UUID) -> list[tuple[UUID, int]]:
        query = (select(executions.c.execution_id, executions.c.version)
                 .where(executions.c.workflow_id == str(workflow_id),
                        executions.c.status.in_(("active", "paused")))
                 .order_by(executions.c.execution_id))
        with self.engine.connect() as conn:
            return [(UUID(r.execution_id), r.version) for r in conn.execute(query)]

    def template_users(self, template_id: UUID) -> list[UUID]:
        query = (select(template_uses.c.workflow_id)
                 .where(template_uses.c.template_id == str(template_id))
                 .order_by(template_uses.c.workflow_id))
        with self.engine.connect() as conn:
            return [UUID(r.workflow_id) for r in conn.execute(query)]

    def held_executions(self, workflow_id: UUID) -> list[UUID]:
        query = (select(held_steps.c.execution_id)
                 .where(held_steps.c.workflow_id == str(workflow_id))
                 .order_by(held_steps.c.execution_id))
        with self.engine.connect() as conn:
            return [UUID(r.execution_id) for r in conn.execute(query)]

    def dead_letters(self, *, agent_id: str | None = None, workflow_id: UUID | None = None,
                     limit: int = 1000,
                     brokerage_id: UUID | None = None) -> list[dict[str, Any]]:
        query = (select(dead_letters, leads.c.agent_id)
                 .join(leads, leads.c.lead_id == dead_letters.c.lead_id)
                 .order_by(dead_letters.c.dead_lettered_at, dead_letters.c.execution_id)
                 .limit(limit))
        if agent_id is not None:
            query = query.where(leads.c.agent_id == agent_id)
        if brokerage_id is not None:
            query = query.where(leads.c.brokerage_id == str(brokerage_id))
        if workflow_id is not None:
            query = query.where(dead_letters.c.workflow_id == str(workflow_id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def lead_page(self, reach: Reach, wanted: LeadFilter, page: PageAsk) -> Page[LeadSummary]:
        return directory_pages.lead_page(self.engine, reach, wanted, page)

    def execution_page(self, reach: Reach, wanted: ExecutionFilter,
                       page: PageAsk) -> Page[ExecutionSummary]:
        return directory_pages.execution_page(self.engine, reach, wanted, page)
