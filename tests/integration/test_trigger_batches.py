"""The trigger under a bulk import: registrations that start nothing cost no write each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import Harness, executions_of, register_ana, three_step_workflow


def test_registrations_that_start_nothing_move_the_trigger_with_one_write(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a published workflow (threshold 80) and 40 leads registered below it
    app = h.rt.app
    three_step_workflow(app)
    for i in range(40):
        app.register_lead(agent_id="agent-1", name=f"Lead {i}", email=None, phone=None,
                          timezone="UTC", preferences={}, timeline=None, score=20 + i % 50)
    writes: list[Any] = []
    insert_tracking = app.recorder.insert_tracking  # type: ignore[attr-defined]
    monkeypatch.setattr(app.recorder, "insert_tracking",
                        lambda tracking: writes.append(tracking) or insert_tracking(tracking))
    # When the trigger follows them
    h.followers["trigger"].catch_up()
    # Then its position reached the last of them with one write, not one per registration
    head = app.recorder.max_notification_id()
    assert app.recorder.max_tracking_id("trigger") == head  # type: ignore[attr-defined]
    assert len(writes) == 1


def test_a_crossing_among_them_is_still_saved_with_its_own_position(h: Harness) -> None:
    # Given registrations below the threshold around one lead's crossing
    app = h.rt.app
    three_step_workflow(app)
    for i in range(5):
        app.register_lead(agent_id="agent-1", name=f"Lead {i}", email=None, phone=None,
                          timezone="UTC", preferences={}, timeline=None, score=10)
    ana = register_ana(app)
    app.change_score(ana, 85, "viewed a listing")
    for i in range(5):
        app.register_lead(agent_id="agent-1", name=f"Later {i}", email=None, phone=None,
                          timezone="UTC", preferences={}, timeline=None, score=10)
    last = app.recorder.max_notification_id()
    # When the trigger follows them, and is run again from its stored position
    h.followers["trigger"].catch_up()
    h.restart()
    h.followers["trigger"].catch_up()
    # Then Ana was started exactly once, and the trigger stands past the last registration
    assert len(executions_of(h.rt.app, ana)) == 1
    assert h.rt.app.recorder.max_tracking_id("trigger") >= last  # type: ignore[attr-defined]


def test_the_catalogue_is_read_once_a_batch_not_once_an_event(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a published workflow and 40 registrations for the trigger to follow
    app = h.rt.app
    three_step_workflow(app)
    for i in range(40):
        app.register_lead(agent_id="agent-1", name=f"Lead {i}", email=None, phone=None,
                          timezone="UTC", preferences={}, timeline=None, score=10)
    reads: list[int] = []
    catalog = app.catalog
    monkeypatch.setattr(app, "catalog", lambda: reads.append(1) or catalog())
    # When the trigger follows them (one batch)
    h.followers["trigger"].run_once()
    # Then it asked the log for the catalogue's news once
    assert len(reads) == 1
