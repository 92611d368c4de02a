"""The directory's lists: leads and executions, a page at a time, within a reach."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, Row, Select, select

from application.list_views import (
    ENROLLED,
    ExecutionFilter,
    ExecutionSummary,
    LeadFilter,
    LeadSummary,
    Page,
    PageAsk,
    Reach,
)
from projections import lead_terms
from projections.directory_tables import executions, leads
from projections.paging import fetch, within

#: Each order's keys (highest first): unique together, and each an index's tail.
LEAD_ORDERS = {"score": (leads.c.score, leads.c.created_pos), "created": (leads.c.created_pos,)}


def lead_page(engine: Engine, reach: Reach, wanted: LeadFilter,
              page: PageAsk) -> Page[LeadSummary]:
    query = select(leads).where(*within(leads, reach), *_lead_conditions(reach, wanted))
    with engine.connect() as conn:
        return fetch(conn, query, LEAD_ORDERS[wanted.sort], descending=True,
                     kind=f"leads/{wanted.sort}", page=page, build=_lead)


def _lead_conditions(reach: Reach, wanted: LeadFilter) -> list[ColumnElement[bool]]:
    found = []
    if wanted.status is not None:
        found.append(leads.c.status == wanted.status)
    if wanted.score_min is not None:
        found.append(leads.c.score >= wanted.score_min)
    if wanted.score_max is not None:
        found.append(leads.c.score <= wanted.score_max)
    if wanted.q is not None:
        found += lead_terms.matching(str(reach.brokerage_id), leads.c.lead_id, wanted.q)
    if wanted.workflow_id is not None:
        found.append(leads.c.lead_id.in_(_enrolled(wanted.workflow_id)))
    return found


def _enrolled(workflow_id: UUID) -> Select[Any]:
    return select(executions.c.lead_id).where(executions.c.workflow_id == str(workflow_id),
                                              executions.c.status.in_(ENROLLED))


def _lead(row: Row[Any]) -> LeadSummary:
    return LeadSummary(id=UUID(row.lead_id), agent_id=row.agent_id, name=row.name,
                       email=row.email, score=row.score, status=row.status,
                       created_at=datetime.fromisoformat(row.created_at),
                       updated_at=datetime.fromisoformat(row.updated_at))


def execution_page(engine: Engine, reach: Reach, wanted: ExecutionFilter,
                   page: PageAsk) -> Page[ExecutionSummary]:
    query = select(executions).where(*within(executions, reach))
    if wanted.status is not None:
        query = query.where(executions.c.status == wanted.status)
    if wanted.workflow_id is not None:
        query = query.where(executions.c.workflow_id == str(wanted.workflow_id))
    if wanted.lead_id is not None:
        query = query.where(executions.c.lead_id == str(wanted.lead_id))
    with engine.connect() as conn:
        return fetch(conn, query, (executions.c.position,), descending=True,
                     kind="executions", page=page, build=_execution)


def _execution(row: Row[Any]) -> ExecutionSummary:
    return ExecutionSummary(id=UUID(row.execution_id), lead_id=UUID(row.lead_id),
                            agent_id=row.agent_id, workflow_id=UUID(row.workflow_id),
                            workflow_version=row.version, status=row.status,
                            started_at=datetime.fromisoformat(row.started_at))
