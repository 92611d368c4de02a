"""Journeys of agents on the lead page, in the real app: a score raised by the scoring system
starts a published workflow, and the email appears in the timeline without a reload; the
agent pauses and resumes it, marks the lead Lost and sees everything paused with the reason;
another agent sees none of it, in the pages and in the API."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import executions, integration, lead, looked_at, published_workflow

#: The timeline follows the history read model: a new entry shows within this (ms).
LIVE = 2000



def test_a_crossing_shows_live_and_the_agent_pauses_resumes_and_loses_the_lead(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    # Given an agent with a published workflow (threshold 80) and a lead at 40
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    setup = integration(live_app, brokerage)
    published_workflow(setup, ann)
    lia = lead(setup, ann, score=40)
    sign_in(page, ann, next=f"/leads/{lia}")
    expect(page.locator(".execution")).to_have_count(0)
    # When the scoring system raises the score past the threshold, with its own token
    scoring = integration(live_app, brokerage, scopes=["scores:write"])
    raised = scoring.post(f"/api/leads/{lia}/score", json={"score": 85, "reason": "viewed 3"})
    assert raised.status_code == 200 and raised.json()["applied"]
    # Then without a reload the crossing, the start and the email appear, and the execution
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Score changed from 40 to 85 (viewed 3)", timeout=LIVE)
    expect(timeline).to_contain_text("Email sent: “Homes for you, Lia”", timeout=10_000)
    execution = page.locator(".execution").first
    expect(execution).to_contain_text("Hot lead v1")
    expect(execution.locator(".badge").first).to_have_text("Active")
    # And a later score change shows within the live bound
    scoring.post(f"/api/leads/{lia}/score", json={"score": 88, "reason": "called"})
    expect(timeline).to_contain_text("Score changed from 85 to 88 (called)", timeout=LIVE)
    expect(page.locator(".score-now")).to_contain_text("88")
    # When the agent pauses it from the page (by keyboard)
    execution.get_by_role("button", name="Pause").focus()
    page.keyboard.press("Enter")
    # Then it is paused, the history says so, and the keyboard stays in the execution
    expect(execution.locator(".badge").first).to_have_text("Paused")
    expect(timeline).to_contain_text("Execution paused by Ann Alves", timeout=LIVE)
    expect(execution.locator(".reason")).to_have_text(
        "Paused by an agent (the timeline says who)")
    expect(execution.get_by_role("button", name="Resume")).to_be_focused()
    looked_at(page, "lead-paused")
    # When they resume it, skipping what fell due meanwhile
    execution.get_by_label("Steps that fell due while paused").select_option("skip_overdue")
    execution.get_by_role("button", name="Resume").click()
    expect(execution.locator(".badge").first).to_have_text("Active")
    expect(timeline).to_contain_text("Execution resumed by Ann Alves (overdue steps skipped)",
                                     timeout=LIVE)
    # When they mark the lead Lost, with a reason
    page.get_by_label("New status").select_option("lost")
    page.get_by_label("Why (optional)").fill("bought elsewhere")
    page.get_by_role("button", name="Change status").click()
    # Then everything is paused, with the reason, on the page and in the timeline
    expect(page.locator("#lead-said")).to_have_text("Status is now lost. Paused 1 follow-up.")
    expect(execution.locator(".badge").first).to_have_text("Paused")
    expect(execution.locator(".reason")).to_have_text(
        "lead status became lost: bought elsewhere")
    expect(timeline).to_contain_text(
        "Status changed from new to lost by Ann Alves (bought elsewhere)", timeout=LIVE)
    expect(timeline).to_contain_text("Paused: lead status became lost: bought elsewhere")
    expect(page.locator("#part-summary .badge")).to_have_text("Lost")
    looked_at(page, "lead-lost")
    # And reopening it offers to resume what the status paused (not while it stays Lost)
    offer = page.get_by_label("Resume it when the lead reopens")
    expect(offer).to_be_hidden()
    page.get_by_label("New status").select_option("contacted")
    expect(offer).to_be_checked()
    looked_at(page, "lead-reopening")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#lead-said")).to_have_text("Status is now contacted. Resumed 1 follow-up.")
    expect(execution.locator(".badge").first).to_have_text("Active")
    # And the history says who reopened it, with no reason given none is shown
    expect(timeline).to_contain_text("Status changed from lost to contacted by Ann Alves",
                                     timeout=LIVE)
    expect(timeline).not_to_contain_text("(agent)")
    assert outside.errors == [] and outside.blocked == []


def test_the_agent_edits_the_profile_and_consent_from_the_lead_page(
        page: Page, live_app: LiveApp) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage)
    lia = lead(integration(live_app, brokerage), ann)
    sign_in(page, ann, next=f"/leads/{lia}")
    timeline = page.locator("#timeline")
    # Consent: the SMS switch opts the lead out
    sms = page.get_by_role("switch", name="SMS Allowed")
    sms.click()
    expect(page.get_by_role("switch", name="SMS Opted out")).to_have_attribute(
        "aria-checked", "false")
    expect(timeline).to_contain_text("Opted out of SMS", timeout=LIVE)
    # Profile: a refused value is shown beside its field, nothing changes
    page.get_by_text("Edit the profile").click()
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.locator("#p-phone-error")).to_be_visible()
    expect(page.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    looked_at(page, "lead-profile-refused")
    page.get_by_label("Phone").fill("+351911111111")
    page.get_by_label("Preferences").fill("area: Baixa\nbedrooms: 3")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.locator("#part-profile")).to_contain_text("+351911111111")
    expect(page.locator("#part-profile")).to_contain_text("Baixa")
    expect(timeline).to_contain_text("Profile edited", timeout=LIVE)
    profile = live_app.runtime.app.lead(__import__("uuid").UUID(lia))
    assert profile.preferences == {"area": "Baixa", "bedrooms": 3}


def test_another_agent_sees_none_of_it(page: Page, browser: Browser,
                                       live_app: LiveApp) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    bob = new_person(live_app.runtime, brokerage, name="Bob Brito")
    setup = integration(live_app, brokerage)
    published_workflow(setup, ann)
    lia = lead(setup, ann, score=90)
    [execution] = executions(setup, lia)
    sign_in(page, bob)
    for path in (f"/leads/{lia}", f"/leads/{lia}/parts/executions", f"/leads/{lia}/events"):
        assert page.goto(path).status == 404, path  # type: ignore[union-attr]
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    looked_at(page, "not-found")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    api = page.request
    assert api.get(f"/api/leads/{lia}").status == 404
    assert api.get(f"/api/leads/{lia}/history").status == 404
    paused = api.post(f"/api/executions/{execution['id']}/pause",
                      headers={"X-CSRF-Token": csrf})
    assert paused.status == 404
    assert setup.get(f"/api/executions/{execution['id']}").json()["status"] == "active"
    # Nor Ann's own template, nor her lead in a preview
    own = live_app.runtime.app.create_template(name="Ann's", channel="sms", body="Hi",
                                               brokerage_id=brokerage, agent_id=ann.agent_id)
    assert page.goto(f"/templates/{own}").status == 404  # type: ignore[union-attr]
    assert api.get(f"/api/templates/{own}").status == 404
    preview = api.post("/api/templates/preview", headers={"X-CSRF-Token": csrf},
                       data={"channel": "sms", "body": "Hi", "leadId": lia})
    assert preview.status == 404
    page.goto(f"/templates/new?channel=sms&lead={lia}")
    expect(page.get_by_label("For").locator("option")).to_have_count(1)  # the sample lead
    page.goto("/leads")
    expect(page.locator("#results")).not_to_contain_text("Lia Costa")


