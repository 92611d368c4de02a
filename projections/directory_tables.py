"""The directory's tables: leads, executions, dead letters and held steps (the read model that
writes them is ``projections/directory.py``; its lists read them in ``directory_pages.py``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from projections.base import metadata

leads = Table(
    "directory_leads", metadata,
    Column("lead_id", String(36), primary_key=True),
    Column("brokerage_id", String(36), nullable=False),
    Column("agent_id", String(100), nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text),
    Column("score", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("created_pos", BigInteger, nullable=False),  # the registration's log position
    Index("directory_leads_score_idx", "agent_id", "score"),
    # The lists' orders (see directory_pages.py): an agent's, and a whole brokerage's
    Index("directory_leads_agent_by_score_idx", "brokerage_id", "agent_id", "score",
          "created_pos"),
    Index("directory_leads_by_score_idx", "brokerage_id", "score", "created_pos"),
    Index("directory_leads_agent_by_created_idx", "brokerage_id", "agent_id", "created_pos"),
    Index("directory_leads_by_created_idx", "brokerage_id", "created_pos"),
)

executions = Table(
    "directory_executions", metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("brokerage_id", String(36), nullable=False),  # the lead's
    Column("agent_id", String(100), nullable=False),  # the lead's
    Column("workflow_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("position", BigInteger, nullable=False),  # the start's log position
    Index("directory_executions_workflow_idx", "workflow_id", "status", "lead_id"),
    Index("directory_executions_agent_idx", "brokerage_id", "agent_id", "position"),
    Index("directory_executions_brokerage_idx", "brokerage_id", "position"),
    Index("directory_executions_lead_idx", "lead_id", "position"),
    Index("directory_executions_workflow_position_idx", "workflow_id", "position"),
)

dead_letters = Table(
    "directory_dead_letters", metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("workflow_id", String(36), nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("dead_lettered_at", String(40), nullable=False),
    Index("directory_dead_letters_workflow_idx", "workflow_id", "dead_lettered_at"),
)

# Steps that fell due while their workflow was paused, for its resume to release at once.
held_steps = Table(
    "directory_held_steps", metadata,
    Column("execution_id", String(36), primary_key=True),
    Column("workflow_id", String(36), nullable=False),
    Column("step_no", Integer, nullable=False),
    Index("directory_held_steps_workflow_idx", "workflow_id"),
)
