"""The lead page: profile, score chart, status, consent, executions with their controls, the
timeline and the inbox."""

from __future__ import annotations

from uuid import UUID

import httpx
from playwright.sync_api import APIResponse, Page, Route, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import eventually, integration, lead, looked_at, published_workflow


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


def on_the_page_of_a_lead(page: Page, live_app: LiveApp) -> tuple[httpx.Client, str]:
    """Given Ann on the page of her lead Lia (score 40), following its updates: the scoring
    system's client and Lia's id."""
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    api = integration(live_app, brokerage)
    lia = lead(api, ann, score=40)
    sign_in(page, ann, next=f"/leads/{lia}")
    expect(page.locator("#live-state")).to_have_text("Updates by itself", timeout=10_000)
    return api, lia


def test_an_older_answer_for_a_part_never_replaces_a_newer_one(page: Page, live_app: LiveApp,
                                                               outside: Outside) -> None:
    # Given an agent on a lead's page, and the first fetch of the summary held back
    api, lia = on_the_page_of_a_lead(page, live_app)
    held: list[tuple[Route, APIResponse]] = []

    def hold_the_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # the summary as it is now: score 55

    page.route("**/parts/summary", hold_the_first)
    # When the score moves twice and the first answer arrives after the second
    api.post(f"/api/leads/{lia}/score", json={"score": 55, "reason": "viewed"})
    expect(page.locator("#timeline")).to_contain_text("55", timeout=10_000)
    api.post(f"/api/leads/{lia}/score", json={"score": 66, "reason": "viewed again"})
    summary = page.locator("#part-summary .score-now")
    expect(summary).to_have_text("Score 66", timeout=10_000)
    assert len(held) == 1
    route, stale = held[0]
    route.fulfill(response=stale)
    page.evaluate("() => fetch('/health').then(r => r.text())")  # the stale answer is read
    page.wait_for_timeout(300)
    # Then the page keeps the newer score
    expect(summary).to_have_text("Score 66")
    assert outside.errors == []


def test_a_live_update_keeps_a_choice_the_agent_has_not_sent(page: Page, live_app: LiveApp,
                                                             outside: Outside) -> None:
    # Given an agent who chose a new status on a lead's page but has not sent it
    api, lia = on_the_page_of_a_lead(page, live_app)
    page.get_by_label("New status").select_option("contacted")
    page.get_by_role("heading", name="Lia Costa", level=1).click()  # the focus leaves the form
    # When the scoring system moves the score (which refreshes the summary and the status)
    api.post(f"/api/leads/{lia}/score", json={"score": 61, "reason": "viewed"})
    expect(page.locator("#part-summary .score-now")).to_have_text("Score 61", timeout=10_000)
    page.wait_for_timeout(300)
    # Then the choice is still there to send
    expect(page.get_by_label("New status")).to_have_value("contacted")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#part-summary .badge")).to_have_text("Contacted")
    assert outside.errors == []


def test_a_long_timeline_shows_the_newest_and_the_rest_on_asking(page: Page, live_app: LiveApp,
                                                                 outside: Outside) -> None:
    # Given a lead with 150 history entries
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    api = integration(live_app, brokerage)
    lia = lead(api, ann, score=10)
    for i in range(149):
        live_app.runtime.app.change_score(UUID(lia), 11 + i % 60, f"model run {i + 1}")
    eventually(lambda: len(live_app.runtime.history.for_lead(lia)) == 150, timeout=20)
    # When Ann opens the page, then she sees the newest hundred, newest first
    sign_in(page, ann, next=f"/leads/{lia}")
    entries = page.locator("#timeline li, #timeline-earlier li")
    expect(entries).to_have_count(100)
    expect(entries.first).to_contain_text("(model run 149)")
    # And "Show earlier entries" brings the rest, down to the registration
    page.get_by_role("button", name="Show earlier entries").click()
    expect(entries).to_have_count(150)
    expect(entries.last).to_contain_text("Lead registered with score 10")
    expect(page.locator("#timeline-more")).to_be_focused()
    expect(page.locator("#timeline-more")).to_contain_text("That is everything")
    looked_at(page, "lead-long")
    assert outside.errors == []


def test_a_live_update_leaves_the_open_profile_form_open(page: Page, live_app: LiveApp,
                                                         outside: Outside) -> None:
    # Given an agent who opened the profile's edit form
    api, lia = on_the_page_of_a_lead(page, live_app)
    page.get_by_text("Edit the profile").click()
    phone = page.get_by_label("Phone")
    expect(phone).to_be_visible()
    # When the lead changes meanwhile (which refreshes the profile's part)
    api.post(f"/api/leads/{lia}/score", json={"score": 52, "reason": "viewed"})
    expect(page.locator("#part-summary .score-now")).to_have_text("Score 52", timeout=10_000)
    page.wait_for_timeout(300)
    # Then the form is still open to fill in, and saving it shows the new profile
    expect(phone).to_be_visible()
    phone.fill("+351911111111")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.locator("#part-profile")).to_contain_text("+351911111111")
    expect(phone).to_be_hidden()
    assert outside.errors == []
