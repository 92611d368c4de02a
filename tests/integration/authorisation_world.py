"""The world the authorisation matrix (test_authorisation.py) runs in, built once per module.

Brokerage acme: admin Ada, agents Ann (A) and Bob (B); brokerage globex: admin Gus (G). Each of
A, B and G owns a template, a published workflow, a lead with an execution whose first step (an
in-app message) was sent, and a dead-lettered step; each brokerage owns a template of its own.
A cell that is to succeed at a change gets fresh objects (``make``), so no cell's success
changes what another cell meets, in whatever order they run."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.main import create_app
from application.access import ROLE_SCOPES, Scope
from domain.execution import MAX_SEND_ATTEMPTS
from domain.timing import retry_backoff
from tests.conftest import FakeClock
from tests.integration.helpers import Harness, executions_of

PASSWORD = "correct horse battery"
ALL = frozenset(s.value for s in Scope)
AGENT_SCOPES = frozenset(s.value for s in ROLE_SCOPES["agent"])


@dataclass(frozen=True)
class Owner:
    """Whose a thing is: a brokerage, and an agent (None: the brokerage's own)."""
    brokerage: str
    agent: str | None


#: The owners of the world's things, by name; "missing" names an id that exists nowhere.
OWNERS = {"A": Owner("acme", "A"), "B": Owner("acme", "B"), "G": Owner("globex", "G"),
          "acme": Owner("acme", None), "globex": Owner("globex", None)}
PEOPLE = {"A": ("ann", "acme", "agent"), "B": ("bob", "acme", "agent"),
          "admin": ("ada", "acme", "admin"), "G": ("gus", "globex", "admin")}


@dataclass(frozen=True)
class Who:
    """A principal as the matrix sees it (an oracle independent of application.access)."""
    name: str
    kind: str  # anonymous, session, user token, brokerage token
    brokerage: str | None = None
    agent: str | None = None  # the agent whose things are theirs (an admin has one too)
    role: str | None = None  # agent, admin, integration
    scopes: frozenset[str] = frozenset()
    user: str | None = None  # whose session or user token (a key of PEOPLE)

    @property
    def wide(self) -> bool:
        return self.role in ("admin", "integration")

    def sees(self, owner: Owner) -> bool:
        return owner.brokerage == self.brokerage and (
            self.wide or owner.agent is None or owner.agent == self.agent)

    def may_change(self, owner: Owner) -> bool:
        return self.sees(owner) and (self.wide or owner.agent == self.agent)


ANONYMOUS = Who("anonymous", "anonymous")
SESSIONS = [Who("agent A", "session", "acme", "A", "agent", AGENT_SCOPES, "A"),
            Who("agent B", "session", "acme", "B", "agent", AGENT_SCOPES, "B"),
            Who("admin", "session", "acme", "admin", "admin", ALL, "admin"),
            Who("other brokerage's admin", "session", "globex", "G", "admin", ALL, "G")]
ADMIN_TOKEN = Who("admin's token", "user token", "acme", "admin", "admin", ALL, "admin")


def principals(scopes: frozenset[str]) -> list[Who]:
    """Everyone a route is tried with: the people, and tokens with and without its scopes."""
    wanted = scopes or ALL
    found = [ANONYMOUS, *SESSIONS, ADMIN_TOKEN,
             Who("token with", "brokerage token", "acme", None, "integration", wanted)]
    if wanted <= AGENT_SCOPES:
        found.append(Who("A's token with", "user token", "acme", "A", "agent", wanted, "A"))
    for scope in sorted(scopes):
        found += [Who(f"token without {scope}", "brokerage token", "acme", None, "integration",
                      ALL - {scope}),
                  Who(f"A's token without {scope}", "user token", "acme", "A", "agent",
                      AGENT_SCOPES - {scope}, "A")]
    return found


@dataclass
class World:
    h: Harness
    brokerages: dict[str, UUID] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)  # key of PEOPLE → UserView
    sessions: dict[str, TestClient] = field(default_factory=dict)
    shared: dict[str, dict[str, str]] = field(default_factory=dict)  # owner → path params
    known: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → owner → id
    _clients: dict[Who, TestClient] = field(default_factory=dict)
    _serial: count[int] = field(default_factory=count)

    @property
    def app(self) -> Any:
        return self.h.rt.app

    def agent_id(self, owner: str) -> str:
        return str(self.users[owner].agent_id)

    # Principals ------------------------------------------------------------

    def _new_client(self) -> TestClient:
        rt = self.h.rt
        return TestClient(create_app(rt, node_modules=rt.settings.assets_dir),
                          follow_redirects=False)

    def sign_in(self, person: str) -> TestClient:
        name, slug, _ = PEOPLE[person]
        client = self._new_client()
        answer = client.post("/api/session", json={"email": f"{name}@{slug}.test",
                                                   "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrfToken"]
        return client

    def client(self, who: Who) -> TestClient:
        if who.kind == "session":
            assert who.user is not None
            return self.sessions[who.user]
        if who not in self._clients:
            client = self._new_client()
            if who.kind != "anonymous":
                client.headers["Authorization"] = f"Bearer {self.token_of(who)}"
            self._clients[who] = client
        return self._clients[who]

    def token_of(self, who: Who) -> str:
        scopes = sorted(who.scopes)
        if who.kind == "brokerage token":
            return str(self.app.issue_brokerage_token(self.brokerages["acme"], name="matrix",
                                                      scopes=scopes, by="tests").token)
        assert who.user is not None
        issued = self.sessions[who.user].post("/api/tokens", json={"name": "matrix",
                                                                   "scopes": scopes})
        assert issued.status_code == 201, issued.text
        return str(issued.json()["token"])

    # Things ----------------------------------------------------------------

    def _where(self, owner: str) -> dict[str, Any]:
        o = OWNERS[owner]
        return {"brokerage_id": self.brokerages[o.brokerage],
                "agent_id": self.agent_id(owner) if o.agent else None}

    def template(self, owner: str, channel: str = "in_app") -> str:
        return str(self.app.create_template(
            name="matrix", channel=channel, subject="Hello" if channel != "sms" else None,
            body="Hi {{ lead.first_name }}", **self._where(owner)))

    def workflow(self, owner: str, *, source: str | None = None, publish: bool = True,
                 steps: tuple[str, ...] = ("in_app", "email", "sms")) -> str:
        """A workflow that starts for leads of ``source`` at 50 or more (for none without)."""
        delays = {"in_app": 0, "email": 60, "sms": 1440}
        definition = {"trigger": {"score_threshold": 50, "conditions": [
            {"field": "source", "op": "eq", "value": source or f"never-{next(self._serial)}"}]},
            "steps": [{"channel": c, "template_id": self.template(owner, c),
                       "delay_minutes": delays[c] if i else 0} for i, c in enumerate(steps)]}
        workflow_id = self.app.create_workflow(name="matrix", definition=definition,
                                               **self._where(owner))
        if publish:
            self.app.publish_workflow(workflow_id)
        return str(workflow_id)

    def lead(self, owner: str, score: int = 10, source: str = "main") -> str:
        return str(self.app.register_lead(
            name="Lia Costa", email="lia@example.com", phone="+15550001111",
            timezone="Europe/Lisbon", preferences={}, timeline=None, score=score,
            source=source, **self._where(owner)))

    def execution(self, owner: str, source: str = "main") -> tuple[str, str]:
        """A new lead of ``owner`` entering the workflow of ``source``: (lead, execution)."""
        lead = self.lead(owner, score=60, source=source)
        self.h.settle()
        [execution] = executions_of(self.app, UUID(lead))
        return lead, str(execution.id)

    def message(self, owner: str) -> dict[str, str]:
        """A lead whose execution's first step, an in-app message, was sent."""
        lead, execution = self.execution(owner)
        assert self.h.rt.sender.send_due(UUID(execution)) == "sent"
        [run] = executions_of(self.app, UUID(lead))
        return {"lead_id": lead, "execution_id": execution,
                "message_id": str(run.steps[0].message_id)}

    def dead_letter(self, owner: str) -> dict[str, str]:
        """A lead in a workflow of its own whose email step failed transiently until it was
        dead-lettered (the clock moves on by the back-off, a quarter of an hour)."""
        source = f"dl-{next(self._serial)}"
        workflow = self.workflow(owner, source=source, steps=("email",))
        lead, execution = self.execution(owner, source=source)
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            self.h.channel.fail_next(permanent=False)
            assert self.h.rt.sender.send_due(UUID(execution)) == "failed"
            self.h.clock.advance(seconds=retry_backoff(attempt).total_seconds() + 1)
        [run] = executions_of(self.app, UUID(lead))
        assert run.dead_letter == 0
        self.h.settle()
        return {"lead_id": lead, "execution_id": execution, "dl_execution_id": execution,
                "dl_workflow_id": workflow}

    def token(self, owner: str) -> str:
        """A token of the owner's user (to be listed or revoked, never to call with)."""
        issued = self.sessions[owner].post("/api/tokens", json={"name": "target",
                                                                "scopes": ["leads:read"]})
        assert issued.status_code == 201, issued.text
        return str(issued.json()["id"])

    def objects(self, owner: str) -> dict[str, str]:
        """One of everything of ``owner``'s, by path parameter (``dl_…``: the dead letter)."""
        dead = self.dead_letter(owner)
        workflow = self.workflow(owner, source="main")
        return {**self.message(owner), "workflow_id": workflow,
                "template_id": self.template(owner), "number": "1",
                "dl_execution_id": dead["execution_id"], "dl_workflow_id": dead["dl_workflow_id"]}

    # Fresh things for a cell that is to change them ------------------------

    def make(self, what: str, owner: str, who: Who) -> dict[str, Any]:
        """Fresh ``what`` of ``owner``'s, by path parameter, for one cell."""
        return MAKERS[what](self, owner, who)

    def _paused_execution(self, owner: str) -> dict[str, str]:
        lead, execution = self.execution(owner)
        self.app.pause_execution(UUID(execution), "matrix")
        return {"lead_id": lead, "execution_id": execution}

    def _workflow_in(self, owner: str, state: str) -> dict[str, str]:
        workflow = self.workflow(owner, publish=state != "draft")
        if state == "two versions":
            self.app.edit_workflow(UUID(workflow), name="matrix 2",
                                   definition=_definition(self, UUID(workflow)))
            self.app.publish_workflow(UUID(workflow))
        if state == "paused":
            self.app.hold_workflow(UUID(workflow), True, "matrix")
        if state in ("edited draft", "undone draft"):
            self.app.edit_workflow(UUID(workflow), name="matrix 2",
                                   definition=_definition(self, UUID(workflow)))
        if state == "undone draft":
            self.app.undo_draft(UUID(workflow))
        return {"workflow_id": workflow}

    def _new_session(self, who: Who) -> dict[str, Any]:
        assert who.user is not None
        return {"client": self.sign_in(who.user)}

    def _password(self, who: Who) -> dict[str, Any]:
        """The change ends the person's other sessions: afterwards the old password is set
        again and the person signed in anew."""
        assert who.user is not None
        user = who.user

        def after() -> None:
            self.app.set_password(self.users[user].id, PASSWORD, by="tests")
            self.sessions[user] = self.sign_in(user)

        return {"after": after}


def _definition(world: World, workflow_id: UUID) -> dict[str, Any]:
    from domain.workflow import Workflow

    return dict(world.app.load(Workflow, workflow_id).draft)


MAKERS: dict[str, Any] = {
    "lead": lambda w, o, _: {"lead_id": w.lead(o)},
    "execution": lambda w, o, _: dict(zip(("lead_id", "execution_id"), w.execution(o),
                                          strict=True)),
    "paused execution": lambda w, o, _: w._paused_execution(o),
    "message": lambda w, o, _: w.message(o),
    "dead letter": lambda w, o, _: w.dead_letter(o),
    "template": lambda w, o, _: {"template_id": w.template(o)},
    "draft": lambda w, o, _: w._workflow_in(o, "draft"),
    "workflow": lambda w, o, _: w._workflow_in(o, "published"),
    "two versions": lambda w, o, _: w._workflow_in(o, "two versions"),
    "paused workflow": lambda w, o, _: w._workflow_in(o, "paused"),
    "edited draft": lambda w, o, _: w._workflow_in(o, "edited draft"),
    "undone draft": lambda w, o, _: w._workflow_in(o, "undone draft"),
    "token": lambda w, o, _: {"token_id": w.token(o)},
    "session": lambda w, _, who: w._new_session(who),
    "password": lambda w, _, who: w._password(who),
}


def build(settings: Settings) -> World:
    world = World(Harness(settings, FakeClock()))
    app = world.app
    for slug in ("acme", "globex"):
        world.brokerages[slug] = app.open_brokerage(slug, slug.title())
    for key, (name, slug, role) in PEOPLE.items():
        world.users[key] = app.create_user(brokerage_id=world.brokerages[slug],
                                           email=f"{name}@{slug}.test", name=name.title(),
                                           role=role, password=PASSWORD)
    for owner in ("A", "B", "G"):
        world.shared[owner] = world.objects(owner)
    for owner in ("acme", "globex"):
        world.shared[owner] = {"template_id": world.template(owner)}
    world.h.settle()
    for key in PEOPLE:  # after the clock has moved on, so no session ends during the run
        world.sessions[key] = world.sign_in(key)
    for owner in ("A", "B", "G"):
        world.shared[owner]["token_id"] = world.token(owner)
    world.known = _known(world.shared, world.users)
    return world


def _known(of: dict[str, dict[str, str]], users: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What list routes may show, by kind and owner."""
    known = {kind: {o: of[o][key] for o in ("A", "B", "G")} for kind, key in (
        ("Lead", "lead_id"), ("Workflow", "workflow_id"), ("Execution", "execution_id"),
        ("DeadLetter", "dl_execution_id"), ("Token", "token_id"))}
    known["Template"] = {o: of[o]["template_id"] for o in OWNERS}
    known["User"] = {o: str(users[o].id) for o in ("A", "B", "G")}
    return known


def missing() -> dict[str, str]:
    """Ids that exist nowhere, for every path parameter."""
    return {name: str(uuid4()) for name in ("lead_id", "workflow_id", "template_id",
                                            "execution_id", "message_id", "token_id",
                                            "dl_workflow_id")} | {"number": "1"}
