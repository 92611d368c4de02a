"""Arbitrary input through the real HTTP app, on SQLite and on PostgreSQL: whatever the body
(huge or deep numbers, NaN, NUL and lone surrogates, invisible names, odd time zones, values of
the wrong type, bodies that are not objects at all), no request answers 5xx or a status its
route does not document, and every follower moves past everything that was accepted."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import api_client
from tests.integration.helpers import Harness
from tests.integration.seeded import seed

ODD_TEXT = st.text(st.characters(max_codepoint=0x1F) | st.characters(min_codepoint=0xD800,
                                                                      max_codepoint=0xDFFF)
                   | st.sampled_from("a \u200b\u2060\u00a0\t\n"), max_size=4)
WORDS = st.sampled_from(["localtime", "Factory", "posixrules", "UTC", "Europe/Lisbon", "50",
                         "true", "", "   ", "email", "sms", "lost", "1e400"])
NUMBERS = (st.integers(-2**70, 2**70)
           | st.sampled_from([0, 1, 100, 2**53 - 1, 2**53, 2**63, 2**64, -2**63 - 1])
           | st.floats())
LEAVES = NUMBERS | st.booleans() | st.none() | st.text(max_size=10) | ODD_TEXT | WORDS
KEYS = st.text(max_size=6) | ODD_TEXT | WORDS
TREES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(KEYS, inner, max_size=3), max_leaves=8)


def nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"a": value}
    return value


HOSTILE = (TREES | st.builds(nest, TREES, st.integers(0, 300))
           | st.builds(lambda n: {"k": "x" * n}, st.sampled_from([1000, 1001, 20_000, 300_000])))


def routes(ids: dict[str, str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, documented path, path, a valid body) for every route that takes input."""
    lead, workflow, execution = ids["lead_id"], ids["workflow_id"], ids["execution_id"]
    steps = [{"channel": "email", "templateId": ids["template_id"]}]
    definition = {"name": "w", "trigger": {"scoreThreshold": 70}, "steps": steps}
    reason = {"reason": "agent"}
    return [
        ("post", "/api/leads", "/api/leads", {"agentId": "agent-1", "name": "Lead", "score": 50}),
        ("patch", "/api/leads/{lead_id}", f"/api/leads/{lead}",
         {"name": "Lead", "timezone": "America/New_York", "source": "zillow"}),
        ("post", "/api/leads/{lead_id}/score", f"/api/leads/{lead}/score", {"score": 60}),
        ("post", "/api/leads/{lead_id}/status", f"/api/leads/{lead}/status",
         {"status": "nurturing"}),
        ("post", "/api/leads/{lead_id}/consent", f"/api/leads/{lead}/consent",
         {"channel": "sms", "allowed": False}),
        ("post", "/api/templates", "/api/templates",
         {"name": "t", "channel": "sms", "body": "Hi {{ lead.first_name }}"}),
        ("put", "/api/templates/{template_id}", f"/api/templates/{ids['template_id']}",
         {"name": "t", "subject": "Hi", "body": "Hello {{ lead.first_name }}"}),
        ("post", "/api/workflows", "/api/workflows", definition | {"agentId": "agent-1"}),
        ("put", "/api/workflows/{workflow_id}", f"/api/workflows/{workflow}", definition),
        ("post", "/api/workflows/{workflow_id}/publish", f"/api/workflows/{workflow}/publish",
         {"backfill": True}),
        ("post", "/api/workflows/{workflow_id}/rollback", f"/api/workflows/{workflow}/rollback",
         {"version": 1}),
        ("post", "/api/workflows/{workflow_id}/pause", f"/api/workflows/{workflow}/pause", reason),
        *[("post", f"/api/executions/{{execution_id}}/{action}",
           f"/api/executions/{execution}/{action}", reason)
          for action in ("pause", "skip", "cancel", "restart")],
        ("post", "/api/executions/{execution_id}/resume",
         f"/api/executions/{execution}/resume", {"policy": "shift"}),
        ("post", "/api/dead-letters/replay", "/api/dead-letters/replay", {"limit": 10}),
    ]


