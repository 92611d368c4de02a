"""The leads list: the agent's own leads, found by name or email, filtered by status and
score range as they type; another agent's leads are not there."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import eventually, integration, lead, looked_at, unexpected


def test_an_agent_finds_their_leads_by_name_status_and_score(page: Page, live_app: LiveApp,
                                                              outside: Outside) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    bob = new_person(live_app.runtime, brokerage, name="Bob Brito")
    api = integration(live_app, brokerage)
    lia = lead(api, ann, "Lia Costa", score=85, email="lia@example.com")
    lead(api, ann, "Rui Maia", score=40, email="rui@example.com")
    lead(api, ann, "Sara Lima", score=62, email="sara.lima@example.com")
    lead(api, bob, "Tom Bobson", score=90, email="tom@example.com")
    directory = live_app.runtime.directory
    eventually(lambda: len(directory.leads_at_or_above(brokerage, ann.agent_id, 0)) == 3)
    sign_in(page, ann, next="/leads")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)  # not Bob's
    expect(rows.first).to_contain_text("Lia Costa")  # highest score first
    looked_at(page, "leads")
    # Typing searches by name or email, without a reload, and the address keeps it
    page.get_by_label("Name or email").fill("sara")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sara Lima")
    assert "q=sara" in page.url
    page.get_by_label("Name or email").fill("")
    page.get_by_label("Score from").fill("50")
    expect(rows).to_have_count(2)
    page.get_by_label("Score to").fill("70")
    expect(rows).to_have_count(1)
    page.get_by_label("Score to").fill("")
    page.get_by_label("Score from").fill("")
    api.post(f"/api/leads/{lia}/status", json={"status": "lost"})
    page.get_by_label("Status").select_option("lost")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lost")
    # A filter that cannot match is said
    page.get_by_label("Status").select_option("")
    page.get_by_label("Score from").fill("70")
    page.get_by_label("Score to").fill("20")
    expect(page.locator("#filter-errors")).to_contain_text("Score from: is above Score to")
    looked_at(page, "leads-refused")
    # The address works on its own (no script): a link to a search
    page.goto("/leads?q=rui")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Rui Maia").click()
    expect(page.get_by_role("heading", name="Rui Maia", level=1)).to_be_visible()
    assert unexpected(outside.errors) == [] and outside.blocked == []
