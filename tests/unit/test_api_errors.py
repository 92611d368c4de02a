"""Errors mapped to HTTP in one place: domain and application errors, wherever raised, get one
answer each (404, 409, 422 naming the field and where it was given), all in the one error shape,
and every 4xx a route can give is in the OpenAPI with that shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.errors import ApiError, ErrorResponse
from api.main import create_app
from application.errors import Conflict, Invalid, NotAllowed, NotFound, Refused
from domain.errors import InvalidState, InvalidValue


def shape(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None,
          details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message,
                      "fields": fields or [], "details": details or {}}}


def raising(error: Exception) -> TestClient:
    """An app whose one route raises ``error``: the mapping alone, as every route gets it."""
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route() -> None:
        raise error

    return TestClient(app)


@pytest.mark.parametrize(("error", "status", "body"), [
    (NotFound("Lead", "L1"), 404, shape(404, "not_found", "Lead L1 not found")),
    (NotAllowed("status", "execution is completed"), 409,
     shape(409, "not_allowed_now", "not allowed now: status: execution is completed",
           details={"field": "status", "reason": "execution is completed"})),
    (InvalidState("status", "execution is completed"), 409,
     shape(409, "not_allowed_now", "not allowed now: status: execution is completed",
           details={"field": "status", "reason": "execution is completed"})),
    (Invalid("trigger.scoreThreshold", "too low"), 422,
     shape(422, "invalid", "body.trigger.scoreThreshold: too low",
           [{"field": "body.trigger.scoreThreshold", "reason": "too low",
             "type": "value_error"}])),
    (InvalidValue("score", "must be between 0 and 100"), 422,
     shape(422, "invalid", "body.score: must be between 0 and 100",
           [{"field": "body.score", "reason": "must be between 0 and 100",
             "type": "value_error"}])),
    (Invalid("agentId", "unknown", where="query"), 422,
     shape(422, "invalid", "query.agentId: unknown",
           [{"field": "query.agentId", "reason": "unknown", "type": "value_error"}])),
    (Refused("moving would strand 1 execution", moveBlockedBy=[{"executionId": "X1"}]), 409,
     shape(409, "refused", "moving would strand 1 execution",
           details={"moveBlockedBy": [{"executionId": "X1"}]})),
    (ApiError(429, "rate_limited", "too many", headers={"Retry-After": "30"}), 429,
     shape(429, "rate_limited", "too many")),
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
    assert response.json() == shape(409, "busy", "the aggregate kept changing; try again")


def test_a_refused_body_is_never_echoed_so_a_lone_surrogate_cannot_break_the_answer() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route(body: dict[str, int]) -> None: ...

    response = TestClient(app).post("/x", content=b'{"\\ud800": NaN}',
                                    headers={"content-type": "application/json"})
    assert response.status_code == 422
    [field] = response.json()["error"]["fields"]
    assert set(field) == {"field", "reason", "type"}, "the input is not echoed"
    assert field["field"].startswith("body.")
    assert set(field["field"][5:]) == {"\ufffd"}, "the key is named, its surrogate replaced"


def draft(client: TestClient, template: str | None = None) -> dict[str, Any]:
    steps = [{"channel": "sms", "templateId": template}] if template else []
    return client.post("/api/workflows", json={"agentId": "a", "name": "w", "steps": steps,
                                               "trigger": {"scoreThreshold": 80}}).json()


@pytest.mark.parametrize("number", [0, -1, 99])
def test_a_version_that_does_not_exist_is_404(client: TestClient, number: int) -> None:
    workflow = draft(client)
    response = client.get(f"/api/workflows/{workflow['id']}/versions/{number}")
    assert response.status_code == 404
    assert response.json() == shape(404, "not_found",
                                    f"Workflow {workflow['id']} version {number} not found")


def test_an_action_the_state_does_not_allow_is_409_not_a_body_field(client: TestClient) -> None:
    # Given a workflow with no steps, when it is published (a request with no body)
    response = client.post(f"/api/workflows/{draft(client)['id']}/publish")
    # Then the state refuses it: 409 with a message, not a 422 on a field the request lacks
    assert response.status_code == 409
    assert response.json() == shape(
        409, "not_allowed_now", "not allowed now: steps: a workflow needs at least one step",
        details={"field": "steps", "reason": "a workflow needs at least one step"})


def test_rolling_back_to_a_missing_version_names_the_body_field(client: TestClient) -> None:
    sms = client.post("/api/templates", json={"name": "t", "channel": "sms",
                                              "body": "Hi"}).json()
    workflow = draft(client, sms["id"])
    client.post(f"/api/workflows/{workflow['id']}/publish")
    response = client.post(f"/api/workflows/{workflow['id']}/rollback", json={"version": 7})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body.version"
    response = client.post(f"/api/workflows/{workflow['id']}/rollback", json={"version": 1})
    assert response.status_code == 409
    assert "already the newest" in response.json()["error"]["message"]


def operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


#: POSTs that change nothing (so nothing can be in a state that refuses them), with why.
STORES_NOTHING = {"/api/templates/preview": "renders texts not saved yet; stores nothing"}


def test_every_4xx_a_route_can_give_is_documented(client: TestClient) -> None:
    for path, method, operation in operations(client):
        documented = set(operation["responses"])
        expected = set()
        if "{" in path:
            expected |= {"404", "422"}
        if method in {"post", "put"} and path not in STORES_NOTHING:
            expected.add("409")
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        assert expected <= documented, (method, path, expected - documented)


def test_every_documented_error_has_the_one_error_shape(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorResponse"]["properties"]) == {"error"}
    assert set(schemas["ErrorBody"]["required"]) == {"status", "code", "message", "fields",
                                                     "details"}
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for path, method, operation in operations(client):
        for status, response in operation["responses"].items():
            if status[0] in "45" and (path, status) != ("/health", "503"):
                content = response["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (
                    method, path, status)
                for example in content["examples"].values():  # each a body the API could give
                    body = ErrorResponse.model_validate(example["value"]).error
                    assert body.status == int(status), (method, path, status)


def test_the_codes_still_to_come_are_in_the_document(client: TestClient) -> None:
    codes = client.get("/openapi.json").json()["components"]["schemas"]["ErrorBody"][
        "properties"]["code"]["enum"]
    assert {"unauthenticated", "forbidden", "stale", "precondition_required",
            "rate_limited"} <= set(codes)


def test_an_api_error_keeps_its_headers() -> None:
    response = raising(ApiError(429, "rate_limited", "too many",
                                headers={"Retry-After": "30"})).post("/x")
    assert response.status_code == 429 and response.headers["Retry-After"] == "30"


def test_an_unknown_route_and_method_answer_in_the_one_shape(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == shape(404, "not_found", "Not Found")
    response = client.delete("/health")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert response.json() == shape(405, "method_not_allowed", "Method Not Allowed")


def test_a_405_names_every_method_of_the_path() -> None:
    # Given a path served by two routes, one per method (as GET and PATCH of a lead are)
    app = FastAPI()
    errors.install(app)
    app.get("/things/{ident}")(lambda ident: ident)
    app.patch("/things/{ident}")(lambda ident: ident)
    app.put("/other/{ident}")(lambda ident: ident)
    # When a method neither has is asked for
    response = TestClient(app).delete("/things/1")
    # Then Allow names both, as RFC 9110 asks of a 405
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PATCH"


def test_a_405_of_a_served_file_names_get_and_head(client: TestClient) -> None:
    response = client.delete("/assets/app/app.css")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_fault_answers_500_in_the_shape_and_logs_ids_only(
        caplog: pytest.LogCaptureFixture) -> None:
    # Given a route that fails with a person's address in the exception
    app = create_app(runtime=None)

    address = "ana" + "@example.com"

    def boom() -> None:
        raise RuntimeError(f"cannot reach {address}")

    app.add_api_route("/boom", boom)
    # When it is called
    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    # Then the answer is the shape, with an id to find the log line by, and nothing internal
    body = response.json()["error"]
    assert (response.status_code, body["code"]) == (500, "internal")
    error_id = body["details"]["errorId"]
    assert error_id in body["message"] and "ana@" not in response.text
    [record] = [r for r in caplog.records if r.name == "api.unhandled"]
    logged = record.getMessage()
    assert error_id in logged and "RuntimeError" in logged and "boom" in logged
    assert "ana@example.com" not in logged


def test_the_openapi_document_says_how_to_authenticate(client: TestClient) -> None:
    # (so /docs offers Authorize for a token, and clients generated from it send one)
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {"type": "http", "scheme": "bearer",
                                "description": schemes["token"]["description"]}
    assert schemes["session"]["in"] == "cookie"
    assert {"token": []} in document["paths"]["/api/leads"]["get"]["security"]
    assert "security" not in document["paths"]["/api/session"]["post"]  # signing in
