"""The lead list's query until the directory's own lists (cursor pages, name search) are
merged: the leads within a reach by status and score range, highest score first, from the
directory read model (which holds no names: the caller reads each lead, and searches names
and emails itself, within ``SCAN``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Engine, select

from projections.directory import leads

#: The most leads a filter reads before a name or email search narrows them.
SCAN = 2000


@dataclass(frozen=True)
class LeadQuery:
    brokerage_id: UUID
    agent_id: str | None  # None: the brokerage's every agent
    status: str | None = None
    score_min: int | None = None
    score_max: int | None = None


def lead_ids(engine: Engine, query: LeadQuery, limit: int = SCAN) -> list[UUID]:
    c = leads.c
    found = select(c.lead_id).where(c.brokerage_id == str(query.brokerage_id))
    if query.agent_id is not None:
        found = found.where(c.agent_id == query.agent_id)
    if query.status is not None:
        found = found.where(c.status == query.status)
    if query.score_min is not None:
        found = found.where(c.score >= query.score_min)
    if query.score_max is not None:
        found = found.where(c.score <= query.score_max)
    found = found.order_by(c.score.desc(), c.lead_id).limit(limit)
    with engine.connect() as conn:
        return [UUID(row.lead_id) for row in conn.execute(found)]
