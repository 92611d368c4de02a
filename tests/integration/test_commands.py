"""Commands tried as their callers use them, on SQLite and PostgreSQL: a refused command changes
nothing, a repeated one says what happened, and every answer tells what was done."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from application.errors import Refused
from application.workflow_views import MoveBlocker
from domain.lead import Lead
from domain.message import Message
from domain.workflow import Workflow
from tests.conftest import FakeClock, api_client
from tests.integration.helpers import Harness
from tests.integration.test_engine_rules import executions, lead, publish, templates


def three_emails(h: Harness) -> UUID:
    return publish(h, [("email", 0), ("email", 0), ("email", 0)])


def shorten(h: Harness, workflow: UUID, keep: int) -> None:
    draft = h.rt.app.load(Workflow, workflow).draft
    draft["steps"] = draft["steps"][:keep]
    h.rt.app.edit_workflow(workflow, name="shorter", definition=draft)


def at_third_step(h: Harness) -> tuple[UUID, UUID]:
    """Given a three-step workflow, Ana at its third step and Bea at its first."""
    workflow = three_emails(h)
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    h.send_due()
    bea = lead(h)
    h.rt.app.change_score(bea, 85, "up")
    h.settle()
    [x] = executions(h, ana)
    assert x.current_step == 2
    return workflow, ana


# Publishing with migrate: move ----------------------------------------------------------------


def test_a_move_that_one_execution_blocks_is_refused_and_changes_nothing(h: Harness) -> None:
    # Given Ana at step 3, Bea at step 1, a lead above the threshold for a backfill,
    # and a draft of two steps
    workflow, ana = at_third_step(h)
    lead(h, score=90)
    shorten(h, workflow, 2)
    h.settle()
    before = h.rt.app.recorder.max_notification_id()
    # When it is published with backfill and migrate: move
    with pytest.raises(Refused) as refused:
        h.rt.app.publish_workflow(workflow, backfill=True, migrate="move")
    # Then nothing at all is recorded (no version, no move, no backfill), and Ana is named
    assert h.rt.app.recorder.max_notification_id() == before
    assert h.rt.app.load(Workflow, workflow).versions[-1]["number"] == 1
    [blocking] = refused.value.details["moveBlockedBy"]
    assert (blocking["leadId"], blocking["currentStep"]) == (str(ana), 3)


def test_the_preview_names_the_executions_that_would_block_a_move(h: Harness) -> None:
    workflow, ana = at_third_step(h)
    shorten(h, workflow, 2)
    h.settle()
    [x] = executions(h, ana)
    [blocking] = h.rt.app.publish_preview(workflow).move_blocked_by
    assert blocking == MoveBlocker(execution_id=x.id, lead_id=ana, current_step=3,
                                   reason="it has reached step 3 and the new version has 2 steps")


def test_an_execution_that_moves_on_after_the_check_stays_and_is_listed(h: Harness) -> None:
    # Given the two-step version published (keeping executions), as if Ana reached step 3
    # between the check and her own move
    workflow, ana = at_third_step(h)
    shorten(h, workflow, 2)
    h.rt.app.publish_workflow(workflow)
    app = h.rt.app
    # When the move runs
    moved, not_moved = app._migrate(app.load(Workflow, workflow), 2)
    # Then Bea moves, and Ana stays on version 1, listed with the reason
    [x] = executions(h, ana)
    assert moved == 1 and x.workflow_version == 1
    assert [n.execution_id for n in not_moved] == [x.id]
    assert "reached step 3" in not_moved[0].reason


def test_a_move_nothing_blocks_reports_no_one_left_behind(h: Harness) -> None:
    workflow = three_emails(h)
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.settle()
    shorten(h, workflow, 2)
    h.settle()
    assert h.rt.app.publish_preview(workflow).move_blocked_by == []
    result = h.rt.app.publish_workflow(workflow, migrate="move")
    assert (result.migrated, result.not_moved) == (1, [])


def test_a_refused_move_answers_409_naming_the_executions(tmp_path: Path) -> None:
    h = Harness(Settings(data_dir=tmp_path), FakeClock())
    try:
        workflow, ana = at_third_step(h)
        shorten(h, workflow, 2)
        h.settle()
        client = api_client(h.rt)
        response = client.post(f"/api/workflows/{workflow}/publish", json={"migrate": "move"})
        assert response.status_code == 409
        [blocking] = response.json()["error"]["details"]["moveBlockedBy"]
        assert blocking["leadId"] == str(ana) and "nothing was published" in response.text
        assert client.get(f"/api/workflows/{workflow}").json()["versions"][-1]["number"] == 1
    finally:
        h.rt.stop()


# Registering a CRM id again -------------------------------------------------------------------

ANA = {"agentId": "a1", "name": "Ana Lima", "email": "ana@example.com", "timezone": "UTC",
       "score": 40, "externalId": "crm-1", "source": "Zillow"}


def test_a_crm_id_registered_again_with_other_data_is_refused_naming_the_fields(
        tmp_path: Path) -> None:
    h = Harness(Settings(data_dir=tmp_path), FakeClock())
    try:
        client = api_client(h.rt)
        # Given Ana registered under CRM id crm-1
        first = client.post("/api/leads", json=ANA)
        assert first.status_code == 201
        before = h.rt.app.recorder.max_notification_id()
        # When the same id comes again with the same data, written differently
        retry = client.post("/api/leads", json=ANA | {"name": " Ana Lima ", "source": "zillow"})
        # Then it is a retry: 200 and the lead as it is
        assert retry.status_code == 200 and retry.json() == first.json()
        # When it comes with another email and score
        other = client.post("/api/leads", json=ANA | {"email": "ana@work.example", "score": 70})
        # Then 409 names the fields, and nothing is stored
        assert other.status_code == 409
        error = other.json()["error"]
        assert error["code"] == "refused" and error["details"]["differingFields"] == ["email",
                                                                                       "score"]
        assert error["details"]["leadId"] == first.json()["id"] and "profile" in error["message"]
        assert h.rt.app.recorder.max_notification_id() == before
        assert client.get(f"/api/leads/{first.json()['id']}").json() == first.json()
    finally:
        h.rt.stop()


# Scoring updates: repeats and reorders --------------------------------------------------------


def test_a_repeated_or_late_score_update_neither_moves_the_score_back_nor_fires_again(
        h: Harness) -> None:
    client = api_client(h.rt)
    publish(h, [("email", 0)], trigger={"score_threshold": 80,
                                        "reentry": {"mode": "after_days", "days": 1}})
    ana = lead(h)
    now = h.clock.now()
    update = {"score": 85, "eventId": "s-2", "occurredAt": now.isoformat()}
    # Given update s-2 applied: Ana crosses 80
    first = client.post(f"/api/leads/{ana}/score", json=update)
    assert first.json() | {"reason": None} == {"leadId": str(ana), "old": 50, "new": 85,
                                               "applied": True, "reason": None}
    h.settle()
    # When s-1, computed a minute earlier, arrives late, and s-2 is retried
    before = h.rt.app.recorder.max_notification_id()
    late = client.post(f"/api/leads/{ana}/score", json={
        "score": 40, "eventId": "s-1", "occurredAt": (now - timedelta(minutes=1)).isoformat()})
    after_late = h.rt.app.recorder.max_notification_id()
    h.clock.advance(days=2)
    retry = client.post(f"/api/leads/{ana}/score", json=update)
    # Then the late one is recorded and ignored, the retry writes nothing, nothing re-fires
    assert late.status_code == 200 and late.json()["applied"] is False
    assert late.json()["new"] == 85 and "older than" in late.json()["reason"]
    assert after_late == before + 1
    assert retry.json() == {"leadId": str(ana), "old": 85, "new": 85, "applied": False,
                            "reason": "duplicate eventId"}
    assert h.rt.app.recorder.max_notification_id() == after_late
    assert len({x.id for x in executions(h, ana)}) == 1
    assert h.rt.app.load(Lead, ana).score == 85


def test_a_naive_occurred_at_is_refused_naming_the_field(h: Harness) -> None:
    client = api_client(h.rt)
    ana = lead(h)
    response = client.post(f"/api/leads/{ana}/score",
                           json={"score": 60, "occurredAt": "2026-11-25T09:00:00"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body.occurredAt"
    assert h.rt.app.load(Lead, ana).score == 50


# Engagement by channel, and the inbox's read state --------------------------------------------


def test_reads_are_in_app_only_opens_email_only_and_the_inbox_counts_unread(h: Harness) -> None:
    client = api_client(h.rt)
    # Given Ana sent an email and an in-app message
    publish(h, [("email", 0), ("in_app", 0)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    assert h.send_due() + h.send_due() == ["sent", "sent"]
    email, in_app = (m.message_id for m in h.channel.sent)
    before = h.rt.app.recorder.max_notification_id()
    # When the email is "read" through her inbox, and the in-app message "opened" by a pixel
    read_email = client.post(f"/api/leads/{ana}/inbox/{email}/read")
    pixel = client.get(f"/t/o/{in_app}.gif")
    # Then neither is recorded: the email is not in her inbox, the pixel answers as ever
    assert read_email.status_code == 404 and "Inbox message" in read_email.text
    assert pixel.status_code == 200 and pixel.headers["content-type"] == "image/gif"
    assert h.rt.app.recorder.max_notification_id() == before
    # And her inbox holds the in-app message, unread
    h.settle()
    inbox = client.get(f"/api/leads/{ana}/inbox").json()
    assert inbox["unread"] == 1 and [i["messageId"] for i in inbox["items"]] == [str(in_app)]
    assert inbox["items"][0]["readAt"] is None
    # When she reads it
    assert client.post(f"/api/leads/{ana}/inbox/{in_app}/read").status_code == 204
    h.settle()
    # Then it is read, and nothing is unread
    inbox = client.get(f"/api/leads/{ana}/inbox").json()
    read_at = datetime.fromisoformat(inbox["items"][0]["readAt"])
    assert inbox["unread"] == 0 and read_at == h.clock.now()
    client.get(f"/t/o/{email}.gif")
    assert h.rt.app.load(Message, email).opened


# Reopening a lead, and leads registered above a threshold -------------------------------------


def test_reopening_with_resume_resumes_what_the_status_paused_in_the_same_command(
        h: Harness) -> None:
    # Given Ana in two workflows; the agent paused one by hand; then she was lost
    by_status = publish(h, [("email", 0), ("email", 60), ("email", 600)])
    publish(h, [("sms", 0), ("sms", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.send_due()
    paused = {x.workflow_id: x for x in executions(h, ana)}
    by_hand = next(x for w, x in paused.items() if w != by_status)
    h.rt.app.pause_execution(by_hand.id, "agent is calling her")
    lost = h.rt.app.change_status(ana, "lost", "went quiet")
    assert lost.paused_executions == [paused[by_status].id]
    h.clock.advance(hours=2)
    # When she is reopened with resume
    reopened = h.rt.app.change_status(ana, "nurturing", "called back", resume=True,
                                      policy="skip_overdue")
    # Then what the status paused is resumed (its overdue step skipped), the other stays
    assert reopened.resumed_executions == [paused[by_status].id]
    assert reopened.resumable_executions == []
    now = {x.workflow_id: x for x in executions(h, ana)}
    assert now[by_status].status == "active" and now[by_hand.workflow_id].status == "paused"
    assert now[by_status].steps[1].status == "skipped"


def test_reopening_without_resume_lists_what_may_be_resumed(h: Harness) -> None:
    publish(h, [("email", 0), ("email", 60)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.settle()
    [x] = executions(h, ana)
    h.rt.app.change_status(ana, "closed", "bought elsewhere")
    reopened = h.rt.app.change_status(ana, "negotiating", "deal fell through")
    assert (reopened.resumable_executions, reopened.resumed_executions) == ([x.id], [])
    assert executions(h, ana)[0].status == "paused"


def test_resume_over_http(h: Harness) -> None:
    client = api_client(h.rt)
    publish(h, [("email", 0)])
    ana = lead(h)
    h.rt.app.change_score(ana, 85, "up")
    h.settle()
    client.post(f"/api/leads/{ana}/status", json={"status": "lost"})
    bad = client.post(f"/api/leads/{ana}/status", json={"status": "new", "resume": True,
                                                       "policy": "later"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "body.policy"
    reopened = client.post(f"/api/leads/{ana}/status", json={"status": "new", "resume": True})
    assert reopened.status_code == 200 and len(reopened.json()["resumedExecutions"]) == 1
    assert executions(h, ana)[0].status == "active"


@pytest.mark.parametrize(("choice", "starts"), [(None, True), ("start", True),
                                                 ("ignore", False)])
def test_a_lead_registered_above_the_threshold_starts_as_its_workflow_says(
        h: Harness, choice: str | None, starts: bool) -> None:
    # Given a workflow with threshold 80 and the builder's choice (start by default)
    trigger: dict[str, Any] = {"score_threshold": 80}
    if choice:
        trigger["on_registration"] = choice
    publish(h, [("email", 0)], trigger=trigger)
    # When Ana is registered at 90, and Bo at 70
    ana, bo = lead(h, score=90), lead(h, score=70)
    h.settle()
    # Then only Ana starts (or nobody), as a live crossing: her first step goes first
    assert executions(h, bo) == []
    started = executions(h, ana)
    assert len(started) == int(starts)
    if starts:
        assert started[0].trigger["kind"] == "registration"
        assert any("registered with score 90, at or above 80" in row["summary"]
                   for row in h.rt.history.for_lead(str(ana)))
        assert h.send_due() == ["sent"]


# The seed's interface shapes ------------------------------------------------------------------


def seed_workflow(client: TestClient, steps: list[dict[str, Any]]) -> Any:
    return client.post("/api/workflows", json={
        "agentId": "agent-1", "name": "seed",
        "trigger": {"id": "trg-1", "scoreThreshold": 80, "triggerType": "delayed",
                    "delayMinutes": 5, "conditions": []},
        "steps": steps})


def test_the_seeds_step_and_trigger_shapes_are_accepted_and_answered(h: Harness) -> None:
    client = api_client(h.rt)
    ids = templates(h)
    # When a client sends steps as the seed writes them, out of order
    created = seed_workflow(client, [
        {"id": "s-sms", "sequence": 20, "channel": "sms", "templateId": ids["sms"],
         "delayMinutes": 60, "conditions": []},
        {"id": "s-email", "sequence": 10, "channel": "email", "templateId": ids["email"],
         "delayMinutes": 0, "conditions": []}])
    # Then they are ordered by sequence, numbered from 1, and the ids come back
    assert created.status_code == 201, created.text
    body = created.json()
    assert [(s["id"], s["sequence"], s["channel"]) for s in body["steps"]] == [
        ("s-email", 1, "email"), ("s-sms", 2, "sms")]
    assert body["trigger"]["id"] == "trg-1"
    assert client.get(f"/api/workflows/{body['id']}").json() == body
    # And the published version keeps them
    assert client.post(f"/api/workflows/{body['id']}/publish").status_code == 200
    version = client.get(f"/api/workflows/{body['id']}/versions/1").json()["definition"]
    assert [s["id"] for s in version["steps"]] == ["s-email", "s-sms"]
    assert version["trigger"]["id"] == "trg-1"


@pytest.mark.parametrize(("second", "field", "says"), [
    ({"sequence": 1}, "body.steps[1].sequence", "also the sequence of steps[0]"),
    ({}, "body.steps[1].sequence", "every step a sequence, or none"),
    ({"sequence": 2, "id": "a"}, "body.steps[1].id", "also the id of steps[0]"),
])
def test_bad_sequences_and_ids_are_refused_naming_the_field(
        h: Harness, second: dict[str, Any], field: str, says: str) -> None:
    client = api_client(h.rt)
    email = templates(h)["email"]
    before = h.rt.app.recorder.max_notification_id()
    step = {"channel": "email", "templateId": email, "delayMinutes": 0}
    response = seed_workflow(client, [step | {"id": "a", "sequence": 1}, step | second])
    assert response.status_code == 422
    [error] = response.json()["error"]["fields"]
    assert error["field"] == field, "pydantic's and the domain's paths are written alike"
    assert says in error["reason"]
    assert h.rt.app.recorder.max_notification_id() == before


def test_steps_without_ids_keep_answering_as_before(h: Harness) -> None:
    client = api_client(h.rt)
    email = templates(h)["email"]
    created = seed_workflow(client, [{"channel": "email", "templateId": email}]).json()
    assert [(s["id"], s["sequence"]) for s in created["steps"]] == [(None, 1)]
    assert "id" not in h.rt.app.load(Workflow, UUID(created["id"])).draft["steps"][0]
