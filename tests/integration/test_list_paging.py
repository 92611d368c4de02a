"""Paging through any list, with any filter and any page size, yields every row the principal
may see exactly once, in the list's order, on SQLite and PostgreSQL: the rows expected are
worked out here from what was registered, not read back from the read models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.access import ROLE_SCOPES, Principal
from application.list_views import ExecutionFilter, LeadFilter, Page, PageAsk
from projections.lead_terms import search_words, terms_of
from tests.integration.helpers import Harness

T = TypeVar("T")
FIRST = ["Ana", "ana", "Rui", "Inês", "Zoë", "Li"]
LAST = ["Lima", "Costa", "Lin", "Ngũgĩ", "O'Neil"]
SCORES = [10, 50, 50, 70, 90, 90, 90]  # ties, so the order's second key matters
NAMES = ["Alpha", "alpha", "Beta", "beta", "Gamma", "Δelta"]


@dataclass
class LeadRow:
    id: UUID
    n: int  # the order of registration
    brokerage: UUID
    agent: str
    name: str
    email: str | None
    score: int
    status: str


@dataclass
class Data:
    h: Harness
    principals: dict[str, tuple[Principal, str | None]] = field(default_factory=dict)
    leads: list[LeadRow] = field(default_factory=list)
    workflows: list[tuple[UUID, UUID, str, str]] = field(default_factory=list)
    templates: list[tuple[UUID, UUID, str | None, str, str]] = field(default_factory=list)


def principal(brokerage: UUID, role: str, agent: str | None) -> Principal:
    return Principal(brokerage_id=brokerage, role=role, scopes=ROLE_SCOPES[role],
                     agent_id=agent)


@pytest.fixture
def data(h: Harness) -> Data:
    app, d = h.rt.app, Data(h)
    acme, globex = (app.open_brokerage(s, s) for s in ("acme", "globex"))
    d.principals = {"a1": (principal(acme, "agent", "a1"), None),
                    "a2": (principal(acme, "agent", "a2"), None),
                    "admin": (principal(acme, "admin", "boss"), None),
                    "admin, a2's": (principal(acme, "admin", "boss"), "a2"),
                    "g1": (principal(globex, "agent", "g1"), None)}
    template = app.create_template(name="t", channel="email", subject="s", body="b",
                                   brokerage_id=acme, agent_id="a1")
    d.templates.append((template, acme, "a1", "t", "email"))
    for i in range(12):
        brokerage, agent = (globex, "g1") if i % 6 == 5 else (acme, ("a1", "a2", None)[i % 3])
        name = NAMES[i % len(NAMES)]
        made = app.create_template(name=name, channel=("email", "sms")[i % 2], subject="s",
                                   body="b", brokerage_id=brokerage, agent_id=agent)
        d.templates.append((made, brokerage, agent, name, ("email", "sms")[i % 2]))
        owner = agent or "a1"
        flow = app.create_workflow(brokerage_id=brokerage, agent_id=owner, name=name,
                                   definition={"trigger": {"score_threshold": 60},
                                               "steps": [{"channel": "email",
                                                          "template_id": str(template),
                                                          "delay_minutes": 0}]})
        d.workflows.append((flow, brokerage, owner, name))
    app.publish_workflow(d.workflows[0][0])  # a1's: registrations from 60 up start it
    for n in range(70):
        brokerage, agent = (globex, "g1") if n % 7 == 6 else (acme, ("a1", "a2")[n % 2])
        name = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
        email = None if n % 5 == 4 else f"{name.split()[0].lower()}{n}@mail{n % 3}.test"
        score = SCORES[n % len(SCORES)]
        lead = app.register_lead(brokerage_id=brokerage, agent_id=agent, name=name,
                                 email=email, phone=None, timezone="UTC", preferences={},
                                 timeline=None, score=score)
        status = ("new", "contacted", "new", "qualified")[n % 4]
        if status != "new":
            app.change_status(lead, status, "agent")
        d.leads.append(LeadRow(lead, n, brokerage, agent, name, email, score, status))
    h.settle()
    return d


def every_page(ask: Callable[[PageAsk], Page[T]], limit: int) -> list[T]:
    """The rows of each page in turn, checking each page's size and that it ends."""
    seen: list[T] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ask(PageAsk(limit=limit, cursor=cursor))
        seen += page.items
        if page.next is None:
            assert len(page.items) <= limit
            return seen
        assert len(page.items) == limit
        cursor = page.next
    raise AssertionError("the pages never ended")


