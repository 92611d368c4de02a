"""The authorisation matrix: every route the app serves, tried by every kind of principal on
things of every owner that matters, each answer derived from one row per route (``ROWS``).

A row says what the route needs: scopes (a token lacking one gets 403 before any lookup), or
``PERSON`` (a signed-in browser session, never a token), ``ADMIN`` (an admin's session),
``PRINCIPAL`` (any credential), ``ANYONE`` (no credential, with ``why``). The ids in its path
make it per-object: another agent's or another brokerage's thing answers 404, as does an id
that exists nowhere; a change to the brokerage's own template by an agent 403. A route that
lists things names their kind (``lists=``): the answer shows exactly the world's things of that
kind the principal may see. A route served with no row fails ``test_every_route_has_a_row``.

Adding a route is one line, say
``Row("PATCH", "/api/leads/{lead_id}", LEADS_WRITE, body={"name": "Lia"}, make="lead")``:
``body`` (a dict, or a function of the cell's ids), ``make`` (what a cell that is to change
it gets fresh: a key of ``MAKERS`` in authorisation_world.py), ``lists``, ``query`` (query
name → id), ``for_agent`` (the body names agent A: others get 422 on ``body.agentId``),
``if_match`` (send the object's current ETag), ``anonymous`` (a page's 303 to sign-in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from adapters.settings import Settings
from api.auth import SESSION_COOKIE, TemplateToChange
from api.main import create_app
from application.access import Scope
from tests.integration.authorisation_world import (
    OWNERS,
    PASSWORD,
    Owner,
    Who,
    World,
    build,
    missing,
    principals,
)

ANYONE, PRINCIPAL, PERSON, ADMIN = "anyone", "principal", "person", "admin"
# Pages: a browser session's (no session, a token included: 303 to the sign-in page); an
# admin's page; a page form's post (its CSRF form field required: without it, 403).
PAGE, ADMIN_PAGE, PAGE_FORM = "page", "admin page", "page form"
LEADS_READ, LEADS_WRITE, SCORES_WRITE = "leads:read", "leads:write", "scores:write"
WORKFLOWS_READ, WORKFLOWS_WRITE = "workflows:read", "workflows:write"
EXECUTIONS_WRITE, HEALTH_READ = "executions:write", "health:read"
KINDS = {"lead_id": "Lead", "workflow_id": "Workflow", "template_id": "Template",
         "execution_id": "Execution", "message_id": "Message", "token_id": "Token"}
Check = Callable[[Any, dict[str, Any], Who], None]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    needs: tuple[str, ...]
    body: Any = None
    make: str | None = None
    lists: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    use: dict[str, str] = field(default_factory=dict)  # path parameter → the id it takes
    for_agent: bool = False
    if_match: bool = False
    anonymous: int = 401
    why: str = ""
    example: dict[str, str] = field(default_factory=dict)
    check: Check | None = None
    ok: int = 200  # what a permitted call answers (303: a page that sends one on)
    signed_in_ok: int | None = None  # what it answers a browser session instead, if not ok
    form: bool = False  # the body goes form-encoded, from the app's own origin
    stream: bool = False  # server-sent events: only the answer's status and type are read

    @property
    def page(self) -> bool:
        return bool({PAGE, ADMIN_PAGE, PAGE_FORM} & set(self.needs))

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(n for n in self.needs if n in {s.value for s in Scope})

    @property
    def kinds(self) -> list[str]:
        """The kinds of the things it names, in the path and then the query."""
        names = [n for n in KINDS if "{" + n + "}" in self.path] + list(self.query.values())
        return sorted({KINDS[n] for n in names}, key=[KINDS[n] for n in names].index)


def R(method: str, path: str, *needs: str, **options: Any) -> Row:
    return Row(method, path, needs, **options)


def _replayed(body: Any, ids: dict[str, Any], who: Who) -> None:
    seen = who.sees(OWNERS["A"])
    assert body["replayed"] == ([ids["execution_id"]] if seen else []), body


def _details(body: Any, ids: dict[str, Any], who: Who) -> None:
    assert ("checks" in body and body["checks"] is not None) == (HEALTH_READ in who.scopes)


LEAD = {"name": "Lia Costa", "email": "lia@example.com", "timezone": "Europe/Lisbon",
        "score": 10}


def _workflow(ids: dict[str, Any]) -> dict[str, Any]:
    return {"name": "w", "trigger": {"scoreThreshold": 99},
            "steps": [{"channel": "in_app", "templateId": ids["template_id"]}]}


def _user(_: dict[str, Any]) -> dict[str, Any]:
    return {"email": f"u{uuid4().hex[:10]}@acme.test", "name": "New", "password": PASSWORD}


ROWS = [
    R("POST", "/api/session", ANYONE, why="signing in: the credential is the body",
      body={"email": "ann@acme.test", "password": PASSWORD}),
    R("GET", "/api/session", PERSON),
    R("DELETE", "/api/session", PERSON, make="session"),
    R("POST", "/api/session/password", PERSON, make="password",
      body={"currentPassword": PASSWORD, "newPassword": "another long password"}),
    R("GET", "/api/users", ADMIN, lists="User"),
    R("POST", "/api/users", ADMIN, body=_user),
    R("GET", "/api/tokens/scopes", PRINCIPAL),
    R("GET", "/api/tokens", PERSON, lists="Token"),
    R("POST", "/api/tokens", PERSON, body={"name": "t", "scopes": [LEADS_READ]}),
    R("DELETE", "/api/tokens/{token_id}", PERSON, make="token"),
    R("POST", "/api/leads", LEADS_WRITE, body=LEAD, for_agent=True),
    R("GET", "/api/leads", LEADS_READ, lists="Lead"),
    R("GET", "/api/leads/{lead_id}", LEADS_READ),
    R("PATCH", "/api/leads/{lead_id}", LEADS_WRITE, body={"timeline": "this spring"},
      make="lead"),
    R("POST", "/api/leads/{lead_id}/score", SCORES_WRITE, body={"score": 70}, make="lead"),
    R("POST", "/api/leads/{lead_id}/status", LEADS_WRITE, body={"status": "contacted"},
      make="lead"),
    R("GET", "/api/leads/{lead_id}/executions", LEADS_READ),
    R("GET", "/api/leads/{lead_id}/history", LEADS_READ),
    R("GET", "/api/leads/{lead_id}/inbox", LEADS_READ),
    R("POST", "/api/leads/{lead_id}/consent", LEADS_WRITE, make="lead",
      body={"channel": "sms", "allowed": False, "reason": "asked"}),
    R("POST", "/api/leads/{lead_id}/inbox/{message_id}/read", LEADS_WRITE, make="message"),
    R("GET", "/api/executions", LEADS_READ, lists="Execution"),
    R("GET", "/api/executions/{execution_id}", LEADS_READ),
    R("POST", "/api/executions/{execution_id}/pause", EXECUTIONS_WRITE, make="execution"),
    R("POST", "/api/executions/{execution_id}/resume", EXECUTIONS_WRITE,
      make="paused execution"),
    R("POST", "/api/executions/{execution_id}/replay", EXECUTIONS_WRITE, make="dead letter",
      use={"execution_id": "dl_execution_id"}),
    R("POST", "/api/executions/{execution_id}/skip", EXECUTIONS_WRITE, make="execution"),
    R("POST", "/api/executions/{execution_id}/send-now", EXECUTIONS_WRITE, make="execution"),
    R("POST", "/api/executions/{execution_id}/cancel", EXECUTIONS_WRITE, make="execution"),
    R("POST", "/api/executions/{execution_id}/restart", EXECUTIONS_WRITE, make="execution"),
    R("GET", "/api/dead-letters", LEADS_READ, lists="DeadLetter"),
    R("POST", "/api/dead-letters/replay", EXECUTIONS_WRITE, make="dead letter",
      body=lambda ids: {"workflowId": ids["dl_workflow_id"]}, check=_replayed),
    R("POST", "/api/templates", WORKFLOWS_WRITE, body={"name": "t", "channel": "sms",
                                                       "body": "Hi"}),
    R("GET", "/api/templates/variables", PRINCIPAL),
    R("GET", "/api/templates", WORKFLOWS_READ, lists="Template"),
    R("GET", "/api/templates/{template_id}", WORKFLOWS_READ),
    R("PUT", "/api/templates/{template_id}", WORKFLOWS_WRITE, make="template", if_match=True,
      body={"name": "matrix", "subject": "Hello again", "body": "Hi"}),
    R("GET", "/api/templates/{template_id}/revisions", WORKFLOWS_READ),
    R("GET", "/api/templates/{template_id}/revisions/{number}", WORKFLOWS_READ),
    R("GET", "/api/templates/{template_id}/usage", WORKFLOWS_READ),
    R("GET", "/api/templates/{template_id}/preview", WORKFLOWS_READ, LEADS_READ,
      query={"leadId": "lead_id"}),
    R("POST", "/api/workflows", WORKFLOWS_WRITE, body=_workflow, for_agent=True),
    R("GET", "/api/workflows/{workflow_id}", WORKFLOWS_READ),
    R("PUT", "/api/workflows/{workflow_id}", WORKFLOWS_WRITE, body=_workflow, make="draft",
      if_match=True),
    R("GET", "/api/workflows", WORKFLOWS_READ, lists="Workflow"),
    R("GET", "/api/workflows/{workflow_id}/versions/{number}", WORKFLOWS_READ),
    R("GET", "/api/workflows/{workflow_id}/publish-preview", WORKFLOWS_READ),
    R("POST", "/api/workflows/{workflow_id}/publish", WORKFLOWS_WRITE, make="draft"),
    R("POST", "/api/workflows/{workflow_id}/rollback", WORKFLOWS_WRITE, body={"version": 1},
      make="two versions"),
    R("POST", "/api/workflows/{workflow_id}/pause", WORKFLOWS_WRITE, make="workflow"),
    R("POST", "/api/workflows/{workflow_id}/resume", WORKFLOWS_WRITE, make="paused workflow"),
    R("GET", "/api/workflows/{workflow_id}/problems", WORKFLOWS_READ),
    R("POST", "/api/workflows/{workflow_id}/undo", WORKFLOWS_WRITE, make="edited draft",
      if_match=True),
    R("POST", "/api/workflows/{workflow_id}/redo", WORKFLOWS_WRITE, make="undone draft",
      if_match=True),
    R("POST", "/api/workflows/{workflow_id}/duplicate", WORKFLOWS_WRITE),
    R("POST", "/api/templates/preview", WORKFLOWS_READ,
      body={"channel": "sms", "body": "Hi {{ lead.first_name }}"}),
    # The browser app's pages
    R("GET", "/sign-in", ANYONE, why="the sign-in page itself", signed_in_ok=303),
    R("POST", "/sign-in", ANYONE, why="signing in: the credential is the form", ok=303,
      form=True, body={"email": "ann@acme.test", "password": PASSWORD}),
    R("POST", "/sign-out", PAGE_FORM),
    R("GET", "/", PAGE, ok=303),  # on to the workflows
    R("GET", "/account", PAGE),
    R("GET", "/users", ADMIN_PAGE),
    R("GET", "/tokens", PAGE),
    R("GET", "/dead-letters", PAGE),
    R("GET", "/leads", PAGE),
    R("GET", "/leads/{lead_id}", PAGE),
    R("GET", "/leads/{lead_id}/parts/{part}", PAGE, example={"part": "profile"}),
    R("GET", "/leads/{lead_id}/events", PAGE, stream=True),
    R("GET", "/leads/{lead_id}/earlier", PAGE),
    R("GET", "/templates", PAGE),
    R("GET", "/templates/new", PAGE),
    R("GET", "/templates/{template_id}", PAGE),
    R("GET", "/workflows", PAGE),
    R("POST", "/workflows", PAGE_FORM),
    R("GET", "/workflows/{workflow_id}", PAGE),
    R("POST", "/workflows/{workflow_id}/duplicate", PAGE_FORM),
    R("GET", "/t/o/{message_id}.gif", ANYONE, why="email clients load the open pixel with no "
      "credential; it answers the same image whatever the id"),
    R("GET", "/health", ANYONE, HEALTH_READ, check=_details, why="load balancers ask it; "
      "only its details need health:read"),
    R("GET", "/openapi.json", ANYONE, why="the API's document, public like /docs"),
    R("GET", "/docs", ANYONE, why="the API's documentation page"),
    R("GET", "/assets/app/{path}", ANYONE, why="the app's own CSS and JS, for the sign-in page "
      "too", example={"path": "app.css"}),
    R("GET", "/assets/vendor/swagger-ui/{path}", ANYONE, why="the /docs page's files",
      example={"path": "swagger-ui.css"}),
    R("GET", "/assets/vendor/htmx/{path}", ANYONE, why="a page's library",
      example={"path": "htmx.min.js"}),
    R("GET", "/assets/vendor/sortable/{path}", ANYONE, why="a page's library",
      example={"path": "Sortable.min.js"}),
]


# The oracle ---------------------------------------------------------------------------

def variants(row: Row) -> list[str]:
    """Whose the things it names are: A's, none at all (missing), and for a template the
    brokerage's own; a route naming nothing has one variant."""
    if not row.kinds:
        return ["-"]
    return ["A's", "missing"] + (["brokerage's"] if row.kinds[0] == "Template" else [])


