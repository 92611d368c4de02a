"""A follower fed an event it cannot apply: the part that fails stops right before it and is
reported (health, one log line naming the event); the others carry on; once the cause is gone
it carries on by itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text

from adapters.bootstrap import Runtime
from adapters.settings import Settings
from application import failures
from application.follower import Item
from application.trigger import TriggerPolicy
from domain import ids
from domain.ids import DEFAULT_BROKERAGE_ID
from projections.base import positions
from projections.directory import DirectoryProjection, leads
from tests.conftest import FakeClock, api_client
from tests.integration.helpers import Harness, executions_of, register_ana, three_step_workflow


def notification_of(h: Harness | Runtime, originator: UUID, topic: str) -> int:
    """The notification id of ``originator``'s first event of ``topic``."""
    rt = h.rt if isinstance(h, Harness) else h
    found = rt.app.recorder.select_notifications(start=1, limit=10_000)
    return next(n.id for n in found if n.originator_id == originator and n.topic == topic)


def stored(h: Harness) -> dict[str, int]:
    with h.rt.engine.connect() as conn:
        return {r.name: r.position for r in conn.execute(select(positions))}


def directory_leads(h: Harness) -> set[str]:
    with h.rt.engine.connect() as conn:
        return {r.lead_id for r in conn.execute(select(leads.c.lead_id))}


def running(h: Harness, name: str) -> dict[str, Any]:
    [found] = [s for s in h.rt.health()["followers"]["running"] if s["name"] == name]
    return found


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[UUID]]:
    """Leads whose events the directory cannot apply (a handler's bug) while they are listed."""
    bad: set[UUID] = set()
    handle = DirectoryProjection.handle_batch

    def refusing(self: DirectoryProjection, conn: Any, items: list[Item]) -> None:
        if any(i.event.originator_id in bad for i in items):
            raise ValueError("cannot apply this lead")
        handle(self, conn, items)

    monkeypatch.setattr(DirectoryProjection, "handle_batch", refusing)
    yield bad


def register(h: Harness, name: str, agent: str = "agent-1", score: int = 50) -> UUID:
    return h.rt.app.register_lead(agent_id=agent, name=name, email=None, phone=None,
                                  timezone="UTC", preferences={}, timeline=None, score=score)


def test_a_read_model_that_cannot_apply_an_event_holds_there_and_the_others_go_on(
        h: Harness, poison: set[UUID], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="application.follower")
    # Given three leads registered one after the other, the directory unable to apply the second
    client = api_client(h.rt)  # its token's brokerage is an event of the log too
    first, second = register(h, "Ana Lima"), register(h, "Bea Reis")
    poison.add(second)
    third = register(h, "Caio Melo")
    h.rt.app.change_score(third, 60, "viewed a listing")
    # When the read models follow the log
    h.settle()
    # Then the other read models went past it, and the directory stopped right before it
    head = h.rt.app.recorder.max_notification_id()
    bad = notification_of(h, second, "followup.lead.registered")
    positions_now = stored(h)
    assert positions_now["lead_history"] == positions_now["messages"] == head
    assert positions_now["directory"] == bad - 1
    assert len(h.rt.history.for_lead(str(third))) == 2
    assert directory_leads(h) == {str(first)}
    # And health names the event it stopped at, with its lag, and answers 503
    failing = running(h, "directory")["failing"]
    assert failing["eventId"] == bad and failing["originatorId"] == str(second)
    assert failing["topic"] == "followup.lead.registered" and failing["error"] == "ValueError"
    assert running(h, "directory")["lag"] == head - bad + 1
    assert running(h, "lead_history")["failing"] is None
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["checks"]["followers"]["ok"] is False
    # And one log line at ERROR names the follower, the event and its lead, and no name
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "directory stopped at event" in line and f"event {bad} " in line
    assert str(second) in line and "Bea" not in line
    # When the cause is gone (a fix deployed), it carries on by itself and reports well
    poison.clear()
    h.settle()
    assert directory_leads(h) == {str(first), str(second), str(third)}
    assert set(stored(h).values()) == {head}
    assert running(h, "directory")["failing"] is None and running(h, "directory")["lag"] == 0
    assert client.get("/health").status_code == 200
    assert any("directory recovered" in r.getMessage() for r in caplog.records)


def test_a_process_running_no_followers_reports_their_stored_positions(
        h: Harness, poison: set[UUID]) -> None:
    # Given the directory held before a lead's registration by the projector of another process
    register(h, "Ana Lima")
    poison.add(register(h, "Bea Reis"))
    register(h, "Caio Melo")
    h.settle()
    head = h.rt.app.recorder.max_notification_id()
    # When an API process, which runs no follower, is asked
    api = Runtime(h.settings, clock=h.clock)
    try:
        report = api.health()["followers"]
    finally:
        api.stop()
    # Then it reports every consumer's stored position and lag, and nothing running here
    found = {s["name"]: (s["position"], s["lag"]) for s in report["stored"]}
    assert report["running"] == [] and report["head"] == head
    assert found["directory"] == (head - 2, 2) and found["lead_history"] == (head, 0)
    assert {"trigger", "due_feeder", "messages", "due_steps"} <= set(found)


