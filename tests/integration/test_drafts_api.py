"""The builder's API on SQLite and PostgreSQL: a draft's problems (the checks publishing makes),
undo and redo across a new process, a step that waits for its template, and a copy of a
workflow."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_client
from tests.integration.helpers import Harness


@pytest.fixture
def api(h: Harness) -> TestClient:
    return api_client(h.rt)


def templates(api: TestClient) -> dict[str, str]:
    made = {}
    for channel in ("email", "sms", "in_app"):
        body = {"name": f"{channel} hello", "channel": channel, "body": "Hi {{ lead.first_name }}"}
        if channel != "sms":
            body["subject"] = "Hello"
        made[channel] = api.post("/api/templates", json=body).json()["id"]
    return made


def workflow(api: TestClient, steps: list[dict[str, Any]], name: str = "Hot") -> dict[str, Any]:
    response = api.post("/api/workflows", json={"agentId": "agent-1", "name": name,
                                                "trigger": {"scoreThreshold": 80},
                                                "steps": steps})
    assert response.status_code == 201, response.text
    return dict(response.json())


def etag(api: TestClient, workflow_id: str) -> str:
    return str(api.get(f"/api/workflows/{workflow_id}").headers["ETag"])


def edit(api: TestClient, found: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"name": found["name"], "trigger": {"scoreThreshold": 80},
            "steps": [{k: s[k] for k in ("channel", "templateId", "delayMinutes")}
                      for s in found["steps"]]} | changes
    response = api.put(f"/api/workflows/{found['id']}", json=body,
                       headers={"If-Match": etag(api, found["id"])})
    assert response.status_code == 200, response.text
    return dict(response.json())


def take_back(api: TestClient, workflow_id: str, action: str, tag: str | None = None) -> Any:
    """POST undo or redo with If-Match (the current ETag unless ``tag``)."""
    return api.post(f"/api/workflows/{workflow_id}/{action}",
                    headers={"If-Match": tag or etag(api, workflow_id)})


def problems(api: TestClient, workflow_id: str) -> list[tuple[str, str]]:
    response = api.get(f"/api/workflows/{workflow_id}/problems")
    assert response.status_code == 200, response.text
    return [(p["field"], p["reason"]) for p in response.json()["problems"]]


def test_a_step_may_wait_for_its_template_and_its_problem_names_it(api: TestClient) -> None:
    # Given a draft whose second step has no template yet, and a third of the wrong channel
    t = templates(api)
    found = workflow(api, [{"channel": "email", "templateId": t["email"]},
                           {"channel": "sms"},
                           {"channel": "in_app", "templateId": t["email"]}])
    assert found["steps"][1]["templateId"] is None
    # When / Then: every problem, by field
    assert problems(api, found["id"]) == [
        ("steps[1].templateId", "a step needs a template"),
        ("steps[2].templateId", "template is for email, step is in_app")]
    # And publishing refuses the first of them, the same words
    refused = api.post(f"/api/workflows/{found['id']}/publish")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"].endswith(
        "steps[1].templateId: a step needs a template")
    assert api.get(f"/api/workflows/{found['id']}/publish-preview").json()["problem"] == {
        "field": "steps[1].templateId", "reason": "a step needs a template"}
    # When both are fixed
    fixed = edit(api, found, steps=[{"channel": "email", "templateId": t["email"]},
                                    {"channel": "sms", "templateId": t["sms"]},
                                    {"channel": "in_app", "templateId": t["in_app"]}])
    # Then there is none, and it publishes
    assert problems(api, fixed["id"]) == []
    assert api.post(f"/api/workflows/{fixed['id']}/publish").json()["version"] == 1


def test_a_draft_without_steps_has_that_problem(api: TestClient) -> None:
    found = workflow(api, [])
    assert problems(api, found["id"]) == [("steps", "a workflow needs at least one step")]


def test_undo_and_redo_survive_a_new_process(h: Harness, api: TestClient) -> None:
    # Given a draft edited twice (a delay, then a name)
    t = templates(api)
    found = workflow(api, [{"channel": "email", "templateId": t["email"]}])
    assert (found["canUndo"], found["canRedo"]) == (False, False)
    once = edit(api, found, steps=[{"channel": "email", "templateId": t["email"],
                                    "delayMinutes": 30}])
    twice = edit(api, once, name="Warm")
    assert twice["canUndo"] is True
    # When the last edit is undone
    undone = take_back(api, found["id"], "undo")
    # Then the draft is the one before it
    assert undone.status_code == 200
    assert (undone.json()["name"], undone.json()["steps"][0]["delayMinutes"]) == ("Hot", 30)
    assert (undone.json()["canUndo"], undone.json()["canRedo"]) == (True, True)
    # And a new process (the page reloaded, the server restarted) can redo it
    h.restart()
    again = api_client(h.rt)
    assert again.get(f"/api/workflows/{found['id']}").json()["canRedo"] is True
    redone = take_back(again, found["id"], "redo")
    assert redone.status_code == 200 and redone.json()["name"] == "Warm"
    assert redone.json()["canRedo"] is False


def test_undo_or_redo_with_nothing_to_take_back_is_409_and_changes_nothing(
        api: TestClient) -> None:
    # Given a draft never edited
    found = workflow(api, [])
    for action in ("undo", "redo"):
        # When / Then
        response = take_back(api, found["id"], action)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "not_allowed_now"
    assert api.get(f"/api/workflows/{found['id']}").json() == found


def test_a_new_edit_after_an_undo_leaves_nothing_to_redo(api: TestClient) -> None:
    # Given an undone edit
    found = workflow(api, [])
    edit(api, found, name="Warm")
    take_back(api, found["id"], "undo")
    # When another edit is made
    after = edit(api, found, name="Cold")
    # Then the undone one is gone
    assert after["canRedo"] is False
    assert take_back(api, found["id"], "redo").status_code == 409


def test_undo_and_redo_need_the_current_etag(api: TestClient) -> None:
    # Given a draft edited once, read at its ETag, then edited again elsewhere
    found = workflow(api, [])
    edit(api, found, name="Warm")
    read = etag(api, found["id"])
    edit(api, found, name="Cold")
    # When undo comes from the older read, or with no If-Match at all
    stale = take_back(api, found["id"], "undo", read)
    missing = api.post(f"/api/workflows/{found['id']}/undo")
    # Then 412 naming the current ETag, 428, and the draft is as the last edit left it
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "stale"
    assert stale.json()["error"]["details"]["currentEtag"] == etag(api, found["id"])
    assert missing.status_code == 428
    assert api.get(f"/api/workflows/{found['id']}").json()["name"] == "Cold"
    # And an undo's answer carries the ETag the next change needs
    undone = take_back(api, found["id"], "undo")
    assert undone.headers["ETag"] == etag(api, found["id"]) != stale.json()["error"][
        "details"]["currentEtag"]
    assert take_back(api, found["id"], "redo", undone.headers["ETag"]).status_code == 200


def test_duplicate_copies_the_draft_into_a_new_workflow(api: TestClient) -> None:
    # Given a published workflow with a draft edited since
    t = templates(api)
    found = workflow(api, [{"channel": "email", "templateId": t["email"]}])
    api.post(f"/api/workflows/{found['id']}/publish")
    edited = edit(api, found, steps=[{"channel": "email", "templateId": t["email"]},
                                     {"channel": "sms", "templateId": t["sms"],
                                      "delayMinutes": 60}])
    # When it is duplicated, once with a name of its own and once without
    copy = api.post(f"/api/workflows/{found['id']}/duplicate")
    named = api.post(f"/api/workflows/{found['id']}/duplicate", json={"name": "Mine"})
    # Then each is a new draft with the draft's steps, for the same agent, nothing published
    assert copy.status_code == named.status_code == 201
    body = copy.json()
    assert body["id"] != found["id"] and body["name"] == "Copy of Hot"
    assert body["steps"] == edited["steps"] and body["trigger"] == edited["trigger"]
    assert (body["status"], body["versions"], body["agentId"]) == ("draft", [], "agent-1")
    assert named.json()["name"] == "Mine"
    # And the original is unchanged
    assert api.get(f"/api/workflows/{found['id']}").json()["versions"][0]["number"] == 1


def test_duplicate_refuses_a_bad_name_naming_the_field(api: TestClient) -> None:
    found = workflow(api, [])
    response = api.post(f"/api/workflows/{found['id']}/duplicate", json={"name": "  "})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["body.name"]