def owners(row: Row, variant: str) -> list[Owner | None]:
    if not row.kinds:
        return []
    own = {"A's": OWNERS["A"], "missing": None, "brokerage's": OWNERS["acme"]}[variant]
    return [own if kind == "Template" or variant != "brokerage's" else OWNERS["A"]
            for kind in row.kinds]


def permits(row: Row, who: Who) -> bool:
    if PRINCIPAL in row.needs:
        return True
    if PERSON in row.needs:
        return who.kind == "session"
    if ADMIN in row.needs:
        return who.kind == "session" and who.role == "admin"
    return row.scopes <= who.scopes


def expected(row: Row, who: Who, variant: str) -> int:
    """The answer's status (200: any 2xx)."""
    if ANYONE in row.needs:
        return row.signed_in_ok if row.signed_in_ok and who.kind == "session" else row.ok
    if row.page:
        return expected_page(row, who, variant)
    if who.kind == "anonymous":
        return row.anonymous
    if not permits(row, who):
        return 403
    found = owners(row, variant)
    if any(o is None or not who.sees(o) for o in found):
        return 404
    if found and row.method != "GET" and not who.may_change(found[0]):  # type: ignore[arg-type]
        return 403
    if row.for_agent and not who.may_change(OWNERS["A"]):
        return 422
    return 200


