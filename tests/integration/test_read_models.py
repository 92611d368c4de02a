"""The read models read the log once, together, each behind its own position."""

from __future__ import annotations

from sqlalchemy import func, select

from projections.base import positions
from projections.lead_history import history
from projections.messages import messages
from tests.integration.helpers import Harness


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
