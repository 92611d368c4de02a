"""The engine's rules end to end at the application level, on SQLite and PostgreSQL:
triggers, smart timing, lifecycle and overrides, consent and engagement, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.errors import Invalid
from application.workflow_views import PublishResult
from domain.execution import WorkflowExecution
from domain.workflow import Workflow
from tests.integration.helpers import Harness, executions_of


def templates(h: Harness) -> dict[str, str]:
    app = h.rt.app
    return {
        "email": str(app.create_template(name="e", channel="email",
                                         subject="Hi {{ lead.first_name }}",
                                         body="Hello {{ lead.name }}")),
        "sms": str(app.create_template(name="s", channel="sms", body="Hi {{ lead.first_name }}")),
        "in_app": str(app.create_template(name="i", channel="in_app", body="Hi")),
    }


def publish(h: Harness, steps: list[tuple[Any, ...]], *, agent: str = "agent-1",
            backfill: bool = False, **definition: Any) -> UUID:
    """A workflow of (channel, delay minutes[, conditions]) steps, published."""
    ids = templates(h)
    definition.setdefault("trigger", {"score_threshold": 80})
    definition["steps"] = [{"channel": s[0], "template_id": ids[s[0]], "delay_minutes": s[1],
                            "conditions": s[2] if len(s) > 2 else []} for s in steps]
    workflow = h.rt.app.create_workflow(agent_id=agent, name="w", definition=definition)
    h.settle()
    h.rt.app.publish_workflow(workflow, backfill=backfill)
    return workflow


def lead(h: Harness, score: int = 50, **extra: Any) -> UUID:
    fields: dict[str, Any] = {"agent_id": "agent-1", "name": "Ana Lima", "email": "a@example.com",
                              "phone": "+15550001111", "timezone": "Europe/Lisbon",
                              "preferences": {}, "timeline": None, "score": score}
    return h.rt.app.register_lead(**(fields | extra))


def executions(h: Harness, lead_id: UUID) -> list[Any]:
    h.settle()
    return executions_of(h.rt.app, lead_id)


def history(h: Harness, lead_id: UUID) -> list[str]:
    h.settle()
    return [r["summary"] for r in h.rt.history.for_lead(str(lead_id))]


# Triggers --------------------------------------------------------------------


def test_a_delayed_trigger_waits_before_step_one(h: Harness) -> None:
    publish(h, [("email", 5)], trigger={"score_threshold": 80, "trigger_type": "delayed",
                                        "delay_minutes": 30})
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    [x] = executions(h, ana)
    assert x.steps[0].due_at == h.clock.now() + timedelta(minutes=35)


def test_conditions_on_lead_fields_decide_who_enters(h: Harness) -> None:
    publish(h, [("email", 0)], trigger={"score_threshold": 80, "conditions": [
        {"field": "source", "op": "in", "value": ["zillow", "website"]},
        {"field": "preferences.bedrooms", "op": "gte", "value": 2},
        {"field": "move_within_days", "op": "lte", "value": 90}]})
    soon = (h.clock.now() + timedelta(days=30)).date()
    fits = lead(h, source="Zillow", preferences={"bedrooms": 3}, move_by=soon)
    wrong_source = lead(h, source="referral", preferences={"bedrooms": 3}, move_by=soon)
    too_far = lead(h, source="zillow", preferences={"bedrooms": 3},
                   move_by=soon + timedelta(days=200))
    for one in (fits, wrong_source, too_far):
        h.rt.app.change_score(one, 90, "up")
    assert [len(executions(h, x)) for x in (fits, wrong_source, too_far)] == [1, 0, 0]


@pytest.mark.parametrize(("mode", "days", "restarts"), [("never", None, False),
                                                         ("after_end", None, True)])
def test_re_entry_rules(h: Harness, mode: str, days: int | None, restarts: bool) -> None:
    publish(h, [("email", 0)], trigger={"score_threshold": 80,
                                        "reentry": {"mode": mode, "days": days}})
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    assert h.send_due() == ["sent"]  # the one-step workflow completes
    h.rt.app.change_score(ana, 60, "down")
    h.rt.app.change_score(ana, 90, "up again")
    # Every run is listed, the earlier one first
    runs = executions(h, ana)
    assert len(runs) == (2 if restarts else 1) and runs[0].status == "completed"
    assert (runs[-1].status == "active") is restarts


def test_re_entry_after_days(h: Harness) -> None:
    publish(h, [("email", 0)], trigger={"score_threshold": 80,
                                        "reentry": {"mode": "after_days", "days": 7}})
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    h.clock.advance(days=3)
    h.rt.app.change_score(ana, 60, "down")
    h.rt.app.change_score(ana, 90, "up")
    assert executions(h, ana)[0].status == "completed"
    h.clock.advance(days=5)
    h.rt.app.change_score(ana, 60, "down")
    h.rt.app.change_score(ana, 90, "up")
    assert [x.status for x in executions(h, ana)] == ["completed", "active"]


def test_hysteresis_ignores_a_wobble_around_the_threshold(h: Harness) -> None:
    publish(h, [("email", 0)], trigger={"score_threshold": 80, "hysteresis": 5})
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    first = executions(h, ana)[0].id
    for score in (78, 82, 79, 81):  # never below 75
        h.rt.app.change_score(ana, score, "wobble")
    assert executions(h, ana)[0].id == first
    h.rt.app.change_score(ana, 70, "really down")
    h.rt.app.change_score(ana, 85, "up again")
    earlier, latest = executions(h, ana)
    assert earlier.id == first and latest.id != first


def test_priority_and_exclusive_groups_pick_one_workflow(h: Harness) -> None:
    low = publish(h, [("email", 0)], trigger={"score_threshold": 80, "priority": 1,
                                              "exclusive_group": "nurture"})
    high = publish(h, [("sms", 0)], trigger={"score_threshold": 70, "priority": 10,
                                             "exclusive_group": "nurture"})
    other = publish(h, [("in_app", 0)], trigger={"score_threshold": 60})
    ana = lead(h)
    h.rt.app.change_score(ana, 90, "up")
    started = {x.workflow_id for x in executions(h, ana)}
    assert started == {high, other} and low not in started


def test_workflows_apply_to_their_own_agents_leads_only(h: Harness) -> None:
    publish(h, [("email", 0)], agent="someone-else")
    ana = lead(h)
    h.rt.app.change_score(ana, 90, "up")
    assert executions(h, ana) == []


def test_publishing_starts_existing_leads_only_when_asked_and_shows_the_count(
        h: Harness) -> None:
    above = [lead(h, score=s) for s in (85, 95)]
    lead(h, score=40)
    ids = templates(h)
    app = h.rt.app
    definition = {"trigger": {"score_threshold": 80},
                  "steps": [{"channel": "email", "template_id": ids["email"],
                             "delay_minutes": 0}]}
    quiet = app.create_workflow(agent_id="agent-1", name="q", definition=definition)
    loud = app.create_workflow(agent_id="agent-1", name="l", definition=definition)
    h.settle()
    assert app.publish_preview(loud).backfill_candidates == 2
    assert app.publish_workflow(quiet).backfilled == 0
    assert app.publish_workflow(loud, backfill=True).backfilled == 2
    assert [len(executions(h, x)) for x in above] == [1, 1]
    assert app.publish_workflow(loud, backfill=True).backfilled == 0  # never twice


def test_publish_refuses_a_workflow_that_cannot_run(h: Harness) -> None:
    ids = templates(h)
    app = h.rt.app
    empty = app.create_workflow(agent_id="a", name="w",
                                definition={"trigger": {"score_threshold": 50}})
    wrong = app.create_workflow(agent_id="a", name="w", definition={
        "trigger": {"score_threshold": 50},
        "steps": [{"channel": "sms", "template_id": ids["email"], "delay_minutes": 0}]})
    for workflow, field in ((empty, "steps"), (wrong, "steps[0].templateId")):
        problem = app.publish_preview(workflow).problem
        assert problem is not None and problem.field == field
        with pytest.raises(Invalid) as e:
            app.publish_workflow(workflow)
        assert e.value.field == field
    with pytest.raises(Invalid) as e:
        app.create_workflow(agent_id="a", name="w", definition={"trigger": {"score_threshold": 0}})
    assert e.value.field == "trigger.scoreThreshold"


# Smart timing ----------------------------------------------------------------


def test_sms_outside_08_21_local_moves_to_the_next_opening_and_says_why(h: Harness) -> None:
    h.clock.current = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 21:00 in New York
    publish(h, [("email", 0), ("sms", 30)])
    ana = lead(h, timezone="America/New_York")
    h.rt.app.change_score(ana, 85, "up")
    assert h.send_due() == ["sent"]
    [x] = executions(h, ana)
    assert x.steps[1].due_at == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 New York
    assert any("moved to the send window opening Wed 08:00 America/New_York" in s
               for s in history(h, ana))


def test_business_days_only_skips_the_weekend(h: Harness) -> None:
    h.clock.current = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # a Friday
    publish(h, [("email", 0), ("email", 1440)], business_days_only=True,
            send_windows={"email": {"start": "09:00", "end": "17:00"}})
    ana = lead(h, timezone="UTC")
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    [x] = executions(h, ana)
    assert x.steps[1].due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 09:00


# Lifecycle and overrides -------------------------------------------------------


def test_a_paused_workflow_takes_no_new_leads_and_sends_nothing_until_resumed(
        h: Harness) -> None:
    workflow = publish(h, [("email", 0), ("email", 0)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.settle()
    h.rt.app.hold_workflow(workflow, True, "fixing a typo")
    assert h.send_due() == ["held"]
    bo = lead(h)
    h.rt.app.change_score(bo, 85, "up")
    assert executions(h, bo) == []
    h.rt.app.hold_workflow(workflow, False, "done")
    h.clock.advance(minutes=3)  # the index offers it again after the lease
    assert h.send_due() == ["sent"]


def test_resume_shifts_the_schedule_by_the_time_paused(h: Harness) -> None:
    publish(h, [("email", 0), ("email", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    [x] = executions(h, ana)
    due = x.steps[1].due_at
    h.rt.app.pause_execution(x.id, "on holiday")
    h.clock.advance(hours=3)
    assert h.send_due() == []
    h.rt.app.resume_execution(x.id, "shift")
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert x.steps[1].due_at == due + timedelta(hours=3)


def test_resume_can_skip_what_is_overdue(h: Harness) -> None:
    publish(h, [("email", 0), ("email", 60), ("email", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    [x] = executions(h, ana)
    h.rt.app.pause_execution(x.id, "call first")
    h.clock.advance(hours=3)
    h.rt.app.resume_execution(x.id, "skip_overdue")
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert [s.status for s in x.steps] == ["sent", "skipped", "scheduled"]
    assert any("skipped: overdue when resumed" in s for s in history(h, ana))
    assert "Execution resumed (overdue steps skipped)" in history(h, ana)


def test_agent_overrides_skip_send_now_cancel_and_restart(h: Harness) -> None:
    publish(h, [("email", 0), ("sms", 60), ("in_app", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    [x] = executions(h, ana)
    h.rt.app.skip_step(x.id, "already called")
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert x.steps[1].status == "skipped" and x.current_step == 2
    h.rt.app.send_now(x.id)
    assert h.send_due() == ["sent"]
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert x.status == "completed"
    h.rt.app.restart_execution(x.id, "new listing came up")
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert x.status == "active" and x.round == 2
    assert h.send_due() == ["sent"]
    assert [m.channel for m in h.channel.sent] == ["email", "in_app", "email"]
    assert len({m.message_id for m in h.channel.sent}) == 3  # a restart sends new messages
    h.rt.app.cancel_execution(x.id, "agent took over")
    x = h.rt.app.load(WorkflowExecution, x.id)
    assert x.status == "cancelled"
    h.settle()
    assert h.rt.schedule.due_at(str(x.id)) is None


def test_a_reopened_lead_can_resume_its_executions(h: Harness) -> None:
    publish(h, [("email", 0), ("email", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    [x] = executions(h, ana)
    h.rt.app.change_status(ana, "lost", "went quiet")
    with pytest.raises(Invalid) as e:
        h.rt.app.resume_execution(x.id, "shift")
    assert e.value.field == "status"
    reopened = h.rt.app.change_status(ana, "nurturing", "called back")
    assert reopened.resumable_executions == [x.id]
    assert h.rt.app.resume_execution(x.id, "shift").status == "active"


# Consent and engagement ------------------------------------------------------------


def test_an_opted_out_channel_is_skipped_and_the_log_says_so(h: Harness) -> None:
    publish(h, [("email", 0), ("sms", 0), ("in_app", 0)])
    ana = lead(h)
    h.rt.app.set_consent(ana, "sms", False, "replied STOP")
    h.rt.app.change_score(ana, 85, "up")
    assert h.send_due() == ["sent"]
    assert h.send_due() == ["skipped"]
    assert h.send_due() == ["sent"]
    assert [m.channel for m in h.channel.sent] == ["email", "in_app"]
    assert any("skipped: lead opted out of sms" in s for s in history(h, ana))


@pytest.mark.parametrize("opened", [True, False])
def test_an_sms_only_if_the_email_was_not_opened(h: Harness, opened: bool) -> None:
    publish(h, [("email", 0), ("sms", 1440, [{"kind": "previous_email_not_opened"}])])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    if opened:
        h.rt.app.engage(h.channel.sent[0].message_id, "opened")
    h.clock.advance(days=1)
    assert h.send_due() == (["skipped"] if opened else ["sent"])


def test_a_step_only_if_the_score_is_still_high(h: Harness) -> None:
    publish(h, [("email", 0), ("email", 60, [{"kind": "score_at_least", "value": 80}])])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    h.rt.app.change_score(ana, 60, "cooled")
    h.clock.advance(hours=1)
    assert h.send_due() == ["skipped"]
    assert any("score 60 is below 80" in s for s in history(h, ana))


# Versions -------------------------------------------------------------------------


def test_running_executions_keep_their_version_or_move_at_their_next_step(h: Harness) -> None:
    workflow = publish(h, [("email", 0), ("email", 60), ("email", 60)])
    app = h.rt.app
    kept, moved = lead(h), lead(h)
    for one in (kept, moved):
        app.change_score(one, 85, "up")
    h.send_due()
    draft = app.load(Workflow, workflow).draft
    draft["steps"][1]["channel"] = "sms"
    draft["steps"][1]["template_id"] = templates(h)["sms"]
    app.edit_workflow(workflow, name="w2", definition=draft)
    h.settle()
    assert app.publish_preview(workflow).running_executions == {"1": 2}
    app.publish_workflow(workflow)  # keep: both stay on version 1
    assert {x.workflow_version for one in (kept, moved) for x in executions(h, one)} == {1}
    draft["steps"][2]["delay_minutes"] = 5
    app.edit_workflow(workflow, name="w3", definition=draft)
    result = app.publish_workflow(workflow, migrate="move")
    assert result == PublishResult(workflow_id=workflow, version=3, backfilled=0, migrated=2,
                                   not_moved=[])
    [x] = executions(h, moved)
    assert x.workflow_version == 3 and x.steps[2].delay_minutes == 5
    assert x.steps[1].channel == "email"  # the step already scheduled is kept
    rolled = app.rollback_workflow(workflow, 1)
    assert rolled.version == 4
    assert app.load(Workflow, workflow).frozen(4)["restored_from"] == 1
