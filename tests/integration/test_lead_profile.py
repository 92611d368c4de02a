"""Lead profile edits over HTTP, on SQLite and PostgreSQL: only what changes is recorded, bad
input is refused naming the field, the history names the fields (never their values), and
later sends use the new values, a new time zone included."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from domain.lead import Lead
from tests.conftest import api_client
from tests.integration.helpers import Harness, executions_of


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    yield api_client(h.rt)


def test_an_edit_records_the_fields_that_change_and_the_history_names_them(
        h: Harness, api: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    lead = h.crossing()
    path = f"/api/leads/{lead}"
    # When the agent edits her name and zone (and gives her email as it was)
    with caplog.at_level(logging.DEBUG):
        edited = api.patch(path, json={"name": "Ana Souza", "timezone": "America/Sao_Paulo",
                                       "email": "ana@example.com", "moveBy": "2027-02-01"})
    # Then
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["timezone"], body["moveBy"], body["email"]) == (
        "Ana Souza", "America/Sao_Paulo", "2027-02-01", "ana@example.com")
    assert api.get(path).json() == body
    h.settle()
    [entry] = [e for e in api.get(f"{path}/history").json() if e["kind"] == "Lead.ProfileEdited"]
    # (the fields by their names, and who edited them: here the tests' token)
    assert entry["summary"] == f"Profile edited by {entry['by']['name']}: name, timezone, moveBy"
    assert entry["by"]["name"].startswith("API token ")
    assert entry["data"]["changes"] == {"name": "Ana Souza", "timezone": "America/Sao_Paulo",
                                        "move_by": "2027-02-01"}
    assert "Souza" not in caplog.text  # no log line carries the values
    # An edit that changes nothing records nothing
    version = h.rt.app.load(Lead, lead).version
    assert api.patch(path, json={"name": "Ana Souza"}).status_code == 200
    assert api.patch(path, json={}).status_code == 200
    assert h.rt.app.load(Lead, lead).version == version


@pytest.mark.parametrize(("body", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"name": None}, "name"),
    ({"name": "   "}, "name"),
    ({"phone": "555"}, "phone"),
    ({"email": "not an address"}, "email"),
    ({"preferences": {"k": "x" * 1001}}, "preferences"),
    ({"score": 90}, "score"),
    ({"agentId": "agent-2"}, "agentId"),
    ({"moveBy": "soon"}, "moveBy"),
])
def test_a_bad_edit_is_refused_naming_the_field_and_changes_nothing(
        h: Harness, api: TestClient, body: dict[str, Any], field: str) -> None:
    lead = h.crossing()
    version = h.rt.app.load(Lead, lead).version
    refused = api.patch(f"/api/leads/{lead}", json={"email": "new@example.com", **body})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"][0]["field"].split(".")[:2] == ["body", field]
    assert h.rt.app.load(Lead, lead).version == version


def test_contacts_may_be_cleared_and_an_unknown_lead_is_404(h: Harness, api: TestClient) -> None:
    lead = h.crossing()
    cleared = api.patch(f"/api/leads/{lead}", json={"phone": None, "timeline": None})
    assert (cleared.json()["phone"], cleared.json()["timeline"]) == (None, None)
    assert api.patch(f"/api/leads/{uuid4()}", json={"name": "X"}).status_code == 404


def test_later_sends_use_the_new_name_and_address(h: Harness, api: TestClient) -> None:
    lead = h.crossing()
    api.patch(f"/api/leads/{lead}", json={"name": "Bea Lima", "email": "bea@example.com"})
    assert h.send_due() == ["sent"]
    [email] = h.channel.sent
    assert (email.recipient, email.subject) == ("bea@example.com", "Bea, new listings")


def test_a_new_time_zone_moves_the_later_steps_send_windows(h: Harness, api: TestClient) -> None:
    # Given Ana (Lisbon) crossing at 09:00 UTC: her email is due now, her text 60 min after it
    lead = h.crossing()
    h.settle()
    assert executions_of(h.rt.app, lead)[0].timezone == "Europe/Lisbon"
    # When she moves to Los Angeles before the email goes
    assert api.patch(f"/api/leads/{lead}",
                     json={"timezone": "America/Los_Angeles"}).status_code == 200
    assert h.send_due() == ["sent"]
    # Then the text, due at 10:00 UTC (02:00 in Los Angeles), waits for 08:00 there
    [execution] = executions_of(h.rt.app, lead)
    assert execution.timezone == "America/Los_Angeles"
    assert execution.steps[1].due_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    h.settle()
    summaries = [e["summary"] for e in api.get(f"/api/leads/{lead}/history").json()]
    assert any(s.startswith("Profile edited by ") and s.endswith(": timezone")
               for s in summaries)
    assert any(s.startswith("Times now in America/Los_Angeles") for s in summaries)
    assert any("08:00 America/Los_Angeles" in s for s in summaries)