def expected_page(row: Row, who: Who, variant: str) -> int:
    if who.kind != "session":
        return 303  # to /sign-in?next=…
    if PAGE_FORM in row.needs:
        return 403  # the matrix sends no CSRF form field: the form is refused
    if ADMIN_PAGE in row.needs and who.role != "admin":
        return 403
    if any(o is None or not who.sees(o) for o in owners(row, variant)):
        return 404
    return row.ok


def cells() -> Iterator[Any]:
    for row in ROWS:
        for who in principals(row.scopes):
            for variant in variants(row):
                yield pytest.param(row, who, variant, id=f"{row.key} | {who.name} | {variant}")


# The run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build(Settings(data_dir=tmp_path_factory.mktemp("matrix")))
    yield built
    built.h.rt.stop()


def ids_of(world: World, variant: str) -> dict[str, Any]:
    shared = dict(world.shared["A"])
    if variant == "brokerage's":
        shared["template_id"] = world.shared["acme"]["template_id"]
    return missing() if variant == "missing" else shared


def request(world: World, row: Row, who: Who, variant: str,
            want: int) -> tuple[Any, dict[str, Any]]:
    """The cell's answer, and the ids it named."""
    ids, client, after = ids_of(world, variant), world.client(who), None
    if want == 200 and row.make:
        fresh = world.make(row.make, "acme" if variant == "brokerage's" else "A", who)
        client, after = fresh.pop("client", client), fresh.pop("after", None)
        ids.update(fresh)
    params = {name: ids[key] for name, key in row.query.items()}
    path = row.path.format(**{**ids, **{k: ids[v] for k, v in row.use.items() if v in ids},
                              **row.example})
    body = row.body(ids) if callable(row.body) else row.body
    if row.for_agent:
        body = {**body, "agentId": world.agent_id("A")}
    headers = {"If-Match": etag(world, path)} if row.if_match else {}
    cookies = list(client.cookies.jar)
    try:
        if row.stream:
            with client.stream(row.method, path, params=params, headers=headers,
                               follow_redirects=False) as streamed:
                return streamed, ids
        if row.form:
            return client.request(row.method, path, data=body, follow_redirects=False,
                                  headers={"Origin": str(client.base_url).rstrip("/")}), ids
        return client.request(row.method, path, params=params, json=body, headers=headers,
                              follow_redirects=False), ids
    finally:  # a sign-in answers a cookie: the principal stays who it was
        client.cookies.jar.clear()
        for cookie in cookies:
            client.cookies.jar.set_cookie(cookie)
        if after:
            after()


