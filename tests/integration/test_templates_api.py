"""Templates over HTTP: preview for a real lead, the variables list, and a costly template
refused while the API goes on answering."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient


def template(client: TestClient, body: str) -> Any:
    return client.post("/api/templates", json={"name": "t", "channel": "email",
                                               "subject": "Hi {{ lead.first_name }}",
                                               "body": body})


def lead(client: TestClient, preferences: dict[str, Any]) -> str:
    created = client.post("/api/leads", json={"agentId": "a1", "name": "Ana Lima",
                                              "email": "ana@example.com",
                                              "preferences": preferences})
    return str(created.json()["id"])


def test_preview_renders_for_the_lead_asked_for(client: TestClient) -> None:
    saved = template(client, "Homes in {{ lead.preferences.area }}")
    assert saved.status_code == 201
    preview = f"/api/templates/{saved.json()['id']}/preview"
    # Without a lead, the sample lead; with one, hers
    assert client.get(preview).json() == {"subject": "Hi Sample", "body": "Homes in Downtown",
                                          "skipped": None}
    uptown = lead(client, {"area": "Uptown"})
    assert client.get(preview, params={"leadId": uptown}).json() == {
        "subject": "Hi Ana", "body": "Homes in Uptown", "skipped": None}
    # A lead without the area: the step would be skipped, and the preview says why
    nowhere = lead(client, {})
    assert client.get(preview, params={"leadId": nowhere}).json() == {
        "subject": None, "body": None,
        "skipped": "the lead has no preference 'area' and the template gives no default"}


def test_preview_for_an_unknown_lead_is_404_and_for_a_bad_id_422(client: TestClient) -> None:
    saved = template(client, "Hi")
    preview = f"/api/templates/{saved.json()['id']}/preview"
    assert client.get(preview, params={"leadId": str(uuid4())}).status_code == 404
    refused = client.get(preview, params={"leadId": "nope"})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "query.leadId"


def test_a_template_may_use_any_preference_key(client: TestClient) -> None:
    # The sample lead has no "pool": the template is still saved (leads differ in their keys)
    assert template(client, "With a {{ lead.preferences.pool }}").status_code == 201
    refused = template(client, "{{ lead.nmae }}")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "body.body"


def test_the_variables_a_template_may_use_are_listed(client: TestClient) -> None:
    listed = client.get("/api/templates/variables")
    assert listed.status_code == 200
    names = [v["name"] for v in listed.json()]
    assert names == ["lead.name", "lead.first_name", "lead.timeline",
                     "lead.preferences.<key>", "agent.id"]
    assert all(v["description"] for v in listed.json())


COSTLY = ["{{ (((9**64)**64)**64)**64 }}",
          "{% for i in range(1000) %}{% for j in range(1000) %}{{ j }}{% endfor %}{% endfor %}",
          "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
          "{{ f(40) }}"]


def test_costly_templates_are_refused_while_the_api_answers_other_requests(
        client: TestClient) -> None:
    # Given costly templates being saved, each in its own thread
    saved: dict[str, Any] = {}
    savers = [threading.Thread(target=lambda t=text: saved.update({t: template(client, t)}))
              for text in COSTLY]
    for saver in savers:
        saver.start()
    # When another request comes in meanwhile, it is answered
    assert client.get("/health").status_code == 200
    for saver in savers:
        saver.join(timeout=60)
    # Then every costly template was refused, naming the field
    for text in COSTLY:
        assert saved[text].status_code == 422, text
        assert saved[text].json()["error"]["fields"][0]["field"] == "body.body"


def test_an_edit_is_a_new_revision_read_back_with_its_number(client: TestClient) -> None:
    saved = template(client, "Hi {{ lead.first_name }}")
    path = f"/api/templates/{saved.json()['id']}"
    etag = client.get(path).headers["ETag"]
    edited = client.put(path, json={"name": "t2", "subject": "Yo", "body": "Bye"},
                        headers={"If-Match": etag})
    assert edited.status_code == 200 and edited.json()["revision"] == 2
    assert client.get(f"{path}/revisions/1").json()["body"] == "Hi {{ lead.first_name }}"
    second = client.get(f"{path}/revisions/2").json()
    assert (second["number"], second["name"], second["subject"]) == (2, "t2", "Yo")
    assert second["by"].startswith("token:")  # who acted: the tests' integration token
    assert client.get(f"{path}/preview", params={"revision": 1}).json()["body"] == "Hi Sample"
    assert client.get(f"{path}/preview").json()["body"] == "Bye"
    for missing in (f"{path}/revisions/3", f"{path}/revisions/0",
                    f"/api/templates/{uuid4()}/revisions", f"/api/templates/{uuid4()}/usage"):
        assert client.get(missing).status_code == 404, missing
    assert client.get(f"{path}/preview", params={"revision": 3}).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "t", "subject": "Hi", "body": "{{ lead.nmae }}"}, "body"),
    ({"name": "t", "subject": "", "body": "Hi"}, "subject"),
    ({"name": " ", "subject": "Hi", "body": "Hi"}, "name"),
    ({"name": "t", "subject": "Hi", "body": "Hi", "channel": "sms"}, "channel"),
])
def test_a_refused_edit_names_the_field_and_stores_nothing(
        client: TestClient, body: dict[str, Any], field: str) -> None:
    path = f"/api/templates/{template(client, 'Hi').json()['id']}"
    refused = client.put(path, json=body, headers={"If-Match": '"1"'})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"][0]["field"].split(".")[-1] == field
    assert client.get(path).headers["ETag"] == '"1"'
