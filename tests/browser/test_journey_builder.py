"""An agent builds a workflow in the browser: from the palette, reordered by drag and drop and by
keyboard alone, with delays and an SMS window, a missing template shown on its card and fixed,
an edit undone and redone across reloads, then published through the impact preview. Every
order and value is checked on the server, not only in the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.builder_steps import (
    channels,
    drag,
    make_templates,
    saved,
    server,
    step_card,
)
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import looked_at


def test_an_agent_builds_reorders_fixes_undoes_and_publishes_a_workflow(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    # Given an agent with an email and an SMS template, and a lead already at 90
    rt = live_app.runtime
    brokerage = new_brokerage(rt, "Harbour Homes")
    ann = new_person(rt, brokerage, name="Ann Alves")
    made = make_templates(rt, brokerage, ann.agent_id)
    rt.app.register_lead(agent_id=ann.agent_id, brokerage_id=brokerage, name="Lia Costa",
                         email="lia@example.com", phone=None, timezone="Europe/Lisbon",
                         preferences={}, timeline=None, score=90)

    # When she signs in and creates a workflow from the list
    sign_in(page, ann, next="%2Fworkflows")
    expect(page.get_by_role("heading", name="Workflows", level=1)).to_be_visible()
    looked_at(page, "workflows-empty")
    page.get_by_label("Name").fill("Hot leads")
    page.get_by_role("button", name="Create and open").click()
    # Then the builder opens on the new draft
    expect(page.get_by_role("heading", name="Hot leads", level=1)).to_be_visible()
    saved(page)
    looked_at(page, "builder-new")
    # And the empty draft's problem is said beside the steps, no palette button marked wrong
    expect(page.locator("#steps-error")).to_contain_text("at least one step")
    expect(page.locator(".add-step[aria-invalid]")).to_have_count(0)

    # When she drags Email from the palette onto the steps, and adds SMS and in-app by keyboard
    drag(page, page.locator(".palette-item[data-channel=email]"), page.locator("#steps"))
    saved(page)
    page.get_by_role("button", name="Add SMS").focus()
    page.keyboard.press("Enter")
    saved(page)
    page.get_by_role("button", name="Add in-app message").focus()
    page.keyboard.press("Space")
    saved(page)
    # Then the server has the three steps in that order
    assert channels(page) == ["email", "sms", "in_app"]

    # When she picks the email's and the text's templates and leaves the in-app one without
    step_card(page, 1).get_by_label("Template", exact=True).select_option(label="Welcome email")
    step_card(page, 2).get_by_label("Template", exact=True).select_option(label="Quick text")
    saved(page)
    # Then the card that is wrong says so, before any publish, and only that one
    expect(step_card(page, 3).locator(".field-error:visible")).to_have_text(
        "a step needs a template")
    expect(step_card(page, 1).locator(".field-error:visible")).to_have_count(0)
    expect(step_card(page, 3).get_by_label("Template", exact=True)).to_have_attribute(
        "aria-invalid", "true")
    expect(page.locator("#problems")).to_contain_text("Step 3, template: a step needs a template")
    looked_at(page, "builder-problem")

    # When she drags the in-app step by its handle above the first
    drag(page, step_card(page, 3).locator("[data-handle]"), step_card(page, 1), above=True)
    saved(page)
    # Then the server's order changed
    assert channels(page) == ["in_app", "email", "sms"]
    expect(step_card(page, 1).locator("h3")).to_have_text("Step 1 · In-app message")

    # When she moves it back to the end with the keyboard alone: Space lifts, arrows, Space
    handle = step_card(page, 1).locator("[data-handle]")
    handle.focus()
    page.keyboard.press("Space")
    expect(page.locator("#reorder-status")).to_contain_text("step 1 of 3, lifted")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#reorder-status")).to_contain_text("step 3 of 3")
    expect(page.locator("[data-step].lifted [data-handle]")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#reorder-status")).to_contain_text("step 3 of 3, dropped")
    saved(page)
    # Then the server's order is back, and the help for the handle is tied to it
    assert channels(page) == ["email", "sms", "in_app"]
    expect(step_card(page, 3).locator("[data-handle]")).to_have_attribute(
        "aria-describedby", "reorder-help")

    # When Escape cancels a lift, nothing moves
    step_card(page, 2).locator("[data-handle]").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")
    expect(page.locator("#reorder-status")).to_contain_text("Move cancelled")
    assert channels(page) == ["email", "sms", "in_app"]

    # When she sets the text to wait 2 hours, the in-app message 1 day, and an SMS window
    step_card(page, 2).get_by_label("Step 2 wait: unit").select_option("hours")
    step_card(page, 2).get_by_label("Step 2 wait: amount").fill("2")
    step_card(page, 3).get_by_label("Step 3 wait: amount").fill("1")
    step_card(page, 3).get_by_label("Step 3 wait: unit").select_option("days")
    sms = page.locator("[data-window=sms]")
    sms.get_by_label("Only between set hours").check()
    sms.get_by_label("From").fill("09:00")
    sms.get_by_label("Until").fill("17:00")
    saved(page)
    # Then the server has them
    draft = server(page)
    assert [s["delayMinutes"] for s in draft["steps"]] == [0, 120, 1440]
    assert draft["sendWindows"]["sms"] == {
        "start": "09:00", "end": "17:00",
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}

    # When she makes the in-app template right on the card
    card = step_card(page, 3)
    card.get_by_role("button", name="New template…").click()
    card.get_by_label("Template name").fill("New listings")
    card.get_by_label("Subject").fill("Fresh matches")
    card.get_by_label("Message").fill("{{ lead.first_name }}, three new homes for you.")
    card.get_by_role("button", name="Save template").click()
    saved(page)
    # Then the error is gone, the draft can be published, and the server has the template
    expect(card.locator(".field-error:visible")).to_have_count(0)
    expect(page.locator("#problems-none")).to_have_text("Ready to publish.")
    assert server(page)["steps"][2]["templateId"] not in (None, made["email"], made["sms"])
    expect(card.locator("[data-template-preview]")).to_contain_text("Sample: Fresh matches")
    looked_at(page, "builder-three-steps")

    # When she changes the text's wait to 3 hours, reloads, and presses Ctrl+Z
    step_card(page, 2).get_by_label("Step 2 wait: amount").fill("3")
    saved(page)
    assert server(page)["steps"][1]["delayMinutes"] == 180
    page.reload()
    saved(page)
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("Control+z")
    expect(page.locator("#save-status")).to_contain_text("Undone")
    # Then the server's draft is back to 2 hours, and the page shows it
    assert server(page)["steps"][1]["delayMinutes"] == 120
    expect(step_card(page, 2).get_by_label("Step 2 wait: amount")).to_have_value("2")
    # And after another reload Ctrl+Shift+Z brings the 3 hours back
    page.reload()
    saved(page)
    expect(page.get_by_role("button", name="Redo")).to_be_enabled()
    page.keyboard.press("Control+Shift+Z")
    expect(page.locator("#save-status")).to_contain_text("Redone")
    assert server(page)["steps"][1]["delayMinutes"] == 180
    expect(step_card(page, 2).get_by_label("Step 2 wait: amount")).to_have_value("3")
    # And in a text field Ctrl+Z is the field's own, not the draft's
    name = page.get_by_label("Name", exact=True)
    name.fill("Hot leads!")
    saved(page)
    name.press("Control+z")
    page.wait_for_timeout(300)
    assert server(page)["name"] == "Hot leads!"

    # When she opens the publish preview
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Publish version 1")
    expect(dialog).to_contain_text("1 lead is already at or above the threshold")
    expect(dialog).to_contain_text("No lead is running an earlier version.")
    expect(dialog.get_by_label("Keep them on their version until they finish")).to_be_hidden()
    looked_at(page, "builder-publish-preview")
    # And chooses to start it for that lead, and publishes
    dialog.get_by_label("Start it for them now too").check()
    dialog.get_by_role("button", name="Publish", exact=True).click()
    # Then version 1 is live, started for the lead
    expect(page.locator("#save-status")).to_contain_text(
        "Published version 1. Started for 1 lead already above the threshold.")
    expect(page.locator("#workflow-status")).to_have_text("Published")
    published = server(page)
    assert published["status"] == "published" and published["versions"][0]["number"] == 1
    version = page.request.get(f"/api/workflows/{published['id']}/versions/1").json()
    assert [s["channel"] for s in version["definition"]["steps"]] == ["email", "sms", "in_app"]
    expect(page.locator("#versions")).to_contain_text("Version 1 (live)")
    looked_at(page, "builder-published")
    # And the list of workflows shows it live, running for the lead, its first email sent
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    row = page.locator(".workflow-list tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=published["name"])).to_be_visible()
    expect(row.locator("[data-label='Status']")).to_have_text("Published")
    expect(row.locator("[data-label='Live version']")).to_have_text("1")
    expect(row.locator("[data-label='Active runs']")).to_have_text("1")
    for _ in range(50):  # the sent count follows the worker's send and the read model
        if row.locator("[data-label='Sent, last 7 days']").inner_text() == "1":
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(row.locator("[data-label='Sent, last 7 days']")).to_have_text("1")
    looked_at(page, "workflows")
    assert outside.errors == [] and outside.blocked == []
