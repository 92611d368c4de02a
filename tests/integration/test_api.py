"""The HTTP edge: status codes, field-naming errors, and nothing stored changing on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Runtime
from adapters.settings import Settings
from tests.conftest import api_client, free_port
from tests.e2e.conftest import ROOT


def fields(response: Any) -> list[str]:
    """The refused fields' paths in the body (or query), without the ``body.``."""
    return [e["field"].partition(".")[2] for e in response.json()["error"]["fields"]]


def test_lead_round_trip_uses_camel_case(client: TestClient) -> None:
    created = client.post("/api/leads", json={
        "agentId": "a1", "name": "Ana Lima", "email": "ana@example.com", "phone": "+15550001111",
        "timezone": "Europe/Lisbon", "preferences": {"bedrooms": 2}, "timeline": "soon",
        "score": 40, "externalId": "crm-1"})
    assert created.status_code == 201
    body = created.json()
    assert body["agentId"] == "a1" and body["status"] == "new" and body["score"] == 40
    assert client.get(f"/api/leads/{body['id']}").json() == body
    retry = client.post("/api/leads", json={
        "agentId": "a1", "name": "Ana Lima", "email": "ana@example.com", "phone": "+15550001111",
        "timezone": "Europe/Lisbon", "preferences": {"bedrooms": 2}, "timeline": "soon",
        "score": 40, "externalId": "crm-1"})
    assert retry.status_code == 200 and retry.json() == body, "a retry answers the lead"


@pytest.mark.parametrize(("payload", "field"), [
    ({"agentId": "a", "name": "A", "email": "not-an-email"}, "email"),
    ({"agentId": "a", "name": "A", "phone": "555"}, "phone"),
    ({"agentId": "a", "name": "A", "score": 101}, "score"),
    ({"agentId": "a", "name": ""}, "name"),
    ({"agentId": "a", "name": "A", "timezone": "Mars/Base"}, "timezone"),
    ({"agentId": "a", "name": "A", "colour": "red"}, "colour"),
])
def test_bad_lead_is_refused_naming_the_field(client: TestClient, runtime: Runtime,
                                              payload: dict[str, Any], field: str) -> None:
    before = runtime.app.recorder.max_notification_id()
    response = client.post("/api/leads", json=payload)
    assert response.status_code == 422
    assert field in fields(response)
    assert runtime.app.recorder.max_notification_id() == before


def test_unknown_ids_are_404_and_bad_scores_change_nothing(client: TestClient) -> None:
    unknown = uuid4()
    for path in (f"/api/leads/{unknown}", f"/api/leads/{unknown}/history",
                 f"/api/leads/{unknown}/executions", f"/api/leads/{unknown}/inbox",
                 f"/api/templates/{unknown}", f"/api/workflows/{unknown}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/api/leads/{unknown}/score", json={"score": 5}).status_code == 404
    assert client.post(f"/api/workflows/{unknown}/publish").status_code == 404
    lead = client.post("/api/leads", json={"agentId": "a", "name": "B"}).json()
    response = client.post(f"/api/leads/{lead['id']}/score", json={"score": -1})
    assert response.status_code == 422 and fields(response) == ["score"]
    response = client.post(f"/api/leads/{lead['id']}/status", json={"status": "gone"})
    assert response.status_code == 422 and fields(response) == ["status"]
    assert client.get(f"/api/leads/{lead['id']}").json() == lead