def reached(p: Principal, agent: str | None, brokerage: UUID, owner: str | None) -> bool:
    mine = agent if p.wide else p.agent_id
    return brokerage == p.brokerage_id and (mine is None or owner == mine)


def found_by(row: LeadRow, q: str) -> bool:
    terms = terms_of(row.name, row.email)
    return all(any(t.startswith(w) for t in terms) for w in search_words(q))


def expected_leads(d: Data, who: str, wanted: LeadFilter) -> list[UUID]:
    p, agent = d.principals[who]
    rows = [r for r in d.leads if reached(p, agent, r.brokerage, r.agent)
            and wanted.status in (None, r.status)
            and (wanted.score_min is None or r.score >= wanted.score_min)
            and (wanted.score_max is None or r.score <= wanted.score_max)
            and (wanted.q is None or found_by(r, wanted.q))]
    key = ((lambda r: (-r.score, -r.n)) if wanted.sort == "score" else (lambda r: -r.n))
    return [r.id for r in sorted(rows, key=key)]


SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
WHO = st.sampled_from(["a1", "a2", "admin", "admin, a2's", "g1"])
LIMIT = st.integers(1, 25)
FILTER = st.builds(LeadFilter, status=st.sampled_from([None, "new", "contacted", "qualified"]),
                   score_min=st.none() | st.integers(0, 100),
                   score_max=st.none() | st.integers(0, 100),
                   q=st.sampled_from([None, "ana", "li", "a l", "rui", "ng", "INÊS",
                                      "mail1", "o'neil", "zz"]),
                   sort=st.sampled_from(["score", "created"]))


@SETTINGS
@given(who=WHO, wanted=FILTER, limit=LIMIT)
def test_paging_through_leads_yields_each_visible_lead_once_in_order(
        data: Data, who: str, wanted: LeadFilter, limit: int) -> None:
    low, high = wanted.score_min, wanted.score_max
    if low is not None and high is not None and low > high:
        return  # refused (test_lists)
    p, agent = data.principals[who]
    seen = every_page(lambda ask: data.h.rt.app.list_leads(p, wanted, ask, agent_id=agent),
                      limit)
    assert [row.id for row in seen] == expected_leads(data, who, wanted)


@SETTINGS
@given(who=WHO, status=st.sampled_from([None, "draft", "published"]), limit=LIMIT)
def test_paging_through_workflows_yields_each_visible_one_once_by_name(
        data: Data, who: str, status: str | None, limit: int) -> None:
    p, agent = data.principals[who]
    seen = every_page(lambda ask: data.h.rt.app.list_workflows(p, status, ask, agent_id=agent),
                      limit)
    expected = sorted((name.casefold(), str(ident)) for ident, brokerage, owner, name
                      in data.workflows if reached(p, agent, brokerage, owner)
                      and status in (None, "published" if ident == data.workflows[0][0]
                                     else "draft"))
    assert [str(w.id) for w in seen] == [ident for _, ident in expected]


@SETTINGS
@given(who=st.sampled_from(["a1", "a2", "admin", "g1"]),
       channel=st.sampled_from([None, "email", "sms"]), limit=LIMIT)
def test_paging_through_templates_yields_the_agents_and_the_brokerages_own_by_name(
        data: Data, who: str, channel: str | None, limit: int) -> None:
    p, _ = data.principals[who]
    seen = every_page(lambda ask: data.h.rt.app.list_templates(p, channel, ask), limit)
    expected = sorted((name.casefold(), str(ident)) for ident, brokerage, owner, name, kind
                      in data.templates if brokerage == p.brokerage_id
                      and (p.wide or owner in (None, p.agent_id))
                      and channel in (None, kind))
    assert [str(t.id) for t in seen] == [ident for _, ident in expected]


@SETTINGS
@given(who=WHO, limit=LIMIT)
def test_paging_through_executions_yields_each_visible_one_once_latest_first(
        data: Data, who: str, limit: int) -> None:
    p, agent = data.principals[who]
    seen = every_page(lambda ask: data.h.rt.app.list_executions(
        p, ExecutionFilter(), ask, agent_id=agent), limit)
    started = [r for r in data.leads if r.agent == "a1" and r.score >= 60]  # a1's workflow
    visible = [r for r in started if reached(p, agent, r.brokerage, r.agent)]
    assert [x.lead_id for x in seen] == [r.id for r in sorted(visible, key=lambda r: -r.n)]
