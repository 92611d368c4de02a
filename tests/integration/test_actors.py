"""Who acted, through the application and the API: the events name the principal, the lead's
history names the person (or the token) as someone reads it, the API answers it, and the log
line of each action carries the actor's id and the objects' ids, never a name or a reason."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.main import create_app
from domain.execution import MAX_SEND_ATTEMPTS
from domain.ids import DEFAULT_BROKERAGE_ID
from tests.conftest import FakeClock, api_client, operator_token
from tests.integration.helpers import Harness, executions_of, three_step_workflow

PASSWORD = "correct horse battery"
TOKEN = "token:00000000-0000-4000-8000-0000000070c1"


def ann_lee(h: Harness) -> str:
    """Ann Lee, the agent of the harness's leads (agent-1), in the default brokerage: her
    actor id."""
    app = h.rt.app
    app.open_brokerage("default", "Default brokerage")
    ann = app.create_user(brokerage_id=DEFAULT_BROKERAGE_ID, email="ann.lee@example.test",
                          name="Ann Lee", role="agent", agent_id="agent-1", password=PASSWORD)
    return f"user:{ann.id}"


def entries(h: Harness, lead: UUID) -> list[tuple[str, Any]]:
    """The lead's history: each entry's summary and who acted."""
    return [(r["summary"], r["by"]) for r in rows(h, lead)]


def rows(h: Harness, lead: UUID) -> list[dict[str, Any]]:
    h.settle()
    return h.rt.history.for_lead(str(lead))


def test_the_history_names_who_acted_on_each_entry_of_a_persons_action(h: Harness) -> None:
    # Given Ann Lee, and her lead Ana in the three-step workflow, its first email sent
    ann = ann_lee(h)
    lead = h.crossing()
    assert h.send_due() == ["sent"]
    [execution] = executions_of(h.rt.app, lead)
    app, x = h.rt.app, execution.id
    # When Ann pauses, resumes, sends the text now, skips it, restarts and closes the lead;
    # reopens it (resuming the run), cancels it; a brokerage token opts Ana out of SMS and
    # Ann's own token opts her back in
    app.pause_execution(x, "call first", actor=ann)
    app.resume_execution(x, "shift", actor=ann)
    app.send_now(x, actor=ann)
    app.skip_step(x, "called instead", actor=ann)
    app.restart_execution(x, "new listing", actor=ann)
    app.change_status(lead, "closed", "bought", actor=ann)
    app.change_status(lead, "nurturing", "fell through", resume=True, actor=ann)
    app.cancel_execution(x, "done", actor=ann)
    app.set_consent(lead, "sms", False, "asked", actor=TOKEN)
    app.set_consent(lead, "sms", True, "asked again", actor=f"{ann} via {TOKEN}")
    found = dict(entries(h, lead))
    named = {"actor": ann, "name": "Ann Lee"}
    # Then each of Ann's entries says so, by her name
    assert found["Execution paused by Ann Lee: call first"] == named
    assert found["Execution resumed by Ann Lee (overdue steps shifted by the time paused)"] == \
        named
    [now] = [s for s in found if "sent now" in s]
    assert now.startswith("step 2 (SMS) due ") and "sent now by Ann Lee" in now
    assert found[now] == named
    assert found["step 2 (SMS) skipped by Ann Lee: called instead"] == named
    assert found["“hot” v1 restarted from step 1 by Ann Lee: new listing"] == named
    assert found["Status changed from new to closed by Ann Lee (bought)"] == named
    assert found["Status changed from closed to nurturing by Ann Lee (fell through)"] == named
    assert found["“hot” v1 cancelled by Ann Lee: done"] == named
    # And the tokens' by "API token" and the start of its id
    assert found["Opted out of SMS by API token 00000000 (asked)"] == {
        "actor": TOKEN, "name": "API token 00000000"}
    assert found["Opted back in to SMS by Ann Lee via API token 00000000 (asked again)"] == {
        "actor": f"{ann} via {TOKEN}", "name": "Ann Lee via API token 00000000"}
    # And what the system did names nobody: the closing's pause, the sends, the start
    assert found["Paused: lead status became closed: bought"] is None
    system = {"Lead.Created", "WorkflowExecution.Created", "WorkflowExecution.StepDispatched",
              "WorkflowExecution.StepSent", "Message.CreatedSent"}
    assert {r["kind"]: r["by"] for r in rows(h, lead) if r["kind"] in system} == dict.fromkeys(
        system)
    assert [s for s, by in found.items() if by is not None and "Ann" not in s
            and "API token" not in s] == []


def test_a_rebuilt_history_names_the_same_people(h: Harness) -> None:
    # Given Ann's pause in the history
    ann = ann_lee(h)
    lead = h.crossing()
    h.settle()
    [execution] = executions_of(h.rt.app, lead)
    h.rt.app.pause_execution(execution.id, "call first", actor=ann)
    before = entries(h, lead)
    # When the read model is dropped and rebuilt from the log
    h.rt.history.drop()
    h.rt.history.forget()
    # Then it reads the same, Ann's name included
    assert entries(h, lead) == before
    assert ("Execution paused by Ann Lee: call first", {"actor": ann, "name": "Ann Lee"}) in before


@pytest.fixture
def hc(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Harness, TestClient]]:
    harness = Harness(Settings(data_dir=tmp_path), clock)
    yield harness, api_client(harness.rt)
    harness.rt.stop()


def named_events(h: Harness, after: int) -> dict[str, str | None]:
    """The events written after notification ``after`` that say who acted, by kind."""
    found: dict[str, str | None] = {}
    for stored in h.rt.app.recorder.select_notifications(after + 1, 1000):
        event = h.rt.app.mapper.to_domain_event(stored)
        if hasattr(event, "by") and type(event).__module__ != "domain.account":
            found.setdefault(type(event).__qualname__, event.by)
    return found


def act(h: Harness, client: TestClient, method: str, path: str,
        body: dict[str, Any] | None = None, etag: str | None = None) -> dict[str, str | None]:
    """Call the route; the events it wrote that say who acted, by kind."""
    before = h.rt.app.recorder.max_notification_id() or 0
    headers = {"If-Match": etag} if etag and method == "put" else {}
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return named_events(h, before)


def dead_letter(h: Harness) -> str:
    """Run the current step's attempts out; the execution's id."""
    h.channel.fail_next(permanent=False, times=MAX_SEND_ATTEMPTS)
    for _ in range(MAX_SEND_ATTEMPTS):
        h.send_due()
        h.clock.advance(hours=2)
    [entry] = api_client(h.rt).get("/api/dead-letters").json()
    return str(entry["executionId"])


def test_every_action_route_records_the_principal_who_called_it(
        hc: tuple[Harness, TestClient]) -> None:
    # Given Ana in a published workflow, called through the API by the brokerage's token
    h, client = hc
    actor = h.rt.app.token_principal(operator_token(h.rt)).actor
    lead = h.crossing()
    x = dead_letter(h)
    [workflow] = {e.workflow_id for e in executions_of(h.rt.app, lead)}
    read = client.get(f"/api/workflows/{workflow}")
    steps = [{k: s[k] for k in ("channel", "templateId", "delayMinutes")}
             for s in read.json()["steps"]]
    definition = {"trigger": {"scoreThreshold": 80}, "steps": steps}
    # When each action is called, then the event it records names the token
    calls: list[tuple[str, str, dict[str, Any] | None, str]] = [
        (f"/api/executions/{x}/replay", "post", None, "WorkflowExecution.DeadLetterReplayed"),
        (f"/api/executions/{x}/pause", "post", {"reason": "wait"}, "WorkflowExecution.Paused"),
        (f"/api/executions/{x}/resume", "post", None, "WorkflowExecution.Resumed"),
        (f"/api/executions/{x}/send-now", "post", None, "WorkflowExecution.StepScheduled"),
        (f"/api/executions/{x}/skip", "post", None, "WorkflowExecution.StepSkipped"),
        (f"/api/executions/{x}/restart", "post", None, "WorkflowExecution.Restarted"),
        (f"/api/leads/{lead}/status", "post", {"status": "contacted", "reason": "called"},
         "Lead.StatusChanged"),
        (f"/api/leads/{lead}/consent", "post", {"channel": "sms", "allowed": False,
                                                "reason": "asked"}, "Lead.OptedOut"),
        (f"/api/workflows/{workflow}", "put", {**definition, "name": "Hotter"},
         "Workflow.DraftEdited"),
        (f"/api/workflows/{workflow}/publish", "post", None, "Workflow.Published"),
        (f"/api/workflows/{workflow}/rollback", "post", {"version": 1}, "Workflow.Published"),
        (f"/api/workflows/{workflow}/pause", "post", None, "Workflow.Paused"),
        (f"/api/workflows/{workflow}/resume", "post", None, "Workflow.Resumed"),
        (f"/api/executions/{x}/cancel", "post", None, "WorkflowExecution.Cancelled"),
    ]
    for path, method, body, kind in calls:
        found = act(h, client, method, path, body, read.headers["ETag"])
        assert found.get(kind) == actor, (path, found)
    # And the bulk replay of the dead-letter list names it too
    h.rt.app.restart_execution(UUID(x), "again")
    dead_letter(h)
    found = act(h, client, "post", "/api/dead-letters/replay")
    assert found["WorkflowExecution.DeadLetterReplayed"] == actor


def browser(h: Harness) -> TestClient:
    client = TestClient(create_app(h.rt))
    signed = client.post("/api/session", json={"email": "ann.lee@example.test",
                                               "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    client.headers["X-CSRF-Token"] = signed.json()["csrfToken"]
    return client


def test_the_history_api_answers_who_acted(hc: tuple[Harness, TestClient]) -> None:
    # Given Ann Lee signed in, and a token of the brokerage
    h, client = hc
    ann = ann_lee(h)
    token = h.rt.app.token_principal(operator_token(h.rt)).actor
    lead = h.crossing()
    # When Ann changes the lead's status in the browser and the token opts it out of SMS
    assert browser(h).post(f"/api/leads/{lead}/status",
                           json={"status": "contacted", "reason": "called"}).status_code == 200
    assert client.post(f"/api/leads/{lead}/consent", json={
        "channel": "sms", "allowed": False, "reason": "asked"}).status_code == 200
    h.settle()
    history = client.get(f"/api/leads/{lead}/history").json()
    by = {e["kind"]: e["by"] for e in history}
    # Then the entries say who, by id and by name; the system's say nobody
    assert by["Lead.StatusChanged"] == {"actor": ann, "name": "Ann Lee"}
    assert by["Lead.OptedOut"] == {"actor": token, "name": f"API token {token[6:14]}"}
    assert by["Lead.Created"] is None and by["WorkflowExecution.Created"] is None
    [status] = [e for e in history if e["kind"] == "Lead.StatusChanged"]
    assert status["summary"] == "Status changed from new to contacted by Ann Lee (called)"
    assert status["data"]["by"] == ann  # the event's own fields: the id, never the name


def test_each_action_logs_the_actor_and_the_ids_and_no_personal_data(
        h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    # Given Ann Lee and her lead Ana in a run
    ann = ann_lee(h)
    lead = h.crossing()
    h.settle()
    [execution] = executions_of(h.rt.app, lead)
    caplog.set_level(logging.INFO, logger="application.audit")
    # When Ann pauses the run and opts Ana out of email, and a token publishes a workflow
    h.rt.app.pause_execution(execution.id, "Ana Lima asked for a call", actor=ann)
    h.rt.app.set_consent(lead, "email", False, "ana@example.com unsubscribed", actor=ann)
    workflow = three_step_workflow(h.rt.app)
    h.rt.app.hold_workflow(workflow, True, "holiday", actor=TOKEN)
    lines = [r.getMessage() for r in caplog.records if r.name == "application.audit"]
    # Then one line each, with the actor's id, the action and the ids
    assert lines == [
        f"execution.pause actor={ann} execution_id={execution.id} lead_id={lead}",
        f"lead.opt_out actor={ann} lead_id={lead} channel=email",
        f"workflow.publish actor=- workflow_id={workflow} version=1",
        f"workflow.pause actor={TOKEN} workflow_id={workflow}",
    ]
    # And no name, address or reason
    text = "\n".join(lines)
    assert "Ann" not in text and "Ana" not in text and "@" not in text
    assert "call" not in text and "holiday" not in text