def etag(world: World, path: str) -> str:
    """The ETag of what the path changes (an undo's or a redo's: its workflow's)."""
    answer = world.sessions["admin"].get(path.removesuffix("/undo").removesuffix("/redo"))
    return answer.headers.get("ETag", '"none"')


@pytest.mark.parametrize(("row", "who", "variant"), list(cells()))
def test_each_principal_reaches_what_its_row_says(world: World, row: Row, who: Who,
                                                  variant: str) -> None:
    want = expected(row, who, variant)
    answer, ids = request(world, row, who, variant, want)
    got = 200 if 200 <= answer.status_code < 300 else answer.status_code
    text = "" if row.stream else answer.text[:300]
    assert got == want, f"{row.key} by {who.name} on {variant}: {answer.status_code} {text}"
    if row.page:
        if got == 303 and who.kind != "session":
            assert answer.headers["location"].startswith("/sign-in"), answer.headers
        if got == 200 and row.stream:
            assert answer.headers["content-type"].startswith("text/event-stream")
        elif got in (200, 403, 404):
            assert answer.headers["content-type"].startswith("text/html")
        return
    if got >= 400:
        error = answer.json()["error"]
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 422: "invalid"}[got]
        assert error["status"] == got and error["code"] == code, error
    if got == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    if got == 422:
        assert [f["field"] for f in error["fields"]] == ["body.agentId"], error
    if got == 200 and row.lists:
        assert shown(world, row.lists, answer.json()) == {
            o for o in world.known[row.lists] if who.sees(OWNERS[o])}, answer.text[:500]
    if got == 200 and row.check:
        row.check(answer.json(), ids, who)


