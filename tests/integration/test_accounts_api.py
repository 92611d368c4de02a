"""Accounts over HTTP: sign-in and sessions, CSRF, rate limits, passwords, tokens, health, and
whose things a principal reaches (the full matrix over every route is test_authorisation)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from domain import ids
from tests.conftest import api_client

PASSWORD = "correct horse battery"


@pytest.fixture
def acme(runtime: Any) -> dict[str, Any]:
    """Brokerage acme: an admin and two agents; brokerage globex: an admin."""
    app = runtime.app
    acme = app.open_brokerage("acme", "Acme Homes")
    globex = app.open_brokerage("globex", "Globex Realty")
    made = {name: app.create_user(brokerage_id=b, email=f"{name}@{slug}.test", name=name.title(),
                                  role=role, password=PASSWORD)
            for name, b, slug, role in [("ada", acme, "acme", "admin"),
                                        ("ann", acme, "acme", "agent"),
                                        ("bob", acme, "acme", "agent"),
                                        ("gus", globex, "globex", "admin")]}
    return {"runtime": runtime, "users": made}


def browser(runtime: Any, who: str, domain: str = "acme",
            password: str = PASSWORD) -> TestClient:
    client = TestClient(create_app(runtime))
    response = client.post("/api/session", json={"email": f"{who}@{domain}.test",
                                                  "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrfToken"]
    return client


def lead_body(**extra: Any) -> dict[str, Any]:
    return {"name": "Lia Costa", "email": "lia@example.com", "timezone": "Europe/Lisbon",
            "preferences": {"area": "Alfama"}, "score": 10, **extra}


def test_sign_in_sets_a_safe_session_cookie_and_answers_the_user(acme: dict[str, Any]) -> None:
    client = TestClient(create_app(acme["runtime"]))
    response = client.post("/api/session", json={"email": "ANN@acme.test ", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "ann@acme.test" and body["user"]["role"] == "agent"
    assert len(body["csrfToken"]) > 30
    cookie = response.headers["set-cookie"]
    assert "followup_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP on a laptop
    assert client.get("/api/session").json()["user"]["email"] == "ann@acme.test"


def test_a_sign_in_from_another_sites_page_is_refused(acme: dict[str, Any]) -> None:
    # Given a page of another site posting the JSON sign-in (login CSRF: the browser would be
    # signed into an account of the other site's choosing)
    client = TestClient(create_app(acme["runtime"]))
    response = client.post("/api/session", json={"email": "ann@acme.test", "password": PASSWORD},
                           headers={"Origin": "https://evil.test"})
    # Then it is refused, and no session begins
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "set-cookie" not in response.headers
    # While the app's own page, and a client that sends no Origin (a script), sign in
    own = client.post("/api/session", json={"email": "ann@acme.test", "password": PASSWORD},
                      headers={"Origin": "http://testserver"})
    assert own.status_code == 200
    assert TestClient(create_app(acme["runtime"])).post(
        "/api/session", json={"email": "ann@acme.test", "password": PASSWORD}).status_code == 200


def test_over_tls_the_cookie_is_secure(acme: dict[str, Any]) -> None:
    client = TestClient(create_app(acme["runtime"]), base_url="https://followup.test")
    response = client.post("/api/session", json={"email": "ann@acme.test", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
        acme: dict[str, Any]) -> None:
    client = TestClient(create_app(acme["runtime"]))
    wrong = client.post("/api/session", json={"email": "ann@acme.test", "password": "nope-nope"})
    unknown = client.post("/api/session", json={"email": "zed@acme.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_failed_sign_ins_are_limited_per_account_and_say_when_to_try_again(
        acme: dict[str, Any]) -> None:
    client = TestClient(create_app(acme["runtime"]))
    for _ in range(5):
        assert client.post("/api/session", json={"email": "bob@acme.test",
                                                 "password": "guess-guess"}).status_code == 401
    # Then even the right password waits, and so does a made-up address (nothing leaks)
    limited = client.post("/api/session", json={"email": "bob@acme.test", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # And another account from the same address is not locked out by it
    assert client.post("/api/session", json={"email": "ann@acme.test",
                                             "password": PASSWORD}).status_code == 200


def test_a_browser_change_needs_its_csrf_token(acme: dict[str, Any]) -> None:
    client = browser(acme["runtime"], "ann")
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/api/leads", json=lead_body())
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]["message"]
    forged = client.post("/api/leads", json=lead_body(), headers={"X-CSRF-Token": "x" + token})
    assert forged.status_code == 403
    assert client.get("/api/session").status_code == 200  # reading needs none
    made = client.post("/api/leads", json=lead_body(), headers={"X-CSRF-Token": token})
    assert made.status_code == 201


def test_sign_out_ends_the_session(acme: dict[str, Any]) -> None:
    client = browser(acme["runtime"], "ann")
    assert client.delete("/api/session").status_code == 204
    client.cookies.clear()
    assert client.get("/api/session").status_code == 401


def test_a_stolen_cookie_stops_working_after_sign_out(acme: dict[str, Any]) -> None:
    client = browser(acme["runtime"], "ann")
    cookie = client.cookies.get("followup_session")
    client.delete("/api/session")
    thief = TestClient(create_app(acme["runtime"]), cookies={"followup_session": cookie})
    response = thief.get("/api/session")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"]


def test_a_password_change_ends_the_other_sessions(acme: dict[str, Any]) -> None:
    laptop, phone = browser(acme["runtime"], "ann"), browser(acme["runtime"], "ann")
    wrong = laptop.post("/api/session/password", json={"currentPassword": "not-it-at-all",
                                                       "newPassword": "another long one"})
    assert wrong.status_code == 422 and "currentPassword" in wrong.text
    short = laptop.post("/api/session/password", json={"currentPassword": PASSWORD,
                                                       "newPassword": "short"})
    assert short.status_code == 422 and "newPassword" in short.text
    changed = laptop.post("/api/session/password", json={"currentPassword": PASSWORD,
                                                         "newPassword": "another long one"})
    assert changed.status_code == 204
    assert laptop.get("/api/session").status_code == 200
    assert phone.get("/api/session").status_code == 401
    fresh = TestClient(create_app(acme["runtime"]))
    assert fresh.post("/api/session", json={"email": "ann@acme.test",
                                            "password": PASSWORD}).status_code == 401
    assert fresh.post("/api/session", json={"email": "ann@acme.test",
                                            "password": "another long one"}).status_code == 200


def test_no_credential_material_enters_the_log(acme: dict[str, Any]) -> None:
    runtime = acme["runtime"]
    client = browser(runtime, "ann")
    issued = client.post("/api/tokens", json={"name": "crm", "scopes": ["leads:read"]}).json()
    raw = b"".join(e.state for e in runtime.app.recorder.select_notifications(1, 10_000))
    assert PASSWORD.encode() not in raw and b"argon2" not in raw
    assert issued["token"].encode() not in raw
    assert client.cookies.get("followup_session", "").encode() not in raw


def test_a_token_is_shown_once_acts_within_its_scopes_and_can_be_revoked(
        acme: dict[str, Any]) -> None:
    runtime = acme["runtime"]
    ann = browser(runtime, "ann")
    issued = ann.post("/api/tokens", json={"name": "my crm", "scopes": ["leads:read"]})
    assert issued.status_code == 201
    token, token_id = issued.json()["token"], issued.json()["id"]
    assert token.startswith("fu_")
    listed = ann.get("/api/tokens").json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    crm = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {token}"})
    assert crm.get("/api/leads/00000000-0000-0000-0000-000000000001").status_code == 404
    refused = crm.post("/api/leads", json=lead_body())
    assert refused.status_code == 403 and "leads:write" in refused.json()["error"]["message"]
    assert ann.delete(f"/api/tokens/{token_id}").status_code == 204
    assert crm.get("/api/leads/00000000-0000-0000-0000-000000000001").status_code == 401


def test_a_token_never_has_more_than_its_maker(acme: dict[str, Any]) -> None:
    ann = browser(acme["runtime"], "ann")
    wider = ann.post("/api/tokens", json={"name": "x", "scopes": ["health:read"]})
    assert wider.status_code == 422 and "scopes[0]" in wider.text
    brokerage = ann.post("/api/tokens", json={"name": "x", "scopes": ["leads:read"],
                                              "forBrokerage": True})
    assert brokerage.status_code == 409 and "admin" in brokerage.json()["error"]["message"]


def test_health_tells_anyone_up_or_down_and_only_an_admin_the_details(
        acme: dict[str, Any]) -> None:
    runtime = acme["runtime"]
    anonymous = TestClient(create_app(runtime)).get("/health")
    assert anonymous.status_code == 200 and anonymous.json() == {"ok": True}
    assert "checks" not in browser(runtime, "ann").get("/health").json()
    assert "followers" in browser(runtime, "ada").get("/health").json()["checks"]


def test_every_api_route_refuses_an_anonymous_caller(acme: dict[str, Any]) -> None:
    client = TestClient(create_app(acme["runtime"]))
    some = "00000000-0000-0000-0000-000000000001"
    for method, path in [("get", f"/api/leads/{some}"), ("post", "/api/leads"),
                         ("get", "/api/dead-letters"), ("get", "/api/templates/variables"),
                         ("get", "/api/users"), ("get", "/api/tokens")]:
        response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_agent_registers_leads_for_themselves_and_others_do_not_see_them(
        acme: dict[str, Any]) -> None:
    runtime = acme["runtime"]
    ann, bob, ada = (browser(runtime, n) for n in ("ann", "bob", "ada"))
    gus = browser(runtime, "gus", "globex")
    made = ann.post("/api/leads", json=lead_body())
    assert made.status_code == 201 and made.json()["agentId"] == acme["users"]["ann"].agent_id
    lead = made.json()["id"]
    other = ann.post("/api/leads", json=lead_body(agentId=acme["users"]["bob"].agent_id))
    assert other.status_code == 422 and "agentId" in other.text
    assert ada.get(f"/api/leads/{lead}").status_code == 200  # the admin sees the brokerage
    for outsider in (bob, gus):
        assert outsider.get(f"/api/leads/{lead}").status_code == 404
        assert outsider.post(f"/api/leads/{lead}/status",
                             json={"status": "lost", "reason": "x"}).status_code == 404
    assert ann.get(f"/api/leads/{lead}").json()["status"] == "new"


def test_an_admin_acts_for_an_agent_of_their_brokerage_only(acme: dict[str, Any]) -> None:
    runtime, users = acme["runtime"], acme["users"]
    ada = browser(runtime, "ada")
    for_ann = ada.post("/api/leads", json=lead_body(agentId=users["ann"].agent_id))
    assert for_ann.status_code == 201
    assert browser(runtime, "ann").get(f"/api/leads/{for_ann.json()['id']}").status_code == 200
    foreign = ada.post("/api/leads", json=lead_body(agentId=users["gus"].agent_id))
    assert foreign.status_code == 422 and "agentId" in foreign.text


def test_a_brokerage_token_changes_scores_across_its_brokerage(acme: dict[str, Any]) -> None:
    runtime, users = acme["runtime"], acme["users"]
    ada = browser(runtime, "ada")
    scoring = ada.post("/api/tokens", json={"name": "scoring", "scopes": ["scores:write"],
                                            "forBrokerage": True}).json()["token"]
    lead = ada.post("/api/leads", json=lead_body(agentId=users["bob"].agent_id)).json()["id"]
    client = TestClient(create_app(runtime), headers={"Authorization": f"Bearer {scoring}"})
    changed = client.post(f"/api/leads/{lead}/score", json={"score": 70, "reason": "model"})
    assert changed.status_code == 200 and changed.json()["applied"] is True
    assert client.get(f"/api/leads/{lead}").status_code == 403  # no leads:read
    gus_lead = browser(runtime, "gus", "globex").post("/api/leads", json=lead_body())
    assert client.post(f"/api/leads/{gus_lead.json()['id']}/score",
                       json={"score": 70, "reason": "model"}).status_code == 404


def test_an_admin_makes_agents_and_an_agent_cannot(acme: dict[str, Any]) -> None:
    runtime = acme["runtime"]
    ada = browser(runtime, "ada")
    made = ada.post("/api/users", json={"email": "cy@acme.test", "name": "Cy", "role": "agent",
                                        "password": "a first password"})
    assert made.status_code == 201
    assert made.json()["brokerageId"] == str(ids.brokerage_id("acme"))
    assert "password" not in made.text and "argon2" not in made.text
    assert {u["email"] for u in ada.get("/api/users").json()} == {
        "ada@acme.test", "ann@acme.test", "bob@acme.test", "cy@acme.test"}
    again = ada.post("/api/users", json={"email": "CY@acme.test", "name": "Cy", "role": "agent",
                                         "password": "a first password"})
    assert again.status_code == 409
    ann = browser(runtime, "ann")
    assert ann.get("/api/users").status_code == 403
    assert ann.post("/api/users", json={"email": "dee@acme.test", "name": "D", "role": "admin",
                                        "password": "a first password"}).status_code == 403
    cy = browser(runtime, "cy", password="a first password")
    assert cy.get("/api/session").json()["user"]["name"] == "Cy"


def test_the_operator_token_of_the_tests_is_an_integration_of_the_default_brokerage(
        runtime: Any) -> None:
    client = api_client(runtime)
    made = client.post("/api/leads", json=lead_body(agentId="agent-7"))
    assert made.status_code == 201 and made.json()["agentId"] == "agent-7"
    assert client.post("/api/leads", json=lead_body()).status_code == 422  # names no agent
