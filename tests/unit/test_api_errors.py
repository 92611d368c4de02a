"""Errors mapped to HTTP in one place: domain and application errors, wherever raised, get one
answer each (404, 409, 422 naming the field and where it was given), and every 4xx a route can
give is in the OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from application.errors import Conflict, Invalid, NotAllowed, NotFound
from domain.errors import InvalidState, InvalidValue


def raising(error: Exception) -> TestClient:
    """An app whose one route raises ``error``: the mapping alone, as every route gets it."""
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route() -> None:
        raise error

    return TestClient(app)


@pytest.mark.parametrize(("error", "status", "body"), [
    (NotFound("Lead", "L1"), 404, {"detail": "Lead L1 not found"}),
    (NotAllowed("status", "execution is completed"), 409,
     {"detail": "not allowed now: status: execution is completed"}),
    (InvalidState("status", "execution is completed"), 409,
     {"detail": "not allowed now: status: execution is completed"}),
    (Invalid("trigger.scoreThreshold", "too low"), 422,
     {"detail": [{"loc": ["body", "trigger", "scoreThreshold"], "msg": "too low",
                  "type": "value_error"}]}),
    (InvalidValue("score", "must be between 0 and 100"), 422,
     {"detail": [{"loc": ["body", "score"], "msg": "must be between 0 and 100",
                  "type": "value_error"}]}),
    (Invalid("agentId", "unknown", where="query"), 422,
     {"detail": [{"loc": ["query", "agentId"], "msg": "unknown", "type": "value_error"}]}),
])
def test_each_error_has_one_answer_wherever_it_is_raised(error: Exception, status: int,
                                                         body: dict[str, Any]) -> None:
    # Given a route that raises the error (a domain error outside any use case's retry loop
    # included), when it is called
    response = raising(error).post("/x")
    # Then
    assert (response.status_code, response.json()) == (status, body)


def test_a_conflict_says_when_to_try_again() -> None:
    response = raising(Conflict("the aggregate kept changing; try again")).post("/x")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert response.json() == {"detail": "the aggregate kept changing; try again"}


def test_a_refused_body_is_never_echoed_so_a_lone_surrogate_cannot_break_the_answer() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route(body: dict[str, int]) -> None: ...

    response = TestClient(app).post("/x", content=b'{"\\ud800": NaN}',
                                    headers={"content-type": "application/json"})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"][0] == "body" and "input" not in detail
    assert set(detail["loc"][1]) == {"\ufffd"}, "the key is named, its surrogate replaced"


def draft(client: TestClient, template: str | None = None) -> dict[str, Any]:
    steps = [{"channel": "sms", "templateId": template}] if template else []
    return client.post("/api/workflows", json={"agentId": "a", "name": "w", "steps": steps,
                                               "trigger": {"scoreThreshold": 80}}).json()


@pytest.mark.parametrize("number", [0, -1, 99])
def test_a_version_that_does_not_exist_is_404(client: TestClient, number: int) -> None:
    workflow = draft(client)
    response = client.get(f"/api/workflows/{workflow['id']}/versions/{number}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Workflow {workflow['id']} version {number} not found"}


def test_an_action_the_state_does_not_allow_is_409_not_a_body_field(client: TestClient) -> None:
    # Given a workflow with no steps, when it is published (a request with no body)
    response = client.post(f"/api/workflows/{draft(client)['id']}/publish")
    # Then the state refuses it: 409 with a message, not a 422 on a field the request lacks
    assert response.status_code == 409
    assert response.json() == {"detail": "not allowed now: steps: a workflow needs at least "
                                         "one step"}


def test_rolling_back_to_a_missing_version_names_the_body_field(client: TestClient) -> None:
    sms = client.post("/api/templates", json={"name": "t", "channel": "sms",
                                              "body": "Hi"}).json()
    workflow = draft(client, sms["id"])
    client.post(f"/api/workflows/{workflow['id']}/publish")
    response = client.post(f"/api/workflows/{workflow['id']}/rollback", json={"version": 7})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "version"]
    response = client.post(f"/api/workflows/{workflow['id']}/rollback", json={"version": 1})
    assert response.status_code == 409 and "already the newest" in response.json()["detail"]


def operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_4xx_a_route_can_give_is_documented(client: TestClient) -> None:
    for path, method, operation in operations(client):
        documented = set(operation["responses"])
        expected = set()
        if "{" in path:
            expected |= {"404", "422"}
        if method in {"post", "put"}:
            expected.add("409")
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        assert expected <= documented, (method, path, expected - documented)


def test_every_documented_error_has_the_one_error_shape(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Problem"]["properties"] == {"detail": {"title": "Detail", "type": "string"}}
    for path, method, operation in operations(client):
        for status, response in operation["responses"].items():
            if status.startswith("4") and status != "422":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path)
