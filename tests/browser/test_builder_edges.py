"""The builder when things go wrong or sideways: two tabs editing one draft (412: reloaded and
said), a value the rules refuse (shown on its field, nothing saved), another agent's workflow
(a 404 page), and a step duplicated and moved with its buttons alone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.builder_steps import channels, make_templates, saved, server, step_card
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import looked_at, unexpected
from tests.browser.test_builder_versions import in_the_builder, published_workflow


def test_a_second_tab_that_edits_after_the_first_is_reloaded_and_told(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    # Given the same draft open in two tabs
    workflow = in_the_builder(page, live_app)
    other = page.context.new_page()
    other.goto(f"/workflows/{workflow}")
    saved(other)
    # When the first renames it, then the second changes the threshold
    page.get_by_label("Name", exact=True).fill("Open house, weekends")
    saved(page)
    other.get_by_label("Score threshold").fill("75")
    # Then the second is told, and shows the draft as it is now: the first tab's name
    expect(other.get_by_role("alert")).to_contain_text("This workflow was changed elsewhere")
    expect(other.get_by_label("Name", exact=True)).to_have_value("Open house, weekends")
    expect(other.get_by_label("Score threshold")).to_have_value("70")
    assert server(page)["name"] == "Open house, weekends"
    assert server(page)["trigger"]["scoreThreshold"] == 70
    looked_at(other, "builder-stale")
    # And its next change saves
    other.get_by_label("Score threshold").fill("75")
    saved(other)
    assert server(other)["trigger"]["scoreThreshold"] == 75
    assert unexpected(outside.errors) == []


def test_a_refused_value_is_shown_on_its_field_and_nothing_is_saved(
        page: Page, live_app: LiveApp) -> None:
    # Given a draft
    in_the_builder(page, live_app)
    # When she sets an SMS window that runs into the night, and a hysteresis past the threshold
    sms = page.locator("[data-window=sms]")
    sms.get_by_label("Only between set hours").check()
    sms.get_by_label("From").fill("07:00")
    sms.get_by_label("Until").fill("22:00")
    # Then the window's own place says why, and the draft is as it was
    error = page.locator("#win-sms-error")
    expect(error).to_contain_text("Not saved")
    expect(error).to_contain_text("08:00")
    expect(page.locator("#save-status")).to_contain_text("Not saved")
    expect(page.locator("#win-sms-on")).to_have_attribute("aria-invalid", "true")
    assert server(page)["sendWindows"] == {}
    looked_at(page, "builder-refused")
    # When she brings it inside the hours, it saves and the mark goes
    sms.get_by_label("From").fill("08:30")
    sms.get_by_label("Until").fill("20:00")
    saved(page)
    expect(error).to_be_hidden()
    assert server(page)["sendWindows"]["sms"]["start"] == "08:30"
    # And a hysteresis of the threshold or more is refused on its field
    page.get_by_label("Hysteresis (points)").fill("70")
    expect(page.locator("#tr-hysteresis-error")).to_contain_text("Not saved")
    page.get_by_label("Hysteresis (points)").fill("5")
    saved(page)
    assert server(page)["trigger"]["hysteresis"] == 5


def test_undo_after_a_refused_change_takes_that_change_back(page: Page,
                                                            live_app: LiveApp) -> None:
    # Given a draft with a saved change, then a change the rules refuse
    in_the_builder(page, live_app)
    page.get_by_label("Hysteresis (points)").fill("5")
    saved(page)
    page.get_by_label("Hysteresis (points)").fill("70")
    expect(page.locator("#tr-hysteresis-error")).to_contain_text("Not saved")
    expect(page.get_by_role("button", name="Redo")).to_be_disabled()
    # When she undoes
    page.get_by_role("button", name="Undo").click()
    # Then the refused value goes, the saved one is back on the page, and nothing else is undone
    expect(page.get_by_label("Hysteresis (points)")).to_have_value("5")
    expect(page.locator("#tr-hysteresis-error")).to_be_hidden()
    expect(page.locator("#save-status")).to_contain_text("not saved is taken back")
    assert server(page)["trigger"]["hysteresis"] == 5
    # And a second undo undoes the saved change
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#save-status")).to_contain_text("Undone")
    expect(page.get_by_label("Hysteresis (points)")).not_to_have_value("5")
    assert server(page)["trigger"]["hysteresis"] != 5


def test_another_agents_workflow_is_a_404_page(page: Page, live_app: LiveApp) -> None:
    rt = live_app.runtime
    brokerage = new_brokerage(rt)
    ann, bob = new_person(rt, brokerage, name="Ann Alves"), new_person(rt, brokerage, name="Bob")
    workflow = published_workflow(rt, brokerage, ann.agent_id)
    sign_in(page, bob)
    response = page.goto(f"/workflows/{workflow}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert page.request.get(f"/api/workflows/{workflow}").status == 404
    assert page.goto("/workflows/not-an-id").status == 404  # type: ignore[union-attr]


def test_a_step_is_duplicated_and_moved_with_its_buttons(page: Page, live_app: LiveApp) -> None:
    # Given a draft of an email then a text
    rt = live_app.runtime
    brokerage = new_brokerage(rt)
    ann = new_person(rt, brokerage, name="Ann Alves")
    workflow = published_workflow(rt, brokerage, ann.agent_id)
    make_templates(rt, brokerage, ann.agent_id)
    sign_in(page, ann, next=f"%2Fworkflows%2F{workflow}")
    saved(page)
    # When the text is duplicated
    step_card(page, 2).get_by_role("button", name="Duplicate step 2").click()
    saved(page)
    # Then the copy follows it, with its template and wait, and an id of its own
    steps = server(page)["steps"]
    assert [s["channel"] for s in steps] == ["email", "sms", "sms"]
    assert steps[2]["templateId"] == steps[1]["templateId"]
    assert steps[2]["delayMinutes"] == steps[1]["delayMinutes"] == 120
    assert len({s["id"] for s in steps}) == 3
    # When the first step is moved down twice with its button, the focus staying on it
    button = step_card(page, 1).get_by_role("button", name="Move down step 1")
    button.click()
    expect(page.get_by_role("button", name="Move down step 2")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Move down step 3")).to_be_focused()
    expect(page.get_by_role("button", name="Move down step 3")).to_have_attribute(
        "aria-disabled", "true")
    saved(page)
    # Then the server has the email last; a press on the disabled button changes nothing
    assert channels(page) == ["sms", "sms", "email"]
    page.keyboard.press("Enter")
    page.wait_for_timeout(900)
    assert channels(page) == ["sms", "sms", "email"]
    # When the copy is removed, the focus goes to the step now in its place
    step_card(page, 2).get_by_role("button", name="Remove step 2").click()
    saved(page)
    assert channels(page) == ["sms", "email"]
    expect(step_card(page, 2).locator("[data-handle]")).to_be_focused()
