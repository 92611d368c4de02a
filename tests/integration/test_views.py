"""What users and clients see: step numbers, the list of executions, refusals and holds in the
history, and the history's wording."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from domain.lead import Lead
from domain.workflow import Workflow
from tests.conftest import FakeClock, api_client
from tests.integration.helpers import Harness, executions_of, register_ana


@pytest.fixture
def hc(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Harness, TestClient]]:
    """A harness on the embedded store, and an HTTP client of its API."""
    harness = Harness(Settings(data_dir=tmp_path), clock)
    yield harness, api_client(harness.rt)
    harness.rt.stop()


def one_step_workflow(h: Harness, **trigger: Any) -> UUID:
    app = h.rt.app
    email = app.create_template(name="e", channel="email", subject="Hi", body="Hello")
    workflow = app.create_workflow(agent_id="agent-1", name="Hot lead", definition={
        "trigger": {"score_threshold": 80, **trigger},
        "steps": [{"channel": "email", "template_id": str(email), "delay_minutes": 0}]})
    app.publish_workflow(workflow)
    return workflow


def test_step_numbers_count_from_one_in_every_response(hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given Ana crossed the threshold of a three-step workflow and got her email (step 1)
    lead = h.crossing()
    assert h.send_due() == ["sent"]
    # When a client reads her executions and the workflow
    [execution] = client.get(f"/api/leads/{lead}/executions").json()
    workflow = client.get(f"/api/workflows/{execution['workflowId']}").json()
    # Then every step number counts from 1: she is at step 2, the SMS
    assert [s["sequence"] for s in execution["steps"]] == [1, 2, 3]
    assert execution["currentStep"] == 2 and execution["steps"][1]["channel"] == "sms"
    assert [s["sequence"] for s in workflow["steps"]] == [1, 2, 3]


def test_skipping_a_step_of_a_cancelled_execution_gives_the_true_reason(
        hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given Ana's execution, cancelled by the agent
    lead = h.crossing()
    h.settle()
    [execution] = client.get(f"/api/leads/{lead}/executions").json()
    client.post(f"/api/executions/{execution['id']}/cancel", json={"reason": "called her"})
    before = h.rt.app.recorder.max_notification_id()
    # When the agent asks to skip its next step
    response = client.post(f"/api/executions/{execution['id']}/skip")
    # Then it is refused (the state does not allow it) because the execution is cancelled,
    # not for a step number, and nothing is recorded
    assert 400 <= response.status_code < 500
    assert "the execution is cancelled" in response.text and "next step" not in response.text
    assert h.rt.app.recorder.max_notification_id() == before


def test_every_execution_of_a_lead_is_listed_after_a_re_entry(
        hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given a one-step workflow that may be entered again once a run has ended
    one_step_workflow(h)
    lead = register_ana(h.rt.app)
    h.rt.app.change_score(lead, 85, "up")
    assert h.send_due() == ["sent"]  # the first run completes
    # When her score falls and crosses the threshold again
    h.rt.app.change_score(lead, 60, "down")
    h.clock.advance(minutes=5)
    h.rt.app.change_score(lead, 90, "up again")
    h.settle()
    # Then both runs are listed, in the order they started
    runs = client.get(f"/api/leads/{lead}/executions").json()
    assert [r["status"] for r in runs] == ["completed", "active"]
    assert runs[0]["startedAt"] < runs[1]["startedAt"] and runs[0]["id"] != runs[1]["id"]


def history(h: Harness, lead: UUID) -> list[str]:
    h.settle()
    return [r["summary"] for r in h.rt.history.for_lead(str(lead))]




def workflow(h: Harness, name: str = "Hot lead", steps: tuple[tuple[str, int], ...] = (
        ("email", 0),), agent: str = "agent-1", **trigger: Any) -> UUID:
    """A workflow of (channel, delay minutes) steps, threshold 80 unless ``trigger`` says."""
    app = h.rt.app
    ids = {"email": app.create_template(name="e", channel="email", subject="Hi", body="Hello"),
           "sms": app.create_template(name="s", channel="sms", body="Hi")}
    found = app.create_workflow(agent_id=agent, name=name, definition={
        "trigger": {"score_threshold": 80, **trigger},
        "steps": [{"channel": c, "template_id": str(ids[c]), "delay_minutes": d}
                  for c, d in steps]})
    app.publish_workflow(found)
    return found


def refusals(h: Harness, lead: UUID) -> list[Any]:
    return [e for e in h.rt.app.events.get(lead) if type(e).__name__ == "EntryRefused"]


def up_down_up(h: Harness, lead: UUID, *scores: int) -> None:
    for score in scores:
        h.rt.app.change_score(lead, score, "scoring")
        h.settle()


# Entry refusals ------------------------------------------------------------------------


def _condition(h: Harness) -> UUID:
    workflow(h, conditions=[{"field": "source", "op": "in", "value": ["zillow"]}])
    lead = h.rt.app.register_lead(agent_id="agent-1", name="Ana Lima", email="a@example.com",
                                  phone=None, timezone="UTC", preferences={}, timeline=None,
                                  score=50, source="referral")
    up_down_up(h, lead, 85)
    return lead


def _reentry_never(h: Harness) -> UUID:
    workflow(h, reentry={"mode": "never"})
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    assert h.send_due() == ["sent"]
    up_down_up(h, lead, 60, 90)
    return lead


def _hysteresis(h: Harness) -> UUID:
    workflow(h, hysteresis=5)
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    assert h.send_due() == ["sent"]
    up_down_up(h, lead, 78, 82)
    return lead


def _exclusive(h: Harness) -> UUID:
    workflow(h, "Nurture", priority=10, exclusive_group="nurture")
    workflow(h, exclusive_group="nurture")
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    return lead


def _closed(h: Harness) -> UUID:
    workflow(h)
    lead = register_ana(h.rt.app)
    h.rt.app.change_status(lead, "closed", "bought")
    up_down_up(h, lead, 85)
    return lead


def _paused(h: Harness) -> UUID:
    found = workflow(h)
    h.rt.app.hold_workflow(found, True, "agent on holiday")
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    return lead


@pytest.mark.parametrize(("scenario", "summary"), [
    (_condition, "Did not start “Hot lead” v1: condition not met: source in ['zillow']"),
    (_reentry_never, "Did not start “Hot lead” v1: this workflow does not allow re-entry"),
    (_hysteresis, "Did not start “Hot lead” v1: the score has not fallen below 80 - 5 since "
                  "the last entry"),
    (_exclusive, "Did not start “Hot lead” v1: the lead is already in a workflow of the "
                 "exclusive group “nurture”"),
    (_closed, "Did not start “Hot lead” v1: the lead is closed"),
    (_paused, "Did not start “Hot lead” v1: the workflow is paused"),
], ids=["condition", "re-entry", "hysteresis", "exclusive-group", "closed-lead",
        "paused-workflow"])
def test_a_refused_crossing_is_recorded_once_with_its_reason(
        h: Harness, scenario: Any, summary: str) -> None:
    # Given a lead whose upward crossing the workflow's rules refuse
    lead = scenario(h)
    # Then the lead's history says which workflow did not start, and why
    assert summary in history(h, lead)
    [refused] = refusals(h, lead)
    crossing = [e for e in h.rt.app.events.get(lead) if type(e).__name__ == "ScoreChanged"][-1]
    assert refused.score_version == crossing.originator_version
    # And exactly once: the trigger started again from its stored position records no more
    h.restart()
    h.settle()
    assert len(refusals(h, lead)) == 1


def test_a_workflow_of_another_agent_is_no_refusal(h: Harness) -> None:
    # Given a workflow of another agent, and Ana's crossing of its threshold
    workflow(h, agent="agent-2")
    lead = register_ana(h.rt.app)
    before = h.rt.app.load(Lead, lead).version
    up_down_up(h, lead, 85)
    # Then nothing is recorded on the lead beyond the score change
    assert refusals(h, lead) == [] and h.rt.app.load(Lead, lead).version == before + 1


def test_a_backfill_at_publish_records_whom_it_did_not_start(h: Harness) -> None:
    # Given Ana in version 1 of a workflow
    found = workflow(h)
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    # When version 2 is published with a backfill of the leads above the threshold
    h.rt.app.edit_workflow(found, name="Hot lead", definition={
        **h.rt.app.load(Workflow, found).draft, "trigger": {
            **h.rt.app.load(Workflow, found).draft["trigger"], "score_threshold": 70}})
    report = h.rt.app.publish_workflow(found, backfill=True)
    # Then she is not started again, and her history says why
    assert report.backfilled == 0
    assert ("Did not start “Hot lead” v2 at publish (backfill): the lead is already in this "
            "workflow") in history(h, lead)
    [refused] = refusals(h, lead)
    assert refused.score_version is None


# A paused workflow's due steps ---------------------------------------------------------


def due_now(h: Harness, execution_id: UUID) -> bool:
    h.settle()
    due = h.rt.schedule.due_at(str(execution_id))
    return due is not None and due <= int(h.clock.now().timestamp() * 1000)


def test_a_step_due_while_its_workflow_is_paused_is_held_once_and_released_at_resume(
        h: Harness) -> None:
    # Given Ana's email sent, then her workflow paused before her SMS falls due
    found = workflow(h, steps=(("email", 0), ("sms", 60)))
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    assert h.send_due() == ["sent"]
    h.rt.app.hold_workflow(found, True, "agent on holiday")
    # When the SMS falls due, and the index offers it again after its lease
    h.clock.advance(minutes=61)
    assert h.send_due() == ["held"]
    h.clock.advance(minutes=2)
    assert h.send_due() == ["held"]
    # Then the history says once that it is held
    summaries = history(h, lead)
    assert summaries.count("step 2 (SMS) held: “Hot lead” v1 is paused") == 1
    [execution] = executions_of(h.rt.app, lead)
    assert not due_now(h, execution.id)  # leased: it would wait for the lease to end
    # When the workflow resumes
    h.rt.app.hold_workflow(found, False, "resumed")
    # Then the step is due at once, sent without waiting for its lease, and the history says so
    assert due_now(h, execution.id)
    assert h.send_due() == ["sent"]
    released = [s for s in history(h, lead) if "released" in s]
    assert released == ["step 2 (SMS) released, due Wed 2026-11-25 10:03 Europe/Lisbon "
                        "(10:03 UTC): the workflow resumed"]


def test_a_send_now_during_the_pause_is_held_and_goes_at_the_resume(h: Harness) -> None:
    # Given Ana's SMS due in an hour, her workflow paused
    found = workflow(h, steps=(("email", 0), ("sms", 60)))
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    assert h.send_due() == ["sent"]
    h.rt.app.hold_workflow(found, True, "agent on holiday")
    [execution] = executions_of(h.rt.app, lead)
    # When the agent asks to send it now
    h.rt.app.send_now(execution.id)
    # Then it is held, and says so
    assert h.send_due() == ["held"]
    assert "step 2 (SMS) held: “Hot lead” v1 is paused" in history(h, lead)
    # And it goes as soon as the workflow resumes
    h.rt.app.hold_workflow(found, False, "resumed")
    assert h.send_due() == ["sent"]


# History wording -------------------------------------------------------------------------


UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_the_history_names_workflows_and_reads_as_the_agent_would_say_it(h: Harness) -> None:
    # Given Ana in New York, in a workflow whose second step waits 2 days 30 min
    found = workflow(h, steps=(("email", 0), ("email", 2910), ("email", 60)))
    lead = h.rt.app.register_lead(agent_id="agent-1", name="Ana Lima", email="a@example.com",
                                  phone=None, timezone="America/New_York", preferences={},
                                  timeline=None, score=50)
    up_down_up(h, lead, 85)
    # When her first email goes, the agent pauses and resumes her run, and she buys a home
    assert h.send_due() == ["sent"]
    [execution] = executions_of(h.rt.app, lead)
    h.rt.app.pause_execution(execution.id, "call first")
    h.rt.app.resume_execution(execution.id, "shift")
    h.rt.app.pause_execution(execution.id, "agent")
    h.rt.app.resume_execution(execution.id, "skip_overdue")
    h.rt.app.change_status(lead, "closed", "bought")
    h.settle()
    rows = h.rt.history.for_lead(str(lead))
    summaries = [r["summary"] for r in rows]
    # Then one entry says the run started, by the workflow's name and version
    assert [r["kind"] for r in rows].count("Lead.Enrolled") == 0
    assert [s for s in summaries if "started" in s] == [
        "“Hot lead” v1 started: score 50 → 85 crossed 80"]
    # And times read in her time zone beside UTC; step one is "right after the start"
    assert ("step 1 (email) due Wed 2026-11-25 04:00 America/New_York (09:00 UTC): right "
            "after the start") in summaries
    assert ("step 1 (email) sent; step 2 (email) due Fri 2026-11-27 04:30 America/New_York "
            "(09:30 UTC): 2 days 30 min after the previous step") in summaries
    # And the pauses say who paused, and the resumes what became of overdue steps
    assert "Execution paused by the agent: call first" in summaries
    assert "Execution paused by the agent" in summaries
    assert "Execution resumed (overdue steps shifted by the time paused)" in summaries
    assert "Execution resumed (overdue steps skipped)" in summaries
    assert "Paused: lead status became closed: bought" in summaries
    # And no entry shows an id
    assert [s for s in summaries if UUID_TEXT.search(s)] == []
    assert h.rt.app.load(Workflow, found).name == "Hot lead"


def test_a_renamed_workflow_keeps_the_name_each_version_was_published_under(
        h: Harness) -> None:
    # Given Ana in version 1 of "Hot lead"
    found = workflow(h)
    lead = register_ana(h.rt.app)
    up_down_up(h, lead, 85)
    # When the workflow is renamed and published again, and she re-enters on version 2
    draft = h.rt.app.load(Workflow, found).draft
    h.rt.app.edit_workflow(found, name="Very hot lead", definition=draft)
    h.rt.app.publish_workflow(found)
    assert h.send_due() == ["sent"]  # version 1's one step: that run completes
    h.clock.advance(minutes=5)
    up_down_up(h, lead, 60, 90)
    # Then each run is named as its version was published
    started = [s for s in history(h, lead) if "started" in s]
    assert started == ["“Hot lead” v1 started: score 50 → 85 crossed 80",
                       "“Very hot lead” v2 started: score 60 → 90 crossed 80"]


def test_a_batch_of_sends_records_each_hold_once(h: Harness) -> None:
    # Given two leads' SMS due in a paused workflow
    found = workflow(h, steps=(("email", 0), ("sms", 60)))
    leads = [register_ana(h.rt.app) for _ in range(2)]
    for lead in leads:
        up_down_up(h, lead, 85)
    assert h.send_due() == ["sent", "sent"]
    h.rt.app.hold_workflow(found, True, "agent on holiday")
    h.clock.advance(minutes=61)
    executions = [executions_of(h.rt.app, lead)[0].id for lead in leads]
    # When a worker takes them as one batch, twice (the lease brought them back)
    assert h.rt.sender.send_batch(executions) == ["held", "held"]
    assert h.rt.sender.send_batch(executions) == ["held", "held"]
    # Then each lead's history says once that its step is held
    for lead in leads:
        assert [s for s in history(h, lead) if "held" in s] == [
            "step 2 (SMS) held: “Hot lead” v1 is paused"]


def test_a_backfill_into_a_paused_workflow_starts_nobody_and_says_why(h: Harness) -> None:
    # Given Ana above the threshold of a workflow (one that ignores registrations) paused
    # before its second version
    found = workflow(h, on_registration="ignore")
    lead = register_ana(h.rt.app, score=85)
    h.settle()
    h.rt.app.hold_workflow(found, True, "agent on holiday")
    # When version 2 is published with a backfill
    report = h.rt.app.publish_workflow(found, backfill=True)
    # Then she is not started, and her history says the workflow is paused
    assert report.backfilled == 0 and executions_of(h.rt.app, lead) == []
    assert ("Did not start “Hot lead” v2 at publish (backfill): the workflow is paused"
            in history(h, lead))
