"""The lead page over HTTP: whose lead it shows (another agent's is a 404 page, as in the
API), its parts, and the stream of new history entries (server-sent events) after a
position."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def acme(runtime: Any) -> dict[str, Any]:
    app = runtime.app
    acme = app.open_brokerage("acme", "Acme Homes")
    people = {name: app.create_user(brokerage_id=acme, email=f"{name}@acme.test",
                                    name=name.title(), role=role, password=PASSWORD)
              for name, role in [("ada", "admin"), ("ann", "agent"), ("bob", "agent")]}
    lead = app.register_lead(agent_id=people["ann"].agent_id, name="Lia Costa",
                             email="lia@example.com", phone=None, timezone="America/New_York",
                             preferences={"area": "Alfama"}, timeline=None, score=30,
                             brokerage_id=acme)
    return {"runtime": runtime, "lead": lead, "people": people}


def signed_in(runtime: Any, who: str) -> TestClient:
    client = TestClient(create_app(runtime), follow_redirects=False)
    client.post("/sign-in", data={"email": f"{who}@acme.test", "password": PASSWORD},
                headers={"Origin": "http://testserver"})
    return client


def history(runtime: Any, lead: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found: list[dict[str, Any]] = runtime.history.for_lead(str(lead))
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the history read model did not follow")


def test_the_owner_and_an_admin_see_the_lead_and_another_agent_a_404_page(
        acme: dict[str, Any]) -> None:
    rt, lead = acme["runtime"], acme["lead"]
    for who in ("ann", "ada"):
        page = signed_in(rt, who).get(f"/leads/{lead}")
        assert page.status_code == 200 and "Lia Costa" in page.text
        assert page.headers["content-type"].startswith("text/html")
    for path in (f"/leads/{lead}", f"/leads/{lead}/parts/profile", f"/leads/{lead}/events",
                 "/leads/not-an-id"):
        refused = signed_in(rt, "bob").get(path)
        assert refused.status_code == 404, path
        assert "Lia Costa" not in refused.text and "Not found" in refused.text


def test_a_part_is_the_fragment_the_page_has(acme: dict[str, Any]) -> None:
    part = signed_in(acme["runtime"], "ann").get(f"/leads/{acme['lead']}/parts/profile")
    assert part.status_code == 200 and "<html" not in part.text
    assert "Alfama" in part.text and "America/New_York" in part.text


def test_the_stream_sends_the_entries_after_the_position_in_the_leads_zone(
        acme: dict[str, Any]) -> None:
    rt, lead = acme["runtime"], acme["lead"]
    rt.start_projector()
    [registered] = history(rt, lead)
    rt.app.change_score(lead, 70, "viewed")
    client = signed_in(rt, "ann")
    with client.stream("GET", f"/leads/{lead}/events",
                       params={"after": registered["position"]}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = first_event(stream)
    assert event["event"] == "history" and int(event["id"]) > registered["position"]
    data = json.loads(event["data"])
    assert data["kinds"] == ["Lead.ScoreChanged"]
    assert "Score changed from 30 to 70 (viewed)" in data["html"]
    assert "Lead registered" not in data["html"]  # before the position asked for
    assert "America/New_York" in data["html"]  # the lead's zone, with UTC beside it
    # A reconnecting browser says where it got to: nothing new, nothing sent again
    with client.stream("GET", f"/leads/{lead}/events",
                       headers={"Last-Event-ID": event["id"]}) as again:
        rt.app.change_score(lead, 75, "called")
        assert "from 70 to 75" in json.loads(first_event(again)["data"])["html"]


def first_event(stream: Any) -> dict[str, str]:
    """The first event of the stream (comments and pings skipped)."""
    event: dict[str, str] = {}
    for line in stream.iter_lines():
        if not line and event.get("data"):
            return event
        key, _, value = line.partition(": ")
        if key in ("event", "id", "data"):
            event[key] = event.get(key, "") + value
    raise AssertionError("the stream ended")


def test_the_history_gives_the_last_entries_oldest_first_and_those_after_a_position(
        acme: dict[str, Any]) -> None:
    rt, lead = acme["runtime"], acme["lead"]
    for score in (40, 50, 60):
        rt.app.change_score(lead, score, "model")
    rt.start_projector()
    deadline = time.monotonic() + 10
    while len(rt.history.for_lead(str(lead))) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    every = rt.history.for_lead(str(lead))
    assert [e["summary"][:25] for e in every[-2:]] == ["Score changed from 40 to ",
                                                     "Score changed from 50 to "]
    assert rt.history.for_lead(str(lead), limit=2, newest=True) == every[-2:]
    assert rt.history.for_lead(str(lead), limit=2) == every[:2]
    assert rt.history.for_lead(str(lead), after=every[1]["position"]) == every[2:]



def test_an_admin_sees_whose_each_lead_workflow_and_template_is_by_name(
        acme: dict[str, Any]) -> None:
    # Given Ann's lead, workflow and template
    rt, ann = acme["runtime"], acme["people"]["ann"]
    rt.app.create_workflow(agent_id=ann.agent_id, brokerage_id=ann.brokerage_id,
                           name="Open house", definition={"trigger": {"score_threshold": 80},
                                                          "steps": []})
    rt.app.create_template(name="Welcome", channel="sms", body="Hi",
                           brokerage_id=ann.brokerage_id, agent_id=ann.agent_id)
    rt.start_projector()
    # When the admin opens the lists, then each names Ann, never her agent id
    admin = signed_in(rt, "ada")
    for path, label in (("/leads", "Agent"), ("/workflows", "Agent"), ("/templates", "Owner")):
        deadline, page = time.monotonic() + 10, admin.get(path)
        while 'data-label="Name"' not in page.text and time.monotonic() < deadline:
            time.sleep(0.05)  # the lists follow the log by a moment
            page = admin.get(path)
        assert page.status_code == 200, path
        assert f'<td data-label="{label}">Ann</td>' in page.text, path
        assert ann.agent_id not in page.text.replace(f"/{ann.agent_id}", ""), path
    # While Ann's own lists have no agent column
    assert 'data-label="Agent"' not in signed_in(rt, "ann").get("/leads").text


def test_the_whole_timeline_is_reachable_a_batch_at_a_time(acme: dict[str, Any]) -> None:
    # Given a lead with 250 history entries (its registration and 249 score changes)
    rt, lead = acme["runtime"], acme["lead"]
    for i in range(249):
        rt.app.change_score(lead, 31 + i % 60, f"change {i + 1}")
    rt.start_projector()
    deadline = time.monotonic() + 20
    while len(rt.history.for_lead(str(lead))) < 250 and time.monotonic() < deadline:
        time.sleep(0.05)
    web = signed_in(rt, "ann")
    # When Ann opens the lead's page, then it shows the newest 100 and offers the earlier ones
    page = web.get(f"/leads/{lead}").text
    shown = re.findall(r'data-position="(\d+)"', page)
    assert len(shown) == 100 and "(change 249)" in page and "(change 149)" not in page
    [before] = re.findall(r'id="show-earlier" data-before="(\d+)"', page)
    assert before == shown[-1]
    # And each "Show earlier" gives the next hundred, older, until the first entry
    seen = list(shown)
    while before:
        batch = web.get(f"/leads/{lead}/earlier", params={"before": before})
        assert batch.status_code == 200
        seen += re.findall(r'data-position="(\d+)"', batch.text)
        found = re.findall(r'id="show-earlier" data-before="(\d+)"', batch.text)
        before = found[0] if found else ""
    assert "That is everything" in batch.text and "Lead registered with score 30" in batch.text
    assert len(seen) == len(set(seen)) == 250
    assert [int(p) for p in seen] == sorted((int(p) for p in seen), reverse=True)
    # And the API gives the same trail, oldest first, a page at a time
    api = signed_in(rt, "ann")
    first = api.get(f"/api/leads/{lead}/history", params={"limit": 200}).json()
    rest = api.get(f"/api/leads/{lead}/history",
                   params={"after": first[-1]["position"], "limit": 200}).json()
    assert len(first) == 200 and len(rest) == 50
    assert [e["position"] for e in first + rest] == [int(p) for p in reversed(seen)]
    assert api.get(f"/api/leads/{lead}/history", params={"limit": 1001}).status_code == 422
