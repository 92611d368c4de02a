"""The lead page: profile, score chart, status, consent, executions with their controls, the
timeline and the inbox."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import integration, lead, looked_at, published_workflow


def test_the_lead_page_shows_the_lead_and_its_follow_ups(page: Page, live_app: LiveApp,
                                                         outside: Outside) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    api = integration(live_app, brokerage)
    published_workflow(api, ann)
    lia = lead(api, ann, score=40)
    api.post(f"/api/leads/{lia}/score", json={"score": 85, "reason": "opened listing"})
    sign_in(page, ann, next=f"/leads/{lia}")
    expect(page.get_by_role("heading", name="Lia Costa", level=1)).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Email sent", timeout=10_000)
    page.reload()
    looked_at(page, "lead")
    assert outside.errors == [] and outside.blocked == []
