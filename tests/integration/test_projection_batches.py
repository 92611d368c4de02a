"""Read models written a batch at a time equal the same read models written an event at a time,
wherever the batches are cut (the projector reads the log in batches of any size)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, create_engine, select

from application.follower import Item
from domain.errors import DomainError
from domain.message import Message
from projections.base import SqlProjection
from projections.lead_history import LeadHistoryProjection, history, subjects
from projections.messages import MessagesProjection, messages
from tests.unit.conftest import T0

OPS = st.sampled_from(["sent", "failed", "failed_for_good", "unknown", "delivered", "opened",
                       "clicked", "read"])


def log_of(script: list[tuple[int, str]], count: int) -> list[Item]:
    """Messages driven by ``script`` (message index, operation), interleaved as in the log."""
    lead = uuid4()
    found = [Message.queue(message_id=uuid4(), execution_id=uuid4(), lead_id=lead, step_no=i,
                           channel=("email", "sms", "in_app")[i % 3], template_id="t", now=T0)
             for i in range(count)]
    events = [e for m in found for e in m.collect_events()]
    for n, (index, op) in enumerate(script):
        message, now = found[index % count], T0 + timedelta(minutes=n + 1)
        try:
            if op == "sent":
                message.mark_sent(f"p-{n}", "ana@example.com", f"subject {n}", f"body {n}", now)
            elif op.startswith("failed"):
                message.mark_failed(f"reason {n}", op == "failed_for_good", now)
            elif op == "unknown":
                message.mark_unknown(f"died {n}", now)
            else:
                message.engage(op, now)
        except DomainError:
            continue
        events += message.collect_events()
    return [Item(position, event) for position, event in enumerate(events, start=1)]


def project(items: list[Item], cuts: set[int], kinds: tuple[type[SqlProjection], ...],
            tables: tuple[Table, ...]) -> dict[str, Any]:
    """Each projection of ``kinds`` fed what its follower reads of ``items``, in batches cut at
    ``cuts``; then the rows of ``tables``."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'rm.db'}")
        for kind in kinds:
            projection = kind(engine)
            projection.create()
            projection.position()
            mine = [i for i in items if type(i.event).TOPIC in set(projection.topics)]
            start = 0
            for end in sorted({*cuts, len(mine)}):
                if start < end <= len(mine):
                    projection.apply(mine[start:end], mine[end - 1].position)
                    start = end
        with engine.connect() as conn:
            found = {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}
        engine.dispose()
        return found


def messages_rows(items: list[Item], cuts: set[int]) -> dict[str, Any]:
    return project(items, cuts, (MessagesProjection, LeadHistoryProjection),
                   (messages, history, subjects))


@settings(max_examples=40, deadline=None)
@given(script=st.lists(st.tuples(st.integers(0, 5), OPS), max_size=25),
       count=st.integers(1, 3), cuts=st.sets(st.integers(1, 40), max_size=6))
def test_any_batching_writes_the_same_rows_as_one_event_at_a_time(
        script: list[tuple[int, str]], count: int, cuts: set[int]) -> None:
    items = log_of(script, count)
    one_at_a_time = messages_rows(items, set(range(1, len(items) + 1)))
    assert messages_rows(items, cuts) == one_at_a_time
    assert len(one_at_a_time["messages"]) == count
    assert len(one_at_a_time["lead_history"]) == len(items)


def test_a_sent_then_opened_message_reads_as_such_from_a_single_batch() -> None:
    items = log_of([(0, "failed"), (0, "sent"), (0, "opened")], 1)
    [row] = messages_rows(items, set())["messages"]
    columns = [c.name for c in messages.columns]
    got = dict(zip(columns, row, strict=True))
    assert got["status"] == "sent" and got["subject"] == "subject 1"
    assert got["failure"] == "reason 0" and got["opened_at"] is not None
    assert UUID(got["message_id"]) == items[0].event.originator_id


