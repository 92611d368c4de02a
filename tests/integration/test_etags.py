"""ETag and If-Match on drafts and templates, over HTTP on SQLite and PostgreSQL: a change
made to what was read at an older version is refused (412, nothing changes), one without
If-Match too (428), and of concurrent edits from the same version exactly one is kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from application.errors import StaleVersion
from domain.template import Template
from domain.workflow import Workflow
from tests.conftest import api_client
from tests.integration.helpers import Harness


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    yield api_client(h.rt)


def new_template(api: TestClient) -> str:
    created = api.post("/api/templates", json={"name": "t", "channel": "email",
                                               "subject": "Hi", "body": "one"})
    return f"/api/templates/{created.json()['id']}"


def new_workflow(api: TestClient) -> tuple[str, dict[str, Any]]:
    template = new_template(api).rsplit("/", 1)[1]
    draft = {"name": "w", "trigger": {"scoreThreshold": 70},
             "steps": [{"channel": "email", "templateId": template}]}
    created = api.post("/api/workflows", json={"agentId": "agent-1", **draft})
    return f"/api/workflows/{created.json()['id']}", draft


def edit(body: str) -> dict[str, Any]:
    return {"name": "t", "subject": "Hi", "body": body}


def test_a_template_edit_needs_the_current_etag_and_answers_the_new_one(api: TestClient) -> None:
    path = new_template(api)
    read = api.get(path)
    assert read.headers["ETag"] == '"1"' and read.json()["revision"] == 1
    # When edited with it
    saved = api.put(path, json=edit("two"), headers={"If-Match": read.headers["ETag"]})
    # Then the new revision, and the new ETag to edit it again
    assert saved.status_code == 200, saved.text
    assert (saved.json()["revision"], saved.json()["body"]) == (2, "two")
    assert saved.headers["ETag"] == api.get(path).headers["ETag"] == '"2"'
    # An edit from the old ETag is refused, saying the current one; nothing changes
    stale = api.put(path, json=edit("three"), headers={"If-Match": read.headers["ETag"]})
    assert stale.status_code == 412
    assert stale.json()["error"]["details"]["currentEtag"] == stale.headers["ETag"] == '"2"'
    assert '"2"' in stale.json()["error"]["message"]
    assert api.get(path).json()["body"] == "two"
    assert [r["number"] for r in api.get(f"{path}/revisions").json()] == [1, 2]


@pytest.mark.parametrize("header", [None, "W/\"1\"", "1", "\"x\"", ""])
def test_a_template_edit_without_a_strong_current_etag_changes_nothing(
        api: TestClient, header: str | None) -> None:
    path = new_template(api)
    headers = {} if header is None else {"If-Match": header}
    refused = api.put(path, json=edit("two"), headers=headers)
    # Then 428 naming the header when it is missing, else 412 (a weak or malformed tag never
    # matches)
    assert refused.status_code == (428 if header is None else 412), refused.text
    if header is None:
        assert "If-Match" in refused.json()["error"]["message"]
    assert api.get(path).json()["body"] == "one"


def test_if_match_may_list_tags_or_be_any(api: TestClient) -> None:
    path = new_template(api)
    assert api.put(path, json=edit("two"), headers={"If-Match": '"7", "1"'}).status_code == 200
    assert api.put(path, json=edit("three"), headers={"If-Match": "*"}).status_code == 200
    assert api.get(path).json()["revision"] == 3


def test_a_draft_edit_needs_the_current_etag(api: TestClient) -> None:
    path, draft = new_workflow(api)
    etag = api.get(path).headers["ETag"]
    assert api.put(path, json=draft | {"name": "w2"}).status_code == 428
    saved = api.put(path, json=draft | {"name": "w2"}, headers={"If-Match": etag})
    assert saved.status_code == 200 and saved.json()["name"] == "w2"
    assert saved.headers["ETag"] != etag == '"1"'
    # A publish since the read also makes the read stale
    assert api.post(f"{path}/publish").status_code == 200
    stale = api.put(path, json=draft | {"name": "w3"},
                    headers={"If-Match": saved.headers["ETag"]})
    assert stale.status_code == 412
    assert stale.json()["error"]["details"]["currentEtag"] == api.get(path).headers["ETag"]
    assert api.get(path).json()["name"] == "w2"


@pytest.mark.parametrize("kind", ["template", "draft"])
def test_of_concurrent_edits_from_one_etag_exactly_one_is_kept(
        api: TestClient, h: Harness, kind: str) -> None:
    # Given a template (or a draft) read by eight clients
    if kind == "template":
        path, body = new_template(api), lambda i: edit(f"client {i}")
    else:
        path, draft = new_workflow(api)
        body = lambda i: draft | {"name": f"client {i}"}  # noqa: E731
    etag = api.get(path).headers["ETag"]
    answers: dict[int, Any] = {}
    start = threading.Barrier(8)

    def client(i: int) -> None:
        start.wait()
        answers[i] = api.put(path, json=body(i), headers={"If-Match": etag})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then one wins, the others are told they are stale, and the stored state is the winner's
    [winner] = [i for i, r in answers.items() if r.status_code == 200]
    assert sorted(r.status_code for r in answers.values()) == [200] + [412] * 7
    kept = api.get(path).json()
    assert kept["body" if kind == "template" else "name"] == f"client {winner}"
    aggregate = Template if kind == "template" else Workflow
    assert h.rt.app.load(aggregate, UUID(path.rsplit("/", 1)[1])).version == 2


def test_an_edit_that_loses_the_race_after_reading_is_refused_not_stored(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a template two clients read at version 1
    app = h.rt.app
    template = app.create_template(name="t", channel="sms", body="one")
    original = Template.revise
    raced: list[int] = []

    def revise_racing(self: Template, **kw: Any) -> int:
        if not raced:  # client A saves between client B's read and B's save
            raced.append(1)
            app.revise_template(template, name="t", subject=None, body="A", if_match={1})
        return original(self, **kw)

    monkeypatch.setattr(Template, "revise", revise_racing)
    # When client B saves from version 1
    with pytest.raises(StaleVersion) as refused:
        app.revise_template(template, name="t", subject=None, body="B", if_match={1})
    # Then B's save conflicted, was retried on the reloaded template, and refused: A's stays
    assert refused.value.current == 2
    assert [r.body for r in app.load(Template, template).revisions] == ["one", "A"]