def test_a_trigger_that_cannot_apply_a_crossing_holds_there_and_skips_none(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a live workflow, and a trigger unable to decide on one lead's crossing for now
    three_step_workflow(h.rt.app)
    first, second = register_ana(h.rt.app), register(h, "Bea Reis")
    decide = TriggerPolicy._decide
    bad: set[UUID] = {first}

    def refusing(self: TriggerPolicy, event: Any, catalog: Any) -> list[object]:
        if event.originator_id in bad:
            raise KeyError("a lead it cannot read")
        return decide(self, event, catalog)

    monkeypatch.setattr(TriggerPolicy, "_decide", refusing)
    # When both leads cross the threshold, the first one first
    h.rt.app.change_score(first, 85, "viewed a listing")
    h.rt.app.change_score(second, 90, "asked for a visit")
    h.settle()
    # Then the trigger stopped right before the first crossing and applied nothing after it
    crossing = notification_of(h, first, "followup.lead.score_changed")
    assert executions_of(h.rt.app, first) == [] and executions_of(h.rt.app, second) == []
    failing = running(h, "trigger")["failing"]
    assert failing["eventId"] == crossing and failing["error"] == "KeyError"
    assert failing["originatorId"] == str(first)
    assert h.rt.health()["followers"]["ok"] is False
    # When the cause is gone, both crossings start their executions, in order
    bad.clear()
    h.settle()
    assert len(executions_of(h.rt.app, first)) == len(executions_of(h.rt.app, second)) == 1
    assert running(h, "trigger")["failing"] is None and h.rt.health()["followers"]["ok"]


@pytest.mark.postgres
def test_a_value_the_database_refuses_holds_the_read_model_until_the_schema_takes_it(
        pg_url: str, tmp_path: Path, clock: FakeClock) -> None:
    h = Harness(Settings(data_dir=tmp_path, database_url=pg_url), clock)
    try:
        # Given a lead stored with an agent id longer than the directory's column (as one
        # written before the API bounded it)
        register(h, "Ana Lima")
        long = register(h, "Bea Reis", agent="a" * 101)
        register(h, "Caio Melo")
        h.settle()
        # Then the directory holds right before it, reporting the database's refusal by its code
        failing = running(h, "directory")["failing"]
        assert failing["eventId"] == notification_of(h, long, "followup.lead.registered")
        assert "StringDataRightTruncation" in failing["error"] and "22001" in failing["error"]
        assert len(directory_leads(h)) == 1 and running(h, "lead_history")["lag"] == 0
        # When the column is widened (a migration deployed), it carries on by itself
        with h.rt.engine.begin() as conn:
            conn.execute(text("ALTER TABLE directory_leads ALTER COLUMN agent_id "
                              "TYPE varchar(200)"))
        h.settle()
        assert len(directory_leads(h)) == 3 and running(h, "directory")["failing"] is None
    finally:
        h.rt.stop()



def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    """Poll until ``condition()`` holds (the followers run in threads of their own)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never came: {what}"
        time.sleep(0.05)


def test_the_running_projector_holds_a_failing_read_model_and_recovers_by_itself(
        h: Harness, poison: set[UUID], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "RETRY_FIRST", 0.05)
    monkeypatch.setattr(failures, "RETRY_MAX", 0.2)
    # Given the projector running in its own threads, as `followup projector` runs it
    rt = Runtime(h.settings, clock=h.clock)
    rt.start_projector()
    client = api_client(rt)

    def status(name: str) -> dict[str, Any]:
        [found] = [s for s in rt.health()["followers"]["running"] if s["name"] == name]
        return found

    try:
        # When a lead the directory cannot apply is registered, and another after it
        poison.add(ids.lead_id("agent-1", "bea"))  # the id its external reference gives it
        rt.app.register_lead(agent_id="agent-1", name="Bea Reis", email=None, phone=None,
                             timezone="UTC", preferences={}, timeline=None, external_ref="bea")
        rt.app.register_lead(agent_id="agent-1", name="Caio Melo", email=None, phone=None,
                             timezone="UTC", preferences={}, timeline=None)
        # Then the loop holds the directory at the first and the history goes past both
        wait_for(lambda: status("directory")["failing"] is not None, "the directory's failure")
        wait_for(lambda: status("lead_history")["lag"] == 0, "the history past both")
        bea = ids.lead_id("agent-1", "bea")
        assert status("directory")["failing"]["eventId"] == notification_of(
            rt, bea, "followup.lead.registered")
        assert client.get("/health").status_code == 503
        # When the cause goes away, the loop's own retry brings it back, without a restart
        poison.clear()
        wait_for(lambda: status("directory")["failing"] is None
                 and status("directory")["lag"] == 0, "the directory's recovery")
        assert client.get("/health").status_code == 200
        assert len(rt.directory.leads_at_or_above(DEFAULT_BROKERAGE_ID, "agent-1", 0)) == 2
    finally:
        rt.stop()