LEAD_OPS = st.one_of(st.tuples(st.just("score"), st.integers(0, 100)),
                     st.tuples(st.just("status"), st.sampled_from(["contacted", "closed", "new"])),
                     st.tuples(st.sampled_from(["pause", "resume", "cancel", "restart",
                                                "publish", "hold", "release", "rename"]),
                               st.just(0)))
TEMPLATE = str(uuid4())
WORKFLOW = {"trigger": {"score_threshold": 80},
            "steps": [{"channel": "sms", "template_id": TEMPLATE, "delay_minutes": 5}]}


def workflow_op(workflow: Any, op: str, n: int, now: Any) -> None:
    if op == "publish":
        workflow.publish(template_channels={TEMPLATE: "sms"}, template_revisions={TEMPLATE: 1},
                         now=now)
    elif op == "hold":
        workflow.pause("agent", now)
    elif op == "release":
        workflow.resume(now)
    else:
        workflow.edit(name=f"Workflow {n}", definition=WORKFLOW)


def directory_log(script: list[tuple[str, int]]) -> list[Item]:
    from domain.execution import WorkflowExecution
    from domain.lead import Lead
    from domain.workflow import Workflow

    workflow = Workflow.create(agent_id="a", name="Workflow", definition=WORKFLOW)
    lead = Lead.register(lead_id=uuid4(), agent_id="a", name="Ana", email=None, phone=None,
                         timezone="UTC", preferences={}, timeline=None, score=10)
    execution = WorkflowExecution.start(
        execution_id=uuid4(), lead_id=lead.id, workflow_id=workflow.id, workflow_version=1,
        steps=[{"channel": "sms", "template_id": "t", "delay_minutes": 5}],
        trigger={"kind": "score", "new": 90}, timezone="UTC", now=T0)
    events = [*workflow.collect_events(), *lead.collect_events(), *execution.collect_events()]
    for n, (op, value) in enumerate(script):
        now = T0 + timedelta(minutes=n + 1)
        try:
            if op == "score":
                lead.change_score(value, "model", now)
            elif op == "status":
                lead.change_status(str(value), "agent")
            elif op == "pause":
                execution.pause("agent", now)
            elif op == "resume":
                execution.resume("shift", now)
            elif op == "cancel":
                execution.cancel("agent", now)
            elif op == "restart":
                execution.restart("agent", now)
            else:
                workflow_op(workflow, op, n, now)
        except DomainError:
            continue
        events += [*workflow.collect_events(), *lead.collect_events(),
                   *execution.collect_events()]
    return [Item(position, event) for position, event in enumerate(events, start=1)]


def directory_rows(items: list[Item], cuts: set[int]) -> dict[str, Any]:
    from projections import catalogue
    from projections.directory import DirectoryProjection, executions, leads
    from projections.lead_terms import terms

    return project(items, cuts, (DirectoryProjection, catalogue.CatalogueProjection),
                   (leads, executions, terms, catalogue.workflows, catalogue.runs))


@settings(max_examples=40, deadline=None)
@given(script=st.lists(LEAD_OPS, max_size=20), cuts=st.sets(st.integers(1, 30), max_size=5))
def test_the_directory_is_the_same_however_the_log_is_cut(
        script: list[tuple[str, int]], cuts: set[int]) -> None:
    items = directory_log(script)
    one_at_a_time = directory_rows(items, set(range(1, len(items) + 1)))
    assert directory_rows(items, cuts) == one_at_a_time
    from projections.directory import executions, leads

    [lead] = [dict(zip(leads.columns.keys(), r, strict=True))
              for r in one_at_a_time["directory_leads"]]
    scores = [i.event.new for i in items if type(i.event).__name__ == "ScoreChanged"]
    assert lead["score"] == (scores[-1] if scores else 10)
    [execution] = [dict(zip(executions.columns.keys(), r, strict=True))
                   for r in one_at_a_time["directory_executions"]]
    [workflow] = one_at_a_time["catalogue_workflows"]
    assert workflow[8] == (1 if execution["status"] == "active" else 0)  # active_executions
