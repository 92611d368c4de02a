"""The lists over HTTP, on SQLite and PostgreSQL: what each principal sees (their own, their
brokerage's, never another brokerage's), each list's filters, the lead search, refusals naming
the query field, and the lists following the log a moment behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from application.access import ROLE_SCOPES, Principal, Scope
from tests.integration.helpers import Harness

PASSWORD = "correct horse battery"
LEADS = {  # name: (agent, email, score)
    "Joana Lima": ("ann", "joana.lima@gmail.com", 90),
    "João Silva": ("ann", "joao@silva.pt", 40),
    "Ana O'Neil": ("ann", "ana@oneil.ie", 70),
    "Jo Bloggs": ("bob", "jo@bloggs.com", 90),
    "Zed Zulu": ("bob", None, 10),
}


@dataclass
class World:
    """Brokerage acme (admin ada, agents ann and bob) and globex (agent gus), their leads,
    workflows and templates, every read model caught up."""

    h: Harness
    brokerages: dict[str, UUID] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    leads: dict[str, UUID] = field(default_factory=dict)
    workflows: dict[str, UUID] = field(default_factory=dict)
    templates: dict[str, UUID] = field(default_factory=dict)

    def client(self, who: str) -> TestClient:
        """An HTTP client holding a token of the user ``who`` (or of acme, for ``acme``)."""
        app = self.h.rt.app
        if who == "acme":
            token = app.issue_brokerage_token(self.brokerages["acme"], name="crm",
                                              scopes=[s.value for s in Scope], by="tests").token
        else:
            user = self.users[who]
            principal = Principal(brokerage_id=user.brokerage_id, role=user.role,
                                  scopes=ROLE_SCOPES[user.role], user_id=user.id,
                                  agent_id=user.agent_id)
            token = app.issue_token(principal, name="tests",
                                    scopes=sorted(ROLE_SCOPES[user.role])).token
        client = TestClient(create_app(self.h.rt))
        client.headers["Authorization"] = f"Bearer {token}"
        return client


def build(h: Harness) -> World:
    app, w = h.rt.app, World(h)
    w.brokerages = {slug: app.open_brokerage(slug, slug.title()) for slug in ("acme", "globex")}
    for name, slug, role in [("ada", "acme", "admin"), ("ann", "acme", "agent"),
                             ("bob", "acme", "agent"), ("gus", "globex", "agent")]:
        w.users[name] = app.create_user(brokerage_id=w.brokerages[slug], agent_id=name,
                                        email=f"{name}@{slug}.test", name=name.title(),
                                        role=role, password=PASSWORD)
    acme, globex = w.brokerages["acme"], w.brokerages["globex"]
    w.templates = {
        "ann's email": app.create_template(name="Welcome", channel="email", subject="Hi",
                                           body="Hello {{ lead.first_name }}",
                                           brokerage_id=acme, agent_id="ann"),
        "bob's sms": app.create_template(name="ping", channel="sms", body="Hi!",
                                         brokerage_id=acme, agent_id="bob"),
        "acme's in-app": app.create_template(name="Listings", channel="in_app", subject="New",
                                             body="New listings", brokerage_id=acme),
        "globex's email": app.create_template(name="Globex hello", channel="email",
                                              subject="Hi", body="Hello", brokerage_id=globex),
    }
    email = str(w.templates["ann's email"])

    def workflow(name: str, agent: str, publish: bool = True, template: str = email) -> UUID:
        channel = "email" if template == email else "sms"
        made = app.create_workflow(brokerage_id=acme, agent_id=agent, name=name, definition={
            "trigger": {"score_threshold": 80},
            "steps": [{"channel": channel, "template_id": template, "delay_minutes": 0}]})
        if publish:
            app.publish_workflow(made)
        return made

    w.workflows = {"Hot": workflow("Hot", "ann"), "draft": workflow("draft", "ann", False),
                   "Paused": workflow("Paused", "ann"),
                   "Bob's": workflow("Bob's", "bob", template=str(w.templates["bob's sms"]))}
    app.hold_workflow(w.workflows["Paused"], True, "agent")
    for name, (agent, address, score) in LEADS.items():
        w.leads[name] = app.register_lead(brokerage_id=acme, agent_id=agent, name=name,
                                          email=address, phone="+15550001111", timezone="UTC",
                                          preferences={}, timeline=None, score=score)
    w.leads["Globex Joana"] = app.register_lead(
        brokerage_id=globex, agent_id="gus", name="Joana Lima", email="joana.lima@gmail.com",
        phone=None, timezone="UTC", preferences={}, timeline=None, score=99)
    h.settle()  # Joana and Jo registered above 80: each starts her agent's live workflow
    return w


@pytest.fixture
def world(h: Harness) -> World:
    return build(h)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    [refusal] = response.json()["error"]["fields"]
    return str(refusal["field"])


# Who sees what ---------------------------------------------------------------------

def test_an_agent_lists_their_own_an_admin_their_brokerage_and_nobody_another(
        world: World) -> None:
    ann, bob, ada, gus = (world.client(u) for u in ("ann", "bob", "ada", "gus"))
    assert names(ann.get("/api/leads")) == ["Joana Lima", "Ana O'Neil", "João Silva"]
    assert names(bob.get("/api/leads")) == ["Jo Bloggs", "Zed Zulu"]
    assert sorted(names(ada.get("/api/leads"))) == sorted(LEADS)
    assert names(world.client("acme").get("/api/leads")) == names(ada.get("/api/leads"))
    assert names(ada.get("/api/leads", params={"agentId": "bob"})) == ["Jo Bloggs", "Zed Zulu"]
    assert names(gus.get("/api/leads")) == ["Joana Lima"]
    assert gus.get("/api/leads").json()["items"][0]["id"] == str(world.leads["Globex Joana"])
    # The same name in another brokerage is never found by a search
    [joana] = ann.get("/api/leads", params={"q": "joana"}).json()["items"]
    assert joana["id"] == str(world.leads["Joana Lima"])
    # Nor by naming another brokerage's agent
    assert ada.get("/api/leads", params={"agentId": "gus"}).json()["items"] == []


def test_an_agent_naming_another_agent_is_refused_naming_the_field(world: World) -> None:
    ann = world.client("ann")
    for path in ("/api/leads", "/api/executions", "/api/workflows"):
        assert refused_field(ann.get(path, params={"agentId": "bob"})) == "query.agentId"
        assert ann.get(path, params={"agentId": "ann"}).status_code == 200
    assert refused_field(ann.get("/api/templates", params={"agentId": "ann"})) == \
        "query.agentId"  # templates are listed by whose they are, not filtered by agent


def test_workflows_templates_and_executions_are_scoped_the_same_way(world: World) -> None:
    ann, bob, ada, gus = (world.client(u) for u in ("ann", "bob", "ada", "gus"))
    assert names(ann.get("/api/workflows")) == ["draft", "Hot", "Paused"]  # case folded
    assert names(bob.get("/api/workflows")) == ["Bob's"]
    assert names(ada.get("/api/workflows")) == ["Bob's", "draft", "Hot", "Paused"]
    assert names(gus.get("/api/workflows")) == []
    # An agent's templates are their own and the brokerage's own; an admin's all of acme's
    assert names(ann.get("/api/templates")) == ["Listings", "Welcome"]
    assert names(bob.get("/api/templates")) == ["Listings", "ping"]
    assert names(ada.get("/api/templates")) == ["Listings", "ping", "Welcome"]
    assert names(gus.get("/api/templates")) == ["Globex hello"]
    [shared] = ann.get("/api/templates", params={"channel": "in_app"}).json()["items"]
    assert shared["agentId"] is None and shared["id"] == str(world.templates["acme's in-app"])

    def leads_of(client: TestClient) -> list[str]:
        response = client.get("/api/executions")
        assert response.status_code == 200, response.text
        return sorted(x["leadId"] for x in response.json()["items"])

    assert leads_of(ann) == [str(world.leads["Joana Lima"])]
    assert leads_of(bob) == [str(world.leads["Jo Bloggs"])]
    assert leads_of(ada) == sorted(str(world.leads[n]) for n in ("Joana Lima", "Jo Bloggs"))
    assert leads_of(gus) == []


# Filters -----------------------------------------------------------------------------

FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["Joana Lima", "Ana O'Neil", "João Silva"]),  # highest score first
    ({"sort": "created"}, ["Ana O'Neil", "João Silva", "Joana Lima"]),  # newest first
    ({"status": "contacted"}, ["João Silva"]),
    ({"status": "new"}, ["Joana Lima", "Ana O'Neil"]),
    ({"scoreMin": 50}, ["Joana Lima", "Ana O'Neil"]),
    ({"scoreMax": 50}, ["João Silva"]),
    ({"scoreMin": 50, "scoreMax": 80}, ["Ana O'Neil"]),
    ({"q": "jo"}, ["Joana Lima", "João Silva"]),  # the start of a word, any case
    ({"q": "JOÃO"}, ["João Silva"]),
    ({"q": "lim jo"}, ["Joana Lima"]),  # every word must match
    ({"q": "lim ana"}, []),
    ({"q": "gmail"}, ["Joana Lima"]),  # the email's domain
    ({"q": "silva.pt"}, ["João Silva"]),
    ({"q": "joana.lima@"}, ["Joana Lima"]),  # the address itself
    ({"q": "neil"}, ["Ana O'Neil"]),  # the letters of o'neil
    ({"q": "o'neil"}, ["Ana O'Neil"]),
    ({"q": "oana"}, []),  # inside a word: not found (word starts only)
    ({"q": "ana"}, ["Ana O'Neil"]),
    ({"q": "jo", "scoreMin": 50}, ["Joana Lima"]),
]


def test_the_lead_filters(world: World) -> None:
    ann = world.client("ann")
    ann.post(f"/api/leads/{world.leads['João Silva']}/status", json={"status": "contacted"})
    world.h.settle()
    for params, expected in FILTERS:
        assert names(ann.get("/api/leads", params=params)) == expected, params


def test_leads_in_a_workflow_are_those_with_a_live_execution_of_it(world: World) -> None:
    ann = world.client("ann")
    hot = str(world.workflows["Hot"])
    assert names(ann.get("/api/leads", params={"workflowId": hot})) == ["Joana Lima"]
    assert names(ann.get("/api/leads", params={"workflowId": str(world.workflows["Paused"])})) \
        == []
    [execution] = ann.get("/api/executions", params={"workflowId": hot}).json()["items"]
    ann.post(f"/api/executions/{execution['id']}/cancel", json={})
    world.h.settle()
    assert names(ann.get("/api/leads", params={"workflowId": hot})) == []


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"scoreMin": 90, "scoreMax": 10}, "query.scoreMin"),
    ({"status": "bogus"}, "query.status"),
    ({"limit": 0}, "query.limit"),
    ({"limit": 201}, "query.limit"),
    ({"limit": "ten"}, "query.limit"),
    ({"cursor": "not-a-cursor"}, "query.cursor"),
    ({"q": "   "}, "query.q"),
    ({"q": "a b c d e f g h i"}, "query.q"),
    ({"stauts": "new"}, "query.stauts"),  # a misspelt filter
    ({"score_min": 5}, "query.score_min"),  # camelCase only
    ({"sort": "name"}, "query.sort"),
    ({"workflowId": "hot"}, "query.workflowId"),
    ({"scoreMin": 101}, "query.scoreMin"),
]


def test_a_bad_filter_or_cursor_is_refused_naming_the_query_field(world: World) -> None:
    ann = world.client("ann")
    for params, named in REFUSED:
        assert refused_field(ann.get("/api/leads", params=params)) == named, params


def test_a_cursor_works_only_for_the_list_and_order_that_gave_it(world: World) -> None:
    ada = world.client("ada")
    by_score = ada.get("/api/leads", params={"limit": 1}).json()["next"]
    templates = ada.get("/api/templates", params={"limit": 1}).json()["next"]
    assert by_score and templates
    assert refused_field(ada.get("/api/leads", params={"cursor": templates})) == "query.cursor"
    assert refused_field(ada.get("/api/leads", params={"cursor": by_score, "sort": "created"})) \
        == "query.cursor"
    assert ada.get("/api/leads", params={"cursor": by_score}).status_code == 200


def test_paging_through_a_list_with_its_cursor_gives_every_row_once(world: World) -> None:
    ada = world.client("ada")
    whole = ada.get("/api/leads").json()
    assert whole["next"] is None
    seen, cursor = [], None
    while True:
        page = ada.get("/api/leads", params={"limit": 2, **({"cursor": cursor} if cursor
                                                             else {})}).json()
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == whole["items"]


def test_executions_filter_by_status_workflow_and_lead(world: World) -> None:
    ada = world.client("ada")
    joana, hot = str(world.leads["Joana Lima"]), str(world.workflows["Hot"])
    [execution] = ada.get("/api/executions", params={"leadId": joana}).json()["items"]
    assert execution["workflowId"] == hot and execution["status"] == "active"
    assert execution["agentId"] == "ann" and execution["workflowVersion"] == 1
    ada.post(f"/api/executions/{execution['id']}/pause", json={})
    world.h.settle()
    [paused] = ada.get("/api/executions", params={"status": "paused"}).json()["items"]
    assert paused["id"] == execution["id"]
    assert ada.get("/api/executions", params={"status": "active", "workflowId": hot}
                   ).json()["items"] == []
    assert refused_field(ada.get("/api/executions", params={"status": "done"})) == \
        "query.status"


def test_each_workflow_says_its_state_version_active_executions_and_recent_sends(
        world: World) -> None:
    ann = world.client("ann")

    def rows() -> dict[str, dict[str, Any]]:
        return {w["name"]: w for w in ann.get("/api/workflows").json()["items"]}

    found = rows()
    assert {n: (w["status"], w["liveVersion"]) for n, w in found.items()} == {
        "draft": ("draft", None), "Hot": ("published", 1), "Paused": ("paused", 1)}
    assert found["Hot"]["activeExecutions"] == 1 and found["Hot"]["sentLast7Days"] == 0
    # When Joana's first email goes out
    assert world.h.send_due() == ["sent", "sent"]  # hers, and Jo's text in Bob's
    assert rows()["Hot"]["sentLast7Days"] == 1
    assert names(ann.get("/api/workflows", params={"status": "paused"})) == ["Paused"]
    # Then, a week and an hour later, it is no longer counted; nor is a cancelled execution
    world.h.clock.advance(days=7, hours=1)
    [execution] = ann.get("/api/executions").json()["items"]
    ann.post(f"/api/executions/{execution['id']}/cancel", json={})
    world.h.settle()
    assert (rows()["Hot"]["sentLast7Days"], rows()["Hot"]["activeExecutions"]) == (0, 0)
    assert refused_field(ann.get("/api/workflows", params={"status": "live"})) == "query.status"


def test_the_lists_follow_the_log_a_moment_behind(world: World) -> None:
    # Given a lead just registered, before the read models have caught up
    ann = world.client("ann")
    made = ann.post("/api/leads", json={"name": "Rui Neves", "email": "rui@example.com",
                                        "score": 5})
    assert made.status_code == 201
    # Then the lead itself reads from the log at once, and the list has it a moment later
    assert ann.get(f"/api/leads/{made.json()['id']}").status_code == 200
    assert "Rui Neves" not in names(ann.get("/api/leads"))
    world.h.settle()
    assert names(ann.get("/api/leads", params={"q": "rui"})) == ["Rui Neves"]


def test_the_lists_read_models_rebuild_identically(world: World) -> None:
    from sqlalchemy import select

    from projections import catalogue, directory, lead_terms

    tables = (directory.leads, directory.executions, lead_terms.terms, catalogue.workflows,
              catalogue.templates, catalogue.runs, catalogue.sends)

    def rows() -> dict[str, list[tuple[Any, ...]]]:
        with world.h.rt.engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in tables}

    # Given sends, a pause and a cancel in the log besides the registrations
    world.h.send_due()
    ada = world.client("ada")
    for n, action in enumerate(("pause", "cancel")):
        execution = ada.get("/api/executions").json()["items"][n]
        ada.post(f"/api/executions/{execution['id']}/{action}", json={})
    world.h.settle()
    before = rows()
    assert all(before.values()) and len(before["catalogue_sends"]) == 2
    # When both read models are dropped and read the log again from its start
    world.h.rt.directory.drop()
    world.h.rt.catalogue.drop()
    assert not any(rows().values())
    world.h.settle()
    # Then every row is as it was
    assert rows() == before


def test_a_lead_whose_name_or_email_is_edited_is_found_by_the_new_words_only(
        world: World) -> None:
    # Given Ann's lead Joana Lima, found by her name
    ann = world.client("ann")
    lead = world.leads["Joana Lima"]
    assert names(ann.get("/api/leads", params={"q": "joana"})) == ["Joana Lima"]
    # When her profile is edited: another name and another address
    world.h.rt.app.edit_lead(lead, {"name": "Marta Reis", "email": "marta@reis.pt"},
                             actor="user:tests")
    world.h.settle()
    # Then the list shows the new name and a search finds her by the new words, not the old
    assert names(ann.get("/api/leads", params={"q": "marta"})) == ["Marta Reis"]
    assert names(ann.get("/api/leads", params={"q": "reis.pt"})) == ["Marta Reis"]
    assert names(ann.get("/api/leads", params={"q": "joana"})) == []
    assert names(ann.get("/api/leads", params={"q": "gmail"})) == []