def shown(world: World, kind: str, body: Any) -> set[str]:
    """Which of the world's things of ``kind`` the answer names, by owner."""
    strings: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            strings.add(value)

    walk(body)
    return {owner for owner, ident in world.known[kind].items() if ident in strings}


# Every route has a row ---------------------------------------------------------------

def served() -> set[str]:
    """Every method and path the app answers (a mount: GET of a file under it)."""
    app = create_app(runtime=None, node_modules=Settings().assets_dir)  # type: ignore[arg-type]
    keys: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            keys.add(f"GET {route.path}/{{path}}")
        else:
            keys |= {f"{m} {route.path}" for m in route.methods or () if m != "HEAD"}
    return keys


def test_every_route_has_a_row() -> None:
    missing_rows = served() - {row.key for row in ROWS}
    assert not missing_rows, f"routes without a row in ROWS: {sorted(missing_rows)}"


def test_every_row_is_a_route_and_says_why_when_anyone_may_call_it() -> None:
    keys = [row.key for row in ROWS]
    assert len(keys) == len(set(keys)), "one row per route"
    assert not set(keys) - served(), "rows of routes the app does not serve"
    assert all(row.why for row in ROWS if ANYONE in row.needs)
    assert not [row.key for row in ROWS if row.why and ANYONE not in row.needs]


