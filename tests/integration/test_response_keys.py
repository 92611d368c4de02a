"""Every JSON name a client sees is camelCase: no key of any response of a full scenario, nor
of the OpenAPI schema's response components, holds an underscore.

Two exceptions, both data rather than the API's names: free-form user data, answered as given
(a lead's ``preferences``, the agent's own keys, and a history entry's ``data``, the event's
own fields); and a channel's name used as a key (``sendWindows``, the health check's
``channels``), which is the channel's value (``in_app``), as requests give it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from domain.channels import Channel
from tests.conftest import FakeClock, api_client
from tests.integration.helpers import Harness

#: Keys whose values are the user's or the event's own data, not the API's names.
FREE_FORM = {"preferences", "data"}
#: Keys that are values: a channel's name.
CHANNELS = {c.value for c in Channel}


def snake_keys(value: Any, path: str = "") -> list[str]:
    """The paths of every key holding an underscore, outside free-form user data."""
    if isinstance(value, list):
        return [k for i, v in enumerate(value) for k in snake_keys(v, f"{path}[{i}]")]
    if not isinstance(value, dict):
        return []
    found = [f"{path}.{k}" for k in value if "_" in k and k not in CHANNELS]
    return found + [k for key, v in value.items() if key not in FREE_FORM
                    for k in snake_keys(v, f"{path}.{key}")]


@pytest.fixture
def hc(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Harness, TestClient]]:
    harness = Harness(Settings(data_dir=tmp_path), clock)
    yield harness, api_client(harness.rt)
    harness.rt.stop()


class Recorder:
    """A client that keeps every JSON body it was answered."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.bodies: dict[str, Any] = {}

    def __call__(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = self.client.request(method, path, **kw)
        assert response.status_code == status, (path, response.text)
        if response.content:
            self.bodies[f"{method} {path}"] = response.json()
            return response.json()
        return None


def workflow_body(templates: dict[str, str]) -> dict[str, Any]:
    return {
        "agentId": "agent-1", "name": "Hot lead",
        "trigger": {"scoreThreshold": 80, "triggerType": "delayed", "delayMinutes": 5,
                    "conditions": [{"field": "preferences.bedrooms", "op": "gte", "value": 2}],
                    "reentry": {"mode": "after_days", "days": 30}, "hysteresis": 5,
                    "exclusiveGroup": "hot", "onRegistration": "start"},
        "steps": [{"channel": "email", "templateId": templates["email"], "delayMinutes": 0},
                  {"channel": "in_app", "templateId": templates["in_app"],
                   "delay": {"amount": 1, "unit": "hours"},
                   "conditions": [{"kind": "previous_email_not_opened"}]},
                  {"channel": "sms", "templateId": templates["sms"], "delayMinutes": 60,
                   "conditions": [{"kind": "score_at_least", "value": 50}]}],
        "sendWindows": {"email": {"start": "00:00", "end": "24:00"},
                        "in_app": {"start": "00:00", "end": "24:00", "weekdays": ["mon"]}},
        "businessDaysOnly": False}


def scenario(h: Harness, call: Recorder) -> None:
    """Templates, a workflow published and edited, a lead crossing, a send, every override,
    a dead letter's replay, the lead's status and consent, its history and inbox."""
    templates = {c: call("POST", "/api/templates", 201, json={
        "name": c, "channel": c, "subject": None if c == "sms" else "Hi",
        "body": "Hello {{ lead.first_name }}"})["id"] for c in ("email", "sms", "in_app")}
    email = f"/api/templates/{templates['email']}"
    call("GET", email)
    call("PUT", email, json={"name": "email", "subject": "Hi", "body": "Hey"},
         headers={"If-Match": call.client.get(email).headers["ETag"]})
    call("GET", f"{email}/revisions")
    call("GET", f"{email}/revisions/1")
    call("GET", f"{email}/preview", params={"revision": 1})
    call("GET", "/api/templates/variables")
    workflow = call("POST", "/api/workflows", 201, json=workflow_body(templates))["id"]
    call("GET", f"/api/workflows/{workflow}/publish-preview")
    call("POST", f"/api/workflows/{workflow}/publish", json={"backfill": True})
    edited = {k: v for k, v in workflow_body(templates).items() if k != "agentId"}
    etag = call.client.get(f"/api/workflows/{workflow}").headers["ETag"]
    call("PUT", f"/api/workflows/{workflow}", json=edited, headers={"If-Match": etag})
    call("GET", f"{email}/usage")
    call("GET", f"/api/workflows/{workflow}/versions/1")
    call("POST", f"/api/workflows/{workflow}/publish", json={"migrate": "move"})
    lead = call("POST", "/api/leads", 201, json={
        "agentId": "agent-1", "name": "Ana Lima", "email": "ana@example.com",
        "phone": "+15550001111", "preferences": {"bedrooms": 2, "move_in": "soon"},
        "externalId": "crm-1", "moveBy": "2027-01-01"})["id"]
    call("POST", f"/api/leads/{lead}/score", json={"score": 85, "eventId": "e-1"})
    h.settle()
    h.clock.advance(minutes=10)
    h.settle()
    h.send_due()
    h.settle()
    [execution] = call("GET", f"/api/leads/{lead}/executions")
    x = execution["id"]
    call("GET", f"/api/executions/{x}")
    for action in ("pause", "resume", "skip", "send-now"):
        call("POST", f"/api/executions/{x}/{action}")
    call("POST", "/api/dead-letters/replay")
    call("GET", "/api/dead-letters")
    call("POST", f"/api/executions/{x}/restart")
    call("POST", f"/api/executions/{x}/cancel")
    call("POST", f"/api/workflows/{workflow}/pause")
    call("POST", f"/api/workflows/{workflow}/resume")
    call("POST", f"/api/workflows/{workflow}/rollback", json={"version": 1})
    call("POST", f"/api/leads/{lead}/status", json={"status": "closed"})
    call("POST", f"/api/leads/{lead}/status", json={"status": "contacted"})
    call("POST", f"/api/leads/{lead}/consent", json={"channel": "sms", "allowed": False})
    call("PATCH", f"/api/leads/{lead}", json={"timezone": "Asia/Kolkata", "moveBy": None})
    call("GET", f"/api/leads/{lead}")
    h.settle()
    call("GET", f"/api/leads/{lead}/history")
    call("GET", f"/api/leads/{lead}/inbox")
    call("GET", "/health")


def test_no_response_of_a_full_scenario_has_a_snake_case_key(
        hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    call = Recorder(client)
    # Given a full scenario through every resource's routes
    scenario(h, call)
    # Then no JSON name any of them answered holds an underscore
    leaks = {route: keys for route, body in call.bodies.items() if (keys := snake_keys(body))}
    assert leaks == {}
    assert "POST /api/workflows" in call.bodies and "GET /health" in call.bodies


def test_the_openapi_response_components_have_no_snake_case_property(
        hc: tuple[Harness, TestClient]) -> None:
    _, client = hc
    # Given the API's schema
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    # Then every property of every body the API answers is camelCase
    answered = {name: s for name, s in schemas.items() if not name.endswith("In")}
    leaks = {name: sorted(p for p in s.get("properties", {}) if "_" in p)
             for name, s in answered.items()}
    assert {name: keys for name, keys in leaks.items() if keys} == {}


def declared(schema: dict[str, Any]) -> bool:
    """A response schema is a named model (or a list of one), not a free-form object."""
    return "$ref" in schema or (schema.get("type") == "array" and "$ref" in schema["items"])


def test_every_route_declares_its_response_model(hc: tuple[Harness, TestClient]) -> None:
    _, client = hc
    # Given the API's schema
    paths = client.get("/openapi.json").json()["paths"]
    # Then every success answer with a body names its model
    free_form = [f"{method.upper()} {path}" for path, operations in paths.items()
                 for method, operation in operations.items()
                 for code, response in operation["responses"].items() if code.startswith("2")
                 for body in response.get("content", {}).values()
                 if not declared(body["schema"])]
    assert free_form == []