def test_templates_and_workflows_validate_and_publish(client: TestClient) -> None:
    response = client.post("/api/templates", json={"name": "t", "channel": "email",
                                                   "body": "Hi {{ lead.name }}"})
    assert response.status_code == 422 and fields(response) == ["subject"]
    response = client.post("/api/templates", json={"name": "t", "channel": "sms",
                                                   "body": "Hi {{ lead.name"})
    assert response.status_code == 422 and fields(response) == ["body"]
    sms = client.post("/api/templates", json={"name": "t", "channel": "sms",
                                              "body": "Hi {{ lead.first_name }}"}).json()
    assert client.get(f"/api/templates/{sms['id']}/preview").json()["body"] == "Hi Sample"
    workflow = {"agentId": "a", "name": "w", "trigger": {"scoreThreshold": 80},
                "steps": [{"channel": "email", "templateId": sms["id"], "delayMinutes": 5}]}
    response = client.post("/api/workflows", json=workflow | {"trigger": {"scoreThreshold": 0}})
    assert response.status_code == 422 and fields(response) == ["trigger.scoreThreshold"]
    created = client.post("/api/workflows", json=workflow).json()
    assert created["status"] == "draft" and created["steps"][0]["delayMinutes"] == 5
    response = client.post(f"/api/workflows/{created['id']}/publish")
    assert response.status_code == 409
    assert "steps[0].templateId" in response.json()["error"]["message"]
    assert client.get(f"/api/workflows/{created['id']}").json()["versions"] == []
    ok = client.post("/api/workflows", json=workflow | {"steps": [
        {"channel": "sms", "templateId": sms["id"], "delayMinutes": 5}]}).json()
    assert client.post(f"/api/workflows/{ok['id']}/publish").json()["version"] == 1
    assert client.get(f"/api/workflows/{ok['id']}").json()["status"] == "published"


def test_health_reports_an_unreachable_redis(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    response = api_client(rt).get("/health")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["eventStore"]["ok"] is True
    rt.stop()


def test_bad_settings_stop_the_command_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "api"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "FOLLOWUP_DATABASE_URL": "mysql://x/y",
             "FOLLOWUP_DATA_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 2
    assert "FOLLOWUP_DATABASE_URL" in result.stderr


def test_dead_letters_are_listed_and_replayed_over_http(tmp_path: Path) -> None:
    from domain.execution import MAX_SEND_ATTEMPTS
    from tests.conftest import FakeClock
    from tests.integration.helpers import Harness

    h = Harness(Settings(data_dir=tmp_path), FakeClock())
    try:
        client = api_client(h.rt)
        h.channel.fail_next(permanent=False, times=MAX_SEND_ATTEMPTS)
        lead = h.crossing()
        for _ in range(MAX_SEND_ATTEMPTS):
            h.send_due()
            h.clock.advance(hours=2)
        [entry] = client.get("/api/dead-letters", params={"agentId": "agent-1"}).json()
        assert entry["leadId"] == str(lead) and entry["step"] == 1  # counted from 1
        assert entry["attempts"] == MAX_SEND_ATTEMPTS and entry["reason"] == "busy"
        execution = client.get(f"/api/executions/{entry['executionId']}").json()
        assert execution["status"] == "paused" and execution["deadLetterStep"] == 1
        assert client.get("/api/dead-letters", params={"limit": 0}).status_code == 422
        resumed = client.post(f"/api/executions/{entry['executionId']}/resume")
        assert resumed.status_code == 409 and "replay" in resumed.text
        bad = client.post("/api/dead-letters/replay", json={"workflow": "x"})
        assert bad.status_code == 422 and "workflow" in fields(bad)
        before = h.rt.app.recorder.max_notification_id()
        replayed = client.post(f"/api/executions/{entry['executionId']}/replay")
        assert replayed.status_code == 200 and replayed.json()["deadLetterStep"] is None
        assert h.rt.app.recorder.max_notification_id() > before
        again = client.post(f"/api/executions/{entry['executionId']}/replay")
        assert again.status_code == 409 and "no dead-lettered step" in again.text
        assert h.send_due() == ["sent"]
        h.settle()
        assert client.get("/api/dead-letters").json() == []
        assert client.post("/api/dead-letters/replay").json() == {"replayed": [], "refused": []}
    finally:
        h.rt.stop()


def test_health_says_where_each_channel_goes(tmp_path: Path) -> None:
    # Given SMTP configured for email and no SMS provider (only the outbox exists)
    rt = Runtime(Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=2525))
    # When /health is asked
    channels = api_client(rt).get("/health").json()["checks"]["channels"]
    # Then it says that SMS still goes to the outbox folder, beside email's SMTP server
    assert channels == {"ok": True, "email": "smtp 127.0.0.1:2525", "sms": "outbox folder",
                        "in_app": "in-app inbox"}
    rt.stop()


def test_an_sms_provider_other_than_the_outbox_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "api"], cwd=ROOT, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "FOLLOWUP_SMS_PROVIDER": "sns",
             "FOLLOWUP_DATA_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 2 and "FOLLOWUP_SMS_PROVIDER" in result.stderr
