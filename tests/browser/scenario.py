"""Set-up for browser journeys through the JSON API, as an integration would make it: a
token of the brokerage, templates, a published workflow, leads."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from playwright.sync_api import Page

from tests.browser.accounts import Person
from tests.browser.harness import WIDTHS, axe, settle, shoot

T = TypeVar("T")
EVERY_SCOPE = ["leads:read", "leads:write", "scores:write", "workflows:read",
               "workflows:write", "executions:write"]


def integration(live_app: Any, brokerage_id: Any, scopes: list[str] | None = None,
                name: str = "scoring system") -> httpx.Client:
    """An HTTP client of the app holding a token of the brokerage (what ``followup tokens
    create`` gives an integration)."""
    issued = live_app.runtime.app.issue_brokerage_token(
        brokerage_id, name=name, scopes=scopes or EVERY_SCOPE, by="tests")
    return httpx.Client(base_url=live_app.url, timeout=10,
                        headers={"Authorization": f"Bearer {issued.token}"})


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def template(api: httpx.Client, channel: str = "email", name: str = "Welcome",
             subject: str | None = "Homes for you, {{ lead.first_name }}",
             body: str = "Hi {{ lead.first_name }}, new homes in "
                         "{{ lead.preferences.area | default('your area') }}.") -> str:
    return str(created(api.post("/api/templates", json={
        "name": name, "channel": channel, "subject": subject if channel == "email" else None,
        "body": body}))["id"])


def published_workflow(api: httpx.Client, agent: Person, threshold: int = 80,
                       name: str = "Hot lead") -> str:
    """A workflow of the agent: an email at once, then an SMS a day later."""
    email, sms = template(api), template(api, "sms", "Nudge", body="Still looking, "
                                                                   "{{ lead.first_name }}?")
    workflow = created(api.post("/api/workflows", json={
        "agentId": agent.agent_id, "name": name, "trigger": {"scoreThreshold": threshold},
        "steps": [{"channel": "email", "templateId": email, "delayMinutes": 0},
                  {"channel": "sms", "templateId": sms, "delay": {"amount": 1,
                                                                  "unit": "days"}}]}))
    created(api.post(f"/api/workflows/{workflow['id']}/publish"))
    return str(workflow["id"])


def lead(api: httpx.Client, agent: Person, name: str = "Lia Costa", score: int = 10,
         **extra: Any) -> str:
    body = {"agentId": agent.agent_id, "name": name, "email": "lia@example.com",
            "phone": "+351912345678", "timezone": "Europe/Lisbon",
            "preferences": {"area": "Alfama", "bedrooms": 2}, "timeline": "within 3 months",
            "score": score, **extra}
    return str(created(api.post("/api/leads", json=body))["id"])


def eventually(ask: Callable[[], T], timeout: float = 10.0) -> T:
    """What ``ask`` answers once it is truthy (the followers run beside the API)."""
    deadline = time.monotonic() + timeout
    while True:
        found = ask()
        if found or time.monotonic() > deadline:
            assert found, "not there in time"
            return found
        time.sleep(0.05)


def executions(api: httpx.Client, lead_id: str) -> list[dict[str, Any]]:
    """The lead's executions, once its crossing has started one."""
    def ask() -> list[dict[str, Any]]:
        answer = api.get(f"/api/leads/{lead_id}/executions")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    return eventually(ask)


def unexpected(errors: list[str]) -> list[str]:
    """The console's errors but the API's refusals a test provoked (the browser logs each 4xx
    answer as a failed load): script errors, CSP refusals."""
    return [e for e in errors if not re.search(r"status of 4\d\d ", e)]


def looked_at(page: Page, name: str) -> None:
    """axe-core at desktop and at phone width (no serious or critical violation at either),
    no sideways scrolling on the phone, and the screenshots of both."""
    before = page.viewport_size
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        settle(page)
        axe(page)
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"{page.url} is {wide} px wide at {width} px: it scrolls sideways"
    if before:
        page.set_viewport_size(before)
    shoot(page, name)
