"""The walking-skeleton scenario over HTTP, shared by every end-to-end test."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

Emails = Callable[[], list[dict[str, Any]]]

EXPECTED_HISTORY = [
    "Lead.Created", "Lead.ScoreChanged", "WorkflowExecution.Created",
    "WorkflowExecution.StepScheduled", "WorkflowExecution.StepDispatched", "Message.CreatedSent",
    "WorkflowExecution.StepSent", "Lead.StatusChanged", "WorkflowExecution.Paused"]


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def publish_three_step_workflow(http: httpx.Client) -> str:
    email = ok(http.post("/api/templates", json={
        "name": "First touch", "channel": "email",
        "subject": "{{ lead.first_name }}, homes for you",
        "body": "Hi {{ lead.name }}, a {{ lead.preferences.property_type }} in "
                "{{ lead.preferences.area }}, moving {{ lead.timeline }}."}), 201)
    sms = ok(http.post("/api/templates", json={
        "name": "Nudge", "channel": "sms", "body": "Hi {{ lead.first_name }}, call me?"}), 201)
    in_app = ok(http.post("/api/templates", json={
        "name": "Card", "channel": "in_app", "subject": "Matches",
        "body": "{{ lead.first_name }}: 3 new matches"}), 201)
    workflow = ok(http.post("/api/workflows", json={
        "agentId": "agent-7", "name": "Hot lead",
        "trigger": {"scoreThreshold": 80, "triggerType": "immediate", "conditions": []},
        "steps": [{"channel": "email", "templateId": email["id"], "delayMinutes": 0},
                  {"channel": "sms", "templateId": sms["id"], "delayMinutes": 60},
                  {"channel": "in_app", "templateId": in_app["id"], "delayMinutes": 1440}]}),
        201)
    assert ok(http.post(f"/api/workflows/{workflow['id']}/publish"))["version"] == 1
    return str(workflow["id"])


def noon_zone() -> str:
    """A zone where it is now about noon, so default send windows (SMS 08:00-21:00) never move
    a step of the scenario and its timings stay exact."""
    offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12  # -12..11 hours east of UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def register_lead(http: httpx.Client) -> str:
    lead = ok(http.post("/api/leads", json={
        "agentId": "agent-7", "name": "Maria Souza", "email": "maria@example.com",
        "phone": "+15557654321", "timezone": noon_zone(),
        "preferences": {"property_type": "townhouse", "area": "Riverside"},
        "timeline": "before spring", "score": 50}), 201)
    return str(lead["id"])


def check_email_and_schedule(http: httpx.Client, lead: str, emails: Emails) -> dict[str, Any]:
    [email] = eventually(emails, what="the email")
    assert email["to"] == "maria@example.com"
    assert email["subject"] == "Maria, homes for you"
    assert "Hi Maria Souza, a townhouse in Riverside, moving before spring." in email["body"]

    def sent() -> Any:
        found = ok(http.get(f"/api/leads/{lead}/executions"))
        return found if found and found[0]["steps"][0]["status"] == "sent" else None

    [execution] = eventually(sent, what="the email step recorded as sent")
    assert execution["status"] == "active" and execution["currentStep"] == 2  # from 1
    email_step, sms_step = execution["steps"][0], execution["steps"][1]
    assert sms_step["status"] == "scheduled" and sms_step["channel"] == "sms"
    sent_at = datetime.fromisoformat(email_step["sentAt"])
    assert datetime.fromisoformat(sms_step["dueAt"]) - sent_at == timedelta(minutes=60)
    return execution


def lose_lead(http: httpx.Client, lead: str) -> None:
    result = ok(http.post(f"/api/leads/{lead}/status",
                          json={"status": "lost", "reason": "bought elsewhere"}))
    assert len(result["pausedExecutions"]) == 1
    [execution] = ok(http.get(f"/api/leads/{lead}/executions"))
    assert execution["status"] == "paused"
    assert "lost" in execution["statusReason"]


def check_history(http: httpx.Client, lead: str, emails: Emails) -> None:
    def complete_history() -> Any:
        rows = ok(http.get(f"/api/leads/{lead}/history"))
        return rows if len(rows) >= len(EXPECTED_HISTORY) else None

    rows = eventually(complete_history, what="the full history")
    assert [r["kind"] for r in rows] == EXPECTED_HISTORY
    summaries = [r["summary"] for r in rows]
    assert "Score changed from 50 to 85 (viewed two listings)" in summaries
    assert "Email sent: “Maria, homes for you”" in summaries
    assert summaries[-1].startswith("Paused: lead status became lost")
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    time.sleep(1.5)
    assert len(emails()) == 1, "nothing more is sent after the lead is lost"
    assert ok(http.get(f"/api/leads/{lead}/inbox")) == {"items": [], "unread": 0}


def walk(http: httpx.Client, emails: Emails) -> str:
    """The whole scenario without interruptions; returns the lead id."""
    publish_three_step_workflow(http)
    lead = register_lead(http)
    ok(http.post(f"/api/leads/{lead}/score", json={"score": 85, "reason": "viewed two listings"}))
    check_email_and_schedule(http, lead, emails)
    lose_lead(http, lead)
    check_history(http, lead, emails)
    return lead