# What the matrix found, told as stories -------------------------------------------------

def test_an_admins_token_of_one_scope_neither_makes_users_nor_ends_the_admins_sessions(
        world: World) -> None:
    # Given a token Ada made for an integration that reads leads
    token = world.client(Who("crm", "user token", "acme", "admin", "admin",
                             frozenset({LEADS_READ}), "admin"))
    # When it asks to make an admin with a known password, and to change Ada's password
    made = token.post("/api/users", json={"email": "eve@acme.test", "name": "Eve",
                                          "role": "admin", "password": PASSWORD})
    changed = token.post("/api/session/password", json={"currentPassword": PASSWORD,
                                                        "newPassword": "taken over by a token"})
    # Then both are refused as needing a signed-in person, and Ada's session goes on
    assert made.status_code == changed.status_code == 403
    assert "sign in" in made.json()["error"]["message"]
    assert world.sessions["admin"].get("/api/session").status_code == 200
    assert "eve@acme.test" not in world.sessions["admin"].get("/api/users").text


def test_a_preview_for_a_lead_needs_leads_read_before_the_template_is_looked_up(
        world: World) -> None:
    builder = world.client(Who("builder", "brokerage token", "acme", None, "integration",
                               frozenset({WORKFLOWS_READ})))
    template, lead = world.shared["A"]["template_id"], world.shared["A"]["lead_id"]
    assert builder.get(f"/api/templates/{template}/preview").status_code == 200  # sample lead
    for some in (template, str(uuid4())):
        refused = builder.get(f"/api/templates/{some}/preview", params={"leadId": lead})
        assert refused.status_code == 403 and LEADS_READ in refused.text
        assert "Lia" not in refused.text



def _change_template(template_id: TemplateToChange) -> None:
    """A probe: no route changes a template yet; those that will take this type."""


def test_a_change_to_the_brokerages_template_is_an_admins_and_an_agent_gets_403(
        world: World) -> None:
    probe = create_app(world.h.rt)
    probe.add_api_route("/probe/{template_id}", _change_template, methods=["PUT"],
                        status_code=204)
    own, ann_s = world.shared["acme"]["template_id"], world.shared["A"]["template_id"]
    answers = {}
    for person in ("A", "B", "admin", "G"):
        session = world.sessions[person]
        client = TestClient(probe, headers=dict(session.headers))
        client.cookies.set(SESSION_COOKIE, session.cookies[SESSION_COOKIE])
        answers[person] = [client.put(f"/probe/{t}") for t in (own, ann_s)]
    assert {p: [a.status_code for a in got] for p, got in answers.items()} == {
        "A": [403, 204], "B": [403, 404], "admin": [204, 204], "G": [404, 404]}
    refused = answers["A"][0].json()["error"]
    assert refused["code"] == "forbidden" and "only an admin" in refused["message"]