TEXT = st.text(max_size=30) | ODD_TEXT | WORDS
#: Per field, values near what it accepts (so many requests are accepted and stored) and far.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(["agentId", "name", "email", "phone", "timeline", "externalId", "source",
                     "moveBy", "reason", "subject", "body", "migrate", "policy", "workflowId",
                     "status", "channel"], TEXT),
    "timezone": WORDS | st.sampled_from(["America/New_York", "Asia/Kolkata", "Etc/GMT+5"]),
    "preferences": st.dictionaries(KEYS, TREES, max_size=4) | HOSTILE,
    **dict.fromkeys(["score", "version", "limit"], NUMBERS | LEAVES),
    **dict.fromkeys(["allowed", "businessDaysOnly", "backfill"], st.booleans() | LEAVES),
    **dict.fromkeys(["trigger", "steps", "sendWindows"], HOSTILE),
}


@st.composite
def requests(draw: st.DrawFn, ids: dict[str, str]) -> tuple[str, str, str, Any]:
    """A route and a body: its valid body with some fields given other values (a condition's
    value among them), or any value at all."""
    method, documented, path, body = draw(st.sampled_from(routes(ids)))
    if draw(st.integers(0, 9)) == 0:
        return method, documented, path, draw(HOSTILE)
    body = dict(body)
    for field in draw(st.lists(st.sampled_from([*body, *FIELDS]), max_size=3)):
        body[field] = draw(FIELDS.get(field, HOSTILE))
    if "trigger" in body and draw(st.booleans()):
        body["trigger"] = {"scoreThreshold": 70, "conditions": [
            {"field": draw(st.sampled_from(["preferences.k", "score", "source"])),
             "op": draw(st.sampled_from(["eq", "ne", "in", "gte", "lte"])),
             "value": draw(TREES)}]}
    return method, documented, path, body


def documented(client: TestClient) -> dict[tuple[str, str], set[int]]:
    paths = client.get("/openapi.json").json()["paths"]
    return {(method, path): {int(code) for code in operation["responses"]}
            for path, item in paths.items() for method, operation in item.items()}


def assert_followers_moved_past_the_log(h: Harness) -> None:
    """Each follower catches up (none fails on what was stored), and then none of the events it
    follows lies beyond its position: it reached the log's head for its own topics."""
    recorder = h.rt.app.recorder
    for name, follower in h.followers.items():
        follower.catch_up()
        position = follower.consumer.position()
        behind = recorder.select_notifications(start=position, limit=1,
                                               topics=list(follower.consumer.topics),
                                               inclusive_of_start=False)
        assert behind == [], (name, position, recorder.max_notification_id())


def test_no_input_answers_5xx_or_stops_a_follower(h: Harness) -> None:
    ids = seed(h)
    client = api_client(h.rt, raise_server_exceptions=False)
    statuses = documented(client)
    # The dead-letter list's query string, on its own
    for agent in ("a\x00b", "x" * 101):
        response = client.get("/api/dead-letters", params={"agentId": agent})
        assert response.status_code in statuses["get", "/api/dead-letters"] - {200}

    @given(st.data())
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    def requests_answered(data: st.DataObject) -> None:
        method, route, path, body = data.draw(requests(ids))
        # A change that needs If-Match gets "*" (any version), so its body is what is tried
        response = client.request(method, path, content=json.dumps(body).encode(),
                                  headers={"content-type": "application/json",
                                           "if-match": "*"})
        assert response.status_code < 500, (method, path, response.text)
        assert response.status_code in statuses[method, route], (method, route, response.text)
        assert_followers_moved_past_the_log(h)

    requests_answered()
    assert_followers_moved_past_the_log(h)
