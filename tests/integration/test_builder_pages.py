"""The workflows pages over HTTP on SQLite and PostgreSQL: creating and duplicating by form (the
page's CSRF token needed), the builder for the workflow's owner alone, and the templates its
steps may use (the agent's own and the brokerage's, nobody else's)."""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.integration.helpers import Harness

PASSWORD = "correct horse battery"


@pytest.fixture
def acme(h: Harness) -> dict[str, Any]:
    """Acme: agents Ann and Bob, each with a template, and one of the brokerage's own; Globex:
    an agent with a template."""
    app = h.rt.app
    acme, globex = app.open_brokerage("acme", "Acme"), app.open_brokerage("globex", "Globex")
    users = {name: app.create_user(brokerage_id=b, email=f"{name}@x.test", name=name.title(),
                                   role="agent", password=PASSWORD)
             for name, b in (("ann", acme), ("bob", acme), ("gus", globex))}
    made = {name: app.create_template(name=f"{name}'s text", channel="sms", body="Hi",
                                      brokerage_id=b, agent_id=users[name].agent_id)
            for name, b in (("ann", acme), ("bob", acme), ("gus", globex))}
    made["acme"] = app.create_template(name="Acme welcome", channel="email", subject="Hello",
                                       body="Hi", brokerage_id=acme)
    return {"acme": acme, "users": users, "templates": made}


def browser(h: Harness, who: str) -> tuple[TestClient, str]:
    """A signed-in browser and its page CSRF token."""
    web = TestClient(create_app(h.rt), follow_redirects=False)
    response = web.post("/api/session", json={"email": f"{who}@x.test", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return web, response.json()["csrfToken"]


def created(response: Any) -> UUID:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/workflows/([0-9a-f-]{36})", response.headers["location"])
    assert match, response.headers["location"]
    return UUID(match.group(1))


def test_the_form_creates_a_draft_of_the_agent_and_opens_the_builder(
        h: Harness, acme: dict[str, Any]) -> None:
    # Given Ann signed in
    web, csrf = browser(h, "ann")
    # When she posts the new workflow's form
    workflow = created(web.post("/workflows", data={"name": " Hot leads ", "csrf": csrf}))
    # Then it is her draft, threshold 80, no steps
    view = h.rt.app.workflow(workflow)
    assert (view.name, view.agent_id, view.status) == ("Hot leads",
                                                        acme["users"]["ann"].agent_id, "draft")
    assert view.trigger.score_threshold == 80 and view.steps == []
    # And the builder page opens on it
    page = web.get(f"/workflows/{workflow}")
    assert page.status_code == 200 and 'data-workflow-id="' + str(workflow) in page.text


def test_the_form_without_its_token_creates_nothing(h: Harness, acme: dict[str, Any]) -> None:
    web, _ = browser(h, "ann")
    response = web.post("/workflows", data={"name": "Hot leads", "csrf": "wrong"})
    assert response.status_code == 403
    assert h.rt.app.recorder.select_notifications(
        1, 10, topics=["followup.workflow.created"]) == []


def test_a_name_with_nothing_to_show_is_refused_on_the_form(h: Harness,
                                                            acme: dict[str, Any]) -> None:
    web, csrf = browser(h, "ann")
    response = web.post("/workflows", data={"name": "   ", "csrf": csrf})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text and "Name must not be empty." in response.text


def test_duplicate_opens_the_copy(h: Harness, acme: dict[str, Any]) -> None:
    web, csrf = browser(h, "ann")
    workflow = created(web.post("/workflows", data={"name": "Hot", "csrf": csrf}))
    copy = created(web.post(f"/workflows/{workflow}/duplicate", data={"csrf": csrf}))
    assert copy != workflow and h.rt.app.workflow(copy).name == "Copy of Hot"
    assert web.post(f"/workflows/{workflow}/duplicate", data={}).status_code == 403


def test_another_agents_workflow_is_not_found_and_not_copied(h: Harness,
                                                             acme: dict[str, Any]) -> None:
    ann, csrf = browser(h, "ann")
    workflow = created(ann.post("/workflows", data={"name": "Hot", "csrf": csrf}))
    bob, bob_csrf = browser(h, "bob")
    assert bob.get(f"/workflows/{workflow}").status_code == 404
    assert bob.post(f"/workflows/{workflow}/duplicate",
                    data={"csrf": bob_csrf}).status_code == 404
    assert bob.get("/workflows/not-an-id").status_code == 404


def test_the_builder_offers_the_templates_the_workflows_agent_may_use(
        h: Harness, acme: dict[str, Any]) -> None:
    # Given Ann's workflow
    web, csrf = browser(h, "ann")
    workflow = created(web.post("/workflows", data={"name": "Hot", "csrf": csrf}))
    # When she opens the builder
    page = web.get(f"/workflows/{workflow}").text
    # Then its picker has her own template and the brokerage's, not Bob's nor Globex's
    data = re.search(r'<script type="application/json" id="template-choices">(.*?)</script>',
                     page, re.S)
    assert data is not None
    offered = {t["id"]: (t["name"], t["channel"]) for t in json.loads(data.group(1))}
    made = acme["templates"]
    assert offered == {str(made["acme"]): ("Acme welcome", "email"),
                       str(made["ann"]): ("ann's text", "sms")}


def test_a_template_name_cannot_break_out_of_the_pages_data(h: Harness,
                                                            acme: dict[str, Any]) -> None:
    # Given a template whose name would close the data block
    h.rt.app.create_template(name="</script><b>x", channel="sms", body="Hi",
                             brokerage_id=acme["acme"])
    web, csrf = browser(h, "ann")
    workflow = created(web.post("/workflows", data={"name": "Hot", "csrf": csrf}))
    # When / Then: the page carries it escaped, and it reads back as given
    page = web.get(f"/workflows/{workflow}").text
    assert "</script><b>" not in page
    data = re.search(r'id="template-choices">(.*?)</script>', page, re.S)
    assert data is not None and "</script><b>x" in {t["name"] for t in json.loads(data.group(1))}


def test_the_list_shows_the_agents_own_workflows_with_status_and_counts(
        h: Harness, acme: dict[str, Any]) -> None:
    # Given Ann's draft and Bob's draft
    web, csrf = browser(h, "ann")
    mine = created(web.post("/workflows", data={"name": "Open house", "csrf": csrf}))
    bob, bob_csrf = browser(h, "bob")
    created(bob.post("/workflows", data={"name": "Bob's own", "csrf": bob_csrf}))
    h.settle()
    # When Ann opens the list
    page = web.get("/workflows")
    # Then it shows hers, a draft with no live version, and not Bob's
    assert page.status_code == 200
    assert f'href="/workflows/{mine}">Open house</a>' in page.text
    assert "Bob&#39;s own" not in page.text and "Bob's own" not in page.text
    assert "No workflows yet" not in page.text
    assert re.search(r'data-label="Status"><span class="badge draft">Draft</span>', page.text)


def test_the_list_pages_on_with_a_cursor(h: Harness, acme: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from api.pages import workflows
    monkeypatch.setattr(workflows, "PAGE", 2)
    web, csrf = browser(h, "ann")
    for name in ("One", "Two", "Three"):
        created(web.post("/workflows", data={"name": name, "csrf": csrf}))
    h.settle()
    first = web.get("/workflows")
    more = re.search(r'href="(/workflows\?cursor=[^"]+)">Next page', first.text)
    assert more and first.text.count('data-label="Name"') == 2
    second = web.get(more.group(1).replace("&amp;", "&"))
    assert second.text.count('data-label="Name"') == 1
    assert web.get("/workflows?cursor=not-a-cursor").status_code == 404
