"""The editor's live preview: texts not saved yet, checked as a save checks them (a mistake
named with its line), rendered for a lead the caller may see or for a sample lead; nothing
stored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from domain.template import MAX_BODY

PREVIEW = "/api/templates/preview"


def lead(client: TestClient, **extra: Any) -> str:
    body = {"agentId": "agent-1", "name": "Lia Costa", "email": "lia@example.com",
            "timezone": "Europe/Lisbon", "preferences": {"area": "Alfama"}, **extra}
    response = client.post("/api/leads", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_unsaved_text_renders_for_a_chosen_lead_and_for_the_sample(
        client: TestClient, runtime: Any) -> None:
    lia = lead(client)
    before = runtime.app.recorder.max_notification_id()
    text = {"channel": "email", "subject": "Hi {{ lead.first_name }}",
            "body": "Homes in {{ lead.preferences.area | default('your area') }}"}
    for_lia = client.post(PREVIEW, json=text | {"leadId": lia})
    assert for_lia.status_code == 200, for_lia.text
    assert for_lia.json() == {"subject": "Hi Lia", "body": "Homes in Alfama", "skipped": None}
    sample = client.post(PREVIEW, json=text).json()
    assert sample["subject"] == "Hi Sample" and sample["body"] == "Homes in Downtown"
    assert runtime.app.recorder.max_notification_id() == before  # nothing stored


def test_a_value_the_lead_lacks_says_the_step_would_be_skipped(client: TestClient) -> None:
    lia = lead(client, preferences={})
    answer = client.post(PREVIEW, json={"channel": "sms", "leadId": lia,
                                        "body": "In {{ lead.preferences.area }}"}).json()
    assert answer["body"] is None
    assert answer["skipped"] == ("the lead has no preference 'area' and the template gives no "
                                 "default")


def test_a_syntax_error_is_named_with_its_line(client: TestClient) -> None:
    response = client.post(PREVIEW, json={"channel": "email", "subject": "Hi",
                                          "body": "Hello\n\n{{ lead.name }\nBye"})
    assert response.status_code == 422
    [error] = response.json()["error"]["fields"]
    assert error["field"] == "body.body" and error["line"] == 3
    assert error["reason"].startswith("template syntax error on line 3:")


def test_an_unknown_variable_in_the_subject_is_named_with_its_line(client: TestClient) -> None:
    response = client.post(PREVIEW, json={"channel": "email", "subject": "{{ lead.nmae }}",
                                          "body": "ok"})
    [error] = response.json()["error"]["fields"]
    assert error["field"] == "body.subject" and error["line"] == 1
    assert "lead.nmae (line 1)" in error["reason"]


def test_a_field_error_without_a_line_carries_no_line_key(client: TestClient) -> None:
    response = client.post(PREVIEW, json={"channel": "fax", "body": "x"})
    assert response.status_code == 422
    assert "line" not in response.json()["error"]["fields"][0]


def test_texts_are_bounded_as_saves_are(client: TestClient) -> None:
    response = client.post(PREVIEW, json={"channel": "email", "body": "x" * (MAX_BODY + 1)})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body.body"


def test_another_brokerages_lead_is_not_found(client: TestClient, runtime: Any) -> None:
    lia = lead(client)
    other = runtime.app.open_brokerage("globex", "Globex Realty")
    runtime.app.create_user(brokerage_id=other, email="gus@globex.test", name="Gus",
                            role="agent", password="correct horse battery")
    browser = TestClient(create_app(runtime))
    signed = browser.post("/api/session", json={"email": "gus@globex.test",
                                                "password": "correct horse battery"})
    browser.headers["X-CSRF-Token"] = signed.json()["csrfToken"]
    response = browser.post(PREVIEW, json={"channel": "email", "body": "Hi", "leadId": lia})
    assert response.status_code == 404
    assert browser.post(PREVIEW, json={"channel": "email", "body": "Hi"}).status_code == 200
