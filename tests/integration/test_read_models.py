"""The read models read the log once, together, each behind its own position."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from domain.workflow import Workflow
from projections.base import positions
from projections.directory import dead_letters, held_steps
from projections.lead_history import history, subjects, workflow_names
from projections.messages import messages
from tests.integration.helpers import Harness, executions_of, register_ana


def stored_positions(h: Harness) -> dict[str, int]:
    with h.rt.engine.connect() as conn:
        return {r.name: r.position for r in conn.execute(select(positions))}


def count(h: Harness, table: object) -> int:
    with h.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def test_one_read_model_rebuilds_while_the_others_stay_as_they_are(h: Harness) -> None:
    # Given a lead who crossed a threshold and got her first email, every read model current
    h.crossing()
    h.send_due()
    h.settle()
    head = h.rt.app.recorder.max_notification_id()
    before = stored_positions(h)
    assert {before[m.name] for m in h.rt.read_models.members} == {head}
    history_rows, message_rows = count(h, history), count(h, messages)
    assert message_rows == 1
    # When only the messages read model is dropped
    h.rt.messages.drop()
    assert count(h, messages) == 0 and h.rt.read_models.position() == 0
    # Then the group reads from the start again: messages are rebuilt, the others skip it all
    h.settle()
    assert count(h, messages) == message_rows and count(h, history) == history_rows
    assert stored_positions(h) == before


def test_a_position_moved_by_another_runner_rolls_the_whole_batch_back(h: Harness) -> None:
    # Given events in the log that no read model has applied yet
    h.crossing()
    group = h.rt.read_models
    assert group.position() == 0
    head = h.rt.app.recorder.max_notification_id()
    # When another runner has moved the directory on behind this one's back
    with h.rt.engine.begin() as conn:
        conn.execute(positions.update().where(positions.c.name == "directory")
                     .values(position=head))
    follower = h.followers["read-models"]
    follower.run_once()
    # Then no read model moved and no row was written
    moved = stored_positions(h)
    assert moved["lead_history"] == 0 and moved["messages"] == 0 and count(h, history) == 0
    # And the next reading starts from the positions as stored, and catches up
    follower.catch_up()
    assert set(stored_positions(h).values()) == {head}
    assert count(h, history) > 0


def table_rows(h: Harness, *tables: Any) -> dict[str, list[tuple[Any, ...]]]:
    with h.rt.engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}


def test_refusals_holds_releases_and_names_rebuild_identically(h: Harness) -> None:
    # Given a lead whose history has a refused entry, a held and released step, and a workflow
    # renamed and published again
    app = h.rt.app
    lead = h.crossing()
    h.send_due()
    workflow_id = executions_of(app, lead)[0].workflow_id
    app.hold_workflow(workflow_id, True, "holiday")
    h.clock.advance(minutes=61)
    assert h.send_due() == ["held"]
    draft = app.load(Workflow, workflow_id).draft
    app.edit_workflow(workflow_id, name="Hot leads", definition=draft)
    app.publish_workflow(workflow_id)
    app.hold_workflow(workflow_id, False, "resumed")
    assert h.send_due() == ["sent"]
    app.hold_workflow(workflow_id, True, "holiday again")
    h.clock.advance(days=1, minutes=1)
    assert h.send_due() == ["held"]  # step 3, held until the next resume
    other = register_ana(app)
    app.change_status(other, "closed", "bought")
    app.change_score(other, 90, "up")
    h.settle()
    kinds = {r["kind"] for lead_id in (lead, other)
             for r in h.rt.history.for_lead(str(lead_id))}
    assert {"Lead.EntryRefused", "WorkflowExecution.StepHeld",
            "WorkflowExecution.StepReleased"} <= kinds
    tables = (history, subjects, workflow_names, held_steps, dead_letters)
    before = table_rows(h, *tables)
    assert before["lead_history_workflows"] and before["directory_held_steps"]
    # When the history and the directory are dropped and rebuilt from the log
    h.rt.history.drop()
    h.rt.directory.drop()
    h.settle()
    # Then every row comes out as it was
    assert table_rows(h, *tables) == before


def test_a_read_model_error_never_carries_the_statement_s_values(h: Harness) -> None:
    # Given a lead history row already stored at a position
    row = {"position": 1, "lead_id": "x", "occurred_at": "2026-11-25T09:00:00+00:00",
           "kind": "Created", "summary": "Ana Lima, ana@example.com", "execution_id": None,
           "message_id": None, "data": "{}"}
    with h.rt.engine.begin() as conn:
        conn.execute(history.insert(), row)
    # When the same position is written again (an error the database raises)
    with pytest.raises(SQLAlchemyError) as raised, h.rt.engine.begin() as conn:
        conn.execute(history.insert(), row)
    # Then the error, which a log line may carry, names no value of the statement
    assert "ana@example.com" not in str(raised.value)
    assert "Ana Lima" not in str(raised.value)
