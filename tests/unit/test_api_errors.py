"""Errors mapped to HTTP in one place: domain and application errors, wherever raised, get one
answer each (404, 409, 422 naming the field and where it was given), all in the one error shape,
and every 4xx a route can give is in the OpenAPI with that shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import ValidationError, core_schema

from api import errors
from api.errors import ApiError, ErrorResponse
from api.main import create_app
from api.reasons import PATTERNS, REASONS, reason
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


# -- Refusals in plain words -----------------------------------------------------------------

class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="n", min_length=1, max_length=5)
    code: str = Field(default="abc", min_length=3)
    wait: int = Field(default=0, ge=0, le=525600)
    score: float = Field(default=1, gt=0, lt=100)
    scopes: list[str] = Field(default=["a"], min_length=1, max_length=2)
    pair: list[int] = Field(default=[1, 2], min_length=2)
    channel: Literal["email", "sms", "in_app"] = "sms"
    day: date = date(2027, 3, 1)
    at: datetime = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    start: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    other: str = Field(default="x", pattern=r"^x+$")
    visible: str = "x"
    flag: bool = True

    @field_validator("visible")
    @classmethod
    def _visible(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must contain a visible character")
        return value


class Needs(BaseModel):
    name: str


def refused(data: dict[str, Any]) -> list[dict[str, str]]:
    """The fields the API answers for ``data`` refused as a ``Shape`` (its 422's fields)."""
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route(body: Shape) -> None: ...

    response = TestClient(app).post("/x", json=data)
    assert response.status_code == 422
    return response.json()["error"]["fields"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("data", "field", "reason", "kind"), [
    ({"name": ""}, "body.name", "must not be empty", "string_too_short"),
    ({"code": "ab"}, "body.code", "must be at least 3 characters", "string_too_short"),
    ({"name": "toolong"}, "body.name", "must be at most 5 characters", "string_too_long"),
    ({"wait": 1.5}, "body.wait", "must be a whole number", "int_from_float"),
    ({"wait": "soon"}, "body.wait", "must be a whole number", "int_parsing"),
    ({"wait": 99999999999}, "body.wait", "must be at most 525600", "less_than_equal"),
    ({"wait": -1}, "body.wait", "must be at least 0", "greater_than_equal"),
    ({"score": 0}, "body.score", "must be more than 0", "greater_than"),
    ({"score": 100}, "body.score", "must be less than 100", "less_than"),
    ({"score": "x"}, "body.score", "must be a number", "float_parsing"),
    ({"scopes": []}, "body.scopes", "choose at least one", "too_short"),
    ({"scopes": ["a", "b", "c"]}, "body.scopes", "must have at most 2 items", "too_long"),
    ({"pair": [1]}, "body.pair", "must have at least 2 items", "too_short"),
    ({"channel": "fax"}, "body.channel", "must be one of: email, sms, in_app", "literal_error"),
    ({"day": "soon"}, "body.day", "must be a date such as 2027-03-01",
     "date_from_datetime_parsing"),
    ({"at": "soon"}, "body.at", "must be a date and time such as 2027-03-01T09:30:00Z",
     "datetime_from_date_parsing"),
    ({"start": "9am"}, "body.start", "must be a time of day such as 09:30",
     "string_pattern_mismatch"),
    ({"other": "y"}, "body.other", "is not in the expected form", "string_pattern_mismatch"),
    ({"visible": "  "}, "body.visible", "must contain a visible character", "value_error"),
    ({"flag": "perhaps"}, "body.flag", "must be true or false", "bool_parsing"),
    ({"what": 1}, "body.what", "is not a field of this request", "extra_forbidden"),
])
def test_a_refused_field_says_why_in_plain_words_and_keeps_pydantics_type(
        data: dict[str, Any], field: str, reason: str, kind: str) -> None:
    # Given a body with one wrong field, when it is sent
    [refusal] = refused(data)
    # Then the reason is for a person, the type for a client
    assert refusal == {"field": field, "reason": reason, "type": kind}


def test_a_missing_field_is_required_and_the_message_says_the_reasons() -> None:
    app = FastAPI()
    errors.install(app)

    @app.post("/x")
    def route(body: Needs) -> None: ...

    response = TestClient(app).post("/x", json={})
    assert response.json() == shape(422, "invalid", "body.name: is required", [
        {"field": "body.name", "reason": "is required", "type": "missing"}])


#: What pydantic needs to know of each kind of refusal to word it (its ``ctx``).
CONTEXTS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "string_too_short": st.fixed_dictionaries({"min_length": st.integers(1, 10_000)}),
    "string_too_long": st.fixed_dictionaries({"max_length": st.integers(0, 10_000)}),
    "string_pattern_mismatch": st.fixed_dictionaries({"pattern": st.sampled_from(
        [*PATTERNS, r"^x+$", r"\d"])}),
    "less_than_equal": st.fixed_dictionaries({"le": st.integers() | st.floats(allow_nan=False)}),
    "less_than": st.fixed_dictionaries({"lt": st.integers() | st.floats(allow_nan=False)}),
    "greater_than_equal": st.fixed_dictionaries({"ge": st.integers()
                                                 | st.floats(allow_nan=False)}),
    "greater_than": st.fixed_dictionaries({"gt": st.integers() | st.floats(allow_nan=False)}),
    "too_short": st.fixed_dictionaries({"field_type": st.sampled_from(["List", "Set", "Tuple"]),
                                        "min_length": st.integers(1, 100),
                                        "actual_length": st.integers(0, 100)}),
    "too_long": st.fixed_dictionaries({"field_type": st.sampled_from(["List", "Set", "Tuple"]),
                                       "max_length": st.integers(0, 100),
                                       "actual_length": st.integers(0, 100)}),
    "model_type": st.fixed_dictionaries({"class_name": st.sampled_from(["StepIn", "Delay"])}),
    "literal_error": st.lists(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), min_size=1,
                              max_size=5).map(lambda xs: {"expected": " or ".join(
                                  f"'{x}'" for x in xs)}),
    "enum": st.lists(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), min_size=1,
                     max_size=5).map(lambda xs: {"expected": " or ".join(f"'{x}'" for x in xs)}),
    **{kind: st.fixed_dictionaries({"error": st.sampled_from(["input is too short",
                                                                "invalid character"])})
       for kind in ("uuid_parsing", "date_parsing", "date_from_datetime_parsing",
                    "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid",
                    "json_invalid")},
    "value_error": st.from_regex(r"[a-z][a-z ]{0,30}", fullmatch=True).map(
        lambda m: {"error": ValueError(m)}),
    "assertion_error": st.from_regex(r"[a-z][a-z ]{0,30}", fullmatch=True).map(
        lambda m: {"error": AssertionError(m)}),
}
PYDANTIC_WORDS = ("Input should", "Value error", "String should", "List should",
                  "Assertion failed", "Field required", "Extra inputs")


