"""The edge's bounds: what no store or follower can process is refused with a 422 (413 for a
body past the size limit) naming the field, and nothing is stored."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import AwareDatetime, BaseModel

from adapters.bootstrap import Runtime
from api import account_schemas, list_schemas, schemas
from domain.errors import InvalidValue
from domain.lead import Lead

JSON = {"content-type": "application/json"}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def lead(**fields: Any) -> str:
    return json.dumps({"agentId": "a", "name": "Ana"} | fields)


@pytest.mark.parametrize(("body", "field"), [
    (lead(preferences={"n": 2**64}), "preferences.n"),
    (lead(preferences={"n": -2**63 - 1}), "preferences.n"),
    (lead(preferences={"n": [1, 2**53]}), "preferences.n[1]"),
    (lead(preferences=nested(300)), "preferences.a.a.a"),
    (lead(preferences=nested(9)), "preferences.a.a.a.a.a.a.a.a.a"),
    (lead(preferences={"k": "x" * 1001}), "preferences.k"),
    (lead(preferences={str(i): i for i in range(101)}), "preferences"),
    (lead(preferences={"k": "a\x00b"}), "preferences.k"),
    (lead(preferences={"k\x00": 1}), "preferences.k\ufffd"),
    (lead(preferences={"k": "\ud800"}), "preferences.k"),
    (lead(name="Ana\x07"), "name"),
    (lead(name="\u200b\u200b"), "name"),
    (lead(name=" \u00a0"), "name"),
    (lead(agentId="\u2060"), "agentId"),
    (lead(timezone="localtime"), "timezone"),
    (lead(timezone="Factory"), "timezone"),
    (lead(timezone="Etc/Unknown"), "timezone"),
    (lead(score=True), "score"),
    (lead(score="50"), "score"),
    (lead(score=50.0), "score"),
    ('{"agentId": "a", "name": "Ana", "preferences": {"x": 1e400}}', "preferences.x"),
    ('{"agentId": "a", "name": "Ana", "preferences": {"x": NaN}}', "preferences.x"),
    ('{"agentId": "a", "name": "Ana", "preferences": {"x": -Infinity}}', "preferences.x"),
])
def test_a_lead_no_store_can_hold_is_refused_naming_the_field(
        client: TestClient, runtime: Runtime, body: str, field: str) -> None:
    before = runtime.app.recorder.max_notification_id()
    response = client.post("/api/leads", content=body.encode(), headers=JSON)
    assert response.status_code == 422, response.text
    [error] = response.json()["error"]["fields"]
    assert error["field"].startswith(f"body.{field}"), error
    assert runtime.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(("path", "body", "field"), [
    ("score", {"score": 5, "reason": "a\x00b"}, "reason"),
    ("score", {"score": True}, "score"),
    ("score", {"score": "50"}, "score"),
    ("status", {"status": "lost", "reason": "\x00"}, "reason"),
    ("consent", {"channel": "sms", "allowed": False, "reason": "x\x00"}, "reason"),
    ("consent", {"channel": "sms", "allowed": 0}, "allowed"),
])
def test_a_change_no_store_can_hold_is_refused(client: TestClient, runtime: Runtime, path: str,
                                                body: dict[str, Any], field: str) -> None:
    created = client.post("/api/leads", json={"agentId": "a", "name": "Ana"}).json()
    before = runtime.app.recorder.max_notification_id()
    response = client.post(f"/api/leads/{created['id']}/{path}", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == f"body.{field}"
    assert runtime.app.recorder.max_notification_id() == before


def test_a_workflow_condition_value_is_bounded(client: TestClient) -> None:
    trigger = {"scoreThreshold": 80, "conditions": [
        {"field": "preferences.rooms", "op": "in", "value": [1, 2, 2**70]}]}
    response = client.post("/api/workflows", json={"agentId": "a", "name": "w",
                                                   "trigger": trigger})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body.trigger.conditions[0].value[2]"
    response = client.post("/api/workflows", json={"agentId": "a", "name": "w", "trigger": {
        "scoreThreshold": 80, "hysteresis": True}})
    assert response.json()["error"]["fields"][0]["field"] == "body.trigger.hysteresis"


def test_a_body_past_the_limit_is_413_as_a_problem(client: TestClient, runtime: Runtime) -> None:
    ten_mb = lead(preferences={"k": "x" * 10_000_000})
    before = runtime.app.recorder.max_notification_id()
    response = client.post("/api/leads", content=ten_mb.encode(), headers=JSON)
    assert response.status_code == 413
    assert response.json() == {"error": {"status": 413, "code": "too_large", "fields": [],
                                         "message": "the body is larger than 262144 bytes",
                                         "details": {}}}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield from (ten_mb[i:i + 65536].encode() for i in range(0, len(ten_mb), 65536))

    response = client.post("/api/leads", content=chunks(), headers=JSON)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert "262144" in response.json()["error"]["message"]
    assert runtime.app.recorder.max_notification_id() == before, "nothing was stored"


def test_what_the_bounds_allow_is_accepted_and_read_back(client: TestClient) -> None:
    preferences = {"rooms": [2, 3], "budget": 2**53 - 1, "ratio": 0.5, "area": "Baixa\tLisboa",
                   "deep": nested(7), "note": "line\r\nnext", "none": None, "yes": True}
    response = client.post("/api/leads", json={"agentId": "a", "name": "Zoë",
                                               "timezone": "America/Argentina/Buenos_Aires",
                                               "preferences": preferences})
    assert response.status_code == 201, response.text
    assert response.json()["preferences"] == preferences


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "utc", "Mars/Base"])
def test_the_domain_refuses_names_that_are_not_a_places_zone(zone: str) -> None:
    # Given / when a lead is registered in it, then it is refused naming the field
    with pytest.raises(InvalidValue) as e:
        Lead.register(lead_id=uuid4(), agent_id="a", name="Ana", email=None, phone=None,
                      timezone=zone, preferences={}, timeline=None)
    assert e.value.field == "timezone"


def commands() -> Iterator[type[BaseModel]]:
    for module in (schemas, account_schemas, list_schemas):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, schemas.Command):
                yield value


def bare(annotation: Any) -> Iterator[Any]:
    """The types in ``annotation`` (through ``X | None``) that are plain int, bool, float, date
    or datetime (lax, a date or datetime takes a number as seconds since 1970)."""
    if typing.get_origin(annotation) is Annotated:
        if any(getattr(m, "strict", False) or getattr(m, "func", None) is schemas.as_text
               for m in annotation.__metadata__):
            return
    elif annotation in (int, bool, float, date, datetime, AwareDatetime):
        yield annotation
    for inner in typing.get_args(annotation):
        yield from bare(inner)


def test_every_command_number_flag_and_date_is_strict() -> None:
    """A new ``int``, ``bool``, date or time field must be ``Whole``, ``Flag``, ``Day`` or
    ``Instant``, or it takes "50" and true for numbers, or 1700000000 for a time, again."""
    for command in commands():
        for name, field in command.model_fields.items():
            strict = any(getattr(m, "strict", False) for m in field.metadata)
            assert strict or not list(bare(field.annotation)), (command.__name__, name)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/score", {"score": 60, "occurredAt": 1764580000}, "body.occurredAt"),
    ("/score", {"score": 60, "occurredAt": True}, "body.occurredAt"),
    ("", {"moveBy": 1764547200}, "body.moveBy"),  # midnight: lax took it
    ("", {"moveBy": "1764547200"}, "body.moveBy"),
])
def test_a_date_or_time_is_json_text_never_a_number(client: TestClient, path: str,
                                                     body: dict[str, Any], field: str) -> None:
    # Given a lead
    lead = client.post("/api/leads", json={"agentId": "a", "name": "Ana"}).json()
    # When a date or time is sent as a number (lax parsing took it as seconds since 1970)
    method = client.post if path else client.patch
    response = method(f"/api/leads/{lead['id']}{path}", json=body)
    # Then it is refused naming the field, and the lead is as it was
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]
    assert client.get(f"/api/leads/{lead['id']}").json() == lead


def test_a_date_and_a_time_as_text_are_taken(client: TestClient) -> None:
    lead = client.post("/api/leads", json={"agentId": "a", "name": "Ana",
                                           "moveBy": "2027-03-01"}).json()
    assert lead["moveBy"] == "2027-03-01"
    response = client.post(f"/api/leads/{lead['id']}/score",
                           json={"score": 60, "occurredAt": "2026-11-25T09:00:00Z"})
    assert response.status_code == 200, response.text
