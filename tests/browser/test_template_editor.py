"""The template editor: a live preview of unsaved text for a chosen lead, mistakes with their
line, variables inserted at the cursor, saving a new revision with If-Match."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import eventually, integration, lead, looked_at, template, unexpected


def test_an_agent_creates_a_template_and_edits_it_with_a_live_preview(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage)
    lia = lead(integration(live_app, brokerage), ann, preferences={"area": "Alfama"})
    sign_in(page, ann, next="/templates/new?channel=email")
    page.get_by_label("Name").fill("First touch")
    page.get_by_label("Subject").fill("Hello {{ lead.first_name }}")
    page.get_by_label("Body").fill("Homes in {{ lead.preferences.area | default('town') }}")
    expect(page.locator("#preview-subject")).to_have_text("Hello Sample")
    expect(page.locator("#preview-body")).to_have_text("Homes in Downtown")
    looked_at(page, "template-new")
    page.get_by_role("button", name="Create the template").click()
    page.wait_for_url("**/templates/*-*")
    template_id = page.url.rsplit("/", 1)[1]
    # The chosen lead's preview, as the agent types (nothing saved)
    page.get_by_label("For").select_option(label="Lia Costa (lia@example.com)")
    expect(page.locator("#preview-subject")).to_have_text("Hello Lia")
    body = page.get_by_label("Body")
    body.fill("Hi {{ lead.first_name }},\nhomes in {{ lead.preferences.area }}\n")
    expect(page.locator("#preview-body")).to_have_text("Hi Lia,\nhomes in Alfama\n")
    # A mistake is shown with its line, and the gutter marks it
    body.fill("Hi {{ lead.first_name }},\n\n{{ lead.name }\n")
    expect(page.locator("#t-body-error")).to_have_text(
        "template syntax error on line 3: unexpected '}'")
    expect(page.locator("#t-body-gutter .bad")).to_have_text("3")
    expect(body).to_be_focused()
    looked_at(page, "template-error")
    # A variable goes in at the cursor; the sample lead's preview
    body.fill("Hi ")
    body.press("End")
    page.get_by_text("Variables").click()
    page.get_by_role("button", name="lead.first_name (insert)").click()
    expect(body).to_have_value("Hi {{ lead.first_name }}")
    page.get_by_label("For").select_option("")
    expect(page.locator("#preview-body")).to_have_text("Hi Sample")
    page.get_by_role("button", name="Save a new revision").click()
    expect(page.locator("#save-said")).to_have_text("Saved: revision 2.")
    expect(page.locator("#revisions")).to_contain_text("Revision 2")
    # Saving again, when someone else saved meanwhile, is refused and keeps the text
    api = integration(live_app, brokerage)
    current = api.get(f"/api/templates/{template_id}")
    api.put(f"/api/templates/{template_id}", headers={"If-Match": current.headers["ETag"]},
            json={"name": "First touch", "subject": "Hey", "body": "Someone else's"})
    body.fill("Mine")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-said")).to_contain_text("Someone saved a newer revision")
    expect(body).to_have_value("Mine")
    looked_at(page, "template-editor")
    # From a lead's page: the editor opens with that lead's preview
    page.goto(f"/templates/{template_id}?lead={lia}")
    expect(page.get_by_label("For")).to_have_value(lia)
    expect(page.locator("#preview-subject")).to_have_text("Hey")
    assert unexpected(outside.errors) == [] and outside.blocked == []


def test_the_list_shows_ones_own_and_the_brokerages_templates(page: Page,
                                                              live_app: LiveApp) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage)
    bob = new_person(live_app.runtime, brokerage, name="Bob Brito")
    shared = template(integration(live_app, brokerage), name="Brokerage welcome")
    sign_in(page, bob, next="/templates/new?channel=sms")
    page.get_by_label("Name").fill("Bob's nudge")
    page.get_by_label("Body").fill("Hi {{ lead.first_name }}")
    page.get_by_role("button", name="Create the template").click()
    page.wait_for_url("**/templates/*-*")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, ann, next="/templates")
    rows = page.locator("#templates-list tbody tr")
    expect(rows).to_have_count(1)  # the brokerage's, not Bob's
    expect(rows.first).to_contain_text("Brokerage welcome")
    expect(rows.first).to_contain_text("The brokerage")
    looked_at(page, "templates")
    rows.first.get_by_role("link").click()
    expect(page.get_by_text("This is the brokerage's own template")).to_be_visible()
    expect(page.get_by_label("Body")).to_have_attribute("readonly", "")
    expect(page.get_by_role("button", name="Save a new revision")).to_have_count(0)
    expect(page.locator("#preview-body")).to_contain_text("new homes in Downtown")
    assert page.goto(f"/templates/{shared}").status == 200  # type: ignore[union-attr]


def test_each_line_number_stays_beside_its_line_however_long_the_line(
        page: Page, live_app: LiveApp) -> None:
    # Given the editor at a phone's width, and a body whose first line is longer than the box
    ann = new_person(live_app.runtime, new_brokerage(live_app.runtime))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, ann, next="/templates/new?channel=sms")
    body = page.get_by_label("Body")
    body.fill("Hi {{ lead.first_name }}, " + "new homes near you this week " * 8 + "\n{{ x }\n")
    # When the mistake on line 2 is marked
    bad = page.locator("#t-body-gutter .bad")
    expect(bad).to_have_text("2")
    # Then the long line runs on past the box (scrolled sideways inside it) rather than
    # wrapping onto rows of its own, so each number of the gutter is level with its line
    assert body.evaluate("b => b.scrollWidth > b.clientWidth + 50")
    line_height = body.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
    text_top = body.evaluate("b => b.getBoundingClientRect().top + parseFloat("
                             "getComputedStyle(b).paddingTop) - b.scrollTop")
    assert abs(bad.evaluate("m => m.getBoundingClientRect().top")
               - (text_top + line_height)) < line_height / 2
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 390  # the page itself does not scroll sideways


def test_a_lead_the_step_would_skip_shows_why_and_no_empty_subject(page: Page,
                                                                   live_app: LiveApp) -> None:
    # Given a lead without a garden preference, and an email template that prints it with no
    # default
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage)
    api = integration(live_app, brokerage)
    tom = lead(api, ann, name="Tom Reis")
    lead(api, ann, name="Gil Sousa", preferences={"garden": "yes"})
    directory = live_app.runtime.directory
    eventually(lambda: len(directory.leads_at_or_above(brokerage, ann.agent_id, 0)) == 2)
    welcome = template(api, body="Gardens: {{ lead.preferences.garden }}.")
    # When the template is previewed for him
    sign_in(page, ann, next=f"/templates/{welcome}?lead={tom}")
    # Then the preview says the send would skip the step, with no subject line above it
    expect(page.locator("#preview-skipped")).to_contain_text("would skip the step")
    expect(page.locator("#preview-subject-wrap")).to_be_hidden()
    # And for a lead with a garden preference the subject is back
    page.get_by_label("For").select_option(label="Gil Sousa (lia@example.com)")
    expect(page.locator("#preview-subject-wrap")).to_be_visible()
    expect(page.locator("#preview-subject")).to_have_text("Homes for you, Gil")
    expect(page.locator("#preview-skipped")).to_be_hidden()