def pydantic_error(kind: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One of pydantic's own errors of that kind, as a request's validation gives it."""
    line: Any = {"type": kind, "loc": ("body", "x"), "input": None}
    if ctx:
        line["ctx"] = ctx
    [error] = ValidationError.from_exception_data("Body", [line]).errors()
    return error  # type: ignore[return-value]


@given(st.sampled_from(sorted(REASONS)).flatmap(
    lambda kind: st.tuples(st.just(kind), CONTEXTS.get(kind, st.just({})))))
def test_every_kind_we_word_is_said_without_pydantics_words(case: tuple[str, dict[str, Any]]
                                                            ) -> None:
    kind, ctx = case
    said = reason(pydantic_error(kind, ctx))
    assert said and not any(words in said for words in PYDANTIC_WORDS), (kind, ctx, said)


@given(st.sampled_from(sorted(set(get_args(core_schema.ErrorType)) - set(REASONS))))
def test_a_kind_we_do_not_word_keeps_pydantics_message(kind: str) -> None:
    try:
        error = pydantic_error(kind, {})
    except TypeError:  # it needs a ctx of its own: not one a request of ours gives
        return
    assert reason(error) == error["msg"]


@pytest.mark.parametrize(("amount", "unit", "says"), [
    (99_999_999_999, "days", "must be at most 365 days"),
    (8761, "hours", "must be at most 8760 hours"),
    (525_601, "minutes", "must be at most 525600 minutes"),
])
def test_a_wait_too_long_is_refused_in_the_unit_the_agent_chose(
        client: TestClient, amount: int, unit: str, says: str) -> None:
    # Given a step's wait in days, hours or minutes, over the limit, when the draft is saved
    response = client.post("/api/workflows", json={
        "agentId": "a", "name": "w", "trigger": {"scoreThreshold": 80},
        "steps": [{"channel": "sms", "delay": {"amount": amount, "unit": unit}}]})
    # Then the limit is said in that unit, on the amount
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "body.steps[0].delay.amount", "reason": says, "type": "value_error"}]


def test_a_wait_at_the_limit_is_kept_in_minutes(client: TestClient) -> None:
    response = client.post("/api/workflows", json={
        "agentId": "a", "name": "w", "trigger": {"scoreThreshold": 80},
        "steps": [{"channel": "sms", "delay": {"amount": 365, "unit": "days"}}]})
    assert response.status_code == 201, response.text
    assert response.json()["steps"][0]["delayMinutes"] == 525_600
