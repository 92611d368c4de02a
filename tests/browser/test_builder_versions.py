"""The builder's versions and holds: a version viewed as frozen, a rollback (a new publish, the
draft it replaced brought back by Undo), pausing and resuming the whole workflow."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.builder_steps import make_templates, saved, server, step_card
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import looked_at


def published_workflow(runtime: Any, brokerage: UUID, agent_id: str) -> UUID:
    """Version 1 (an email at once, a text a day later), and a draft since with the text two
    hours later."""
    app = runtime.app
    made = make_templates(runtime, brokerage, agent_id)
    steps = [{"id": "welcome", "channel": "email", "template_id": made["email"],
              "delay_minutes": 0},
             {"id": "nudge", "channel": "sms", "template_id": made["sms"],
              "delay_minutes": 1440}]
    workflow = app.create_workflow(agent_id=agent_id, brokerage_id=brokerage, name="Open house",
                                   definition={"trigger": {"score_threshold": 70},
                                               "steps": steps})
    app.publish_workflow(workflow)
    steps[1]["delay_minutes"] = 120
    app.edit_workflow(workflow, name="Open house",
                      definition={"trigger": {"score_threshold": 70}, "steps": steps})
    return workflow


def in_the_builder(page: Page, live_app: LiveApp) -> UUID:
    """Given Ann of a new brokerage in the builder of her published workflow (its draft
    changed since), the draft loaded and saved: the workflow's id."""
    rt = live_app.runtime
    brokerage = new_brokerage(rt)
    ann = new_person(rt, brokerage, name="Ann Alves")
    workflow = published_workflow(rt, brokerage, ann.agent_id)
    sign_in(page, ann, next=f"%2Fworkflows%2F{workflow}")
    saved(page)
    return workflow


def test_an_agent_views_a_version_rolls_back_undoes_and_pauses(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    # Given a published workflow whose draft has changed since
    in_the_builder(page, live_app)
    expect(page.locator("#workflow-status")).to_have_text("Published")
    expect(page.locator("#live-version")).to_contain_text("the draft has unpublished changes")
    expect(step_card(page, 2).get_by_label("Step 2 wait: amount")).to_have_value("2")

    # When she publishes the draft as version 2
    page.get_by_role("button", name="Publish…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Publish version 2")
    expect(dialog.locator("#pp-steps")).to_contain_text("SMS, 2 hours later — Quick text")
    dialog.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#save-status")).to_contain_text("Published version 2.")

    # And views version 1
    page.get_by_role("button", name="View version 1").click()
    version = page.get_by_role("dialog")
    expect(version.get_by_role("heading")).to_have_text("Version 1")
    expect(version).to_contain_text("SMS, 1 day later — Quick text")
    looked_at(page, "builder-version")
    # And rolls back to it
    version.get_by_role("button", name="Roll back to version 1").click()
    expect(page.locator("#save-status")).to_contain_text(
        "Version 1 is live again, as version 3.")
    # Then version 3 is version 1 again, live, and the draft is it
    now = server(page)
    assert [v["number"] for v in now["versions"]] == [1, 2, 3]
    assert now["versions"][2]["restoredFrom"] == 1
    assert [s["delayMinutes"] for s in now["steps"]] == [0, 1440]
    expect(page.locator("#versions")).to_contain_text("Version 3 (live)")
    expect(page.locator("#versions")).to_contain_text("again version 1")
    expect(step_card(page, 2).get_by_label("Step 2 wait: amount")).to_have_value("1")
    # When she undoes, the draft she had before the rollback comes back (versions untouched)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#save-status")).to_contain_text("Undone")
    now = server(page)
    assert [s["delayMinutes"] for s in now["steps"]] == [0, 120]
    assert [v["number"] for v in now["versions"]] == [1, 2, 3] and now["draftChanged"]

    # When she pauses the workflow
    page.get_by_role("button", name="Pause").click()
    # Then it is paused, and Resume has the focus
    expect(page.locator("#workflow-status")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_focused()
    assert server(page)["status"] == "paused"
    looked_at(page, "builder-paused")
    # And resuming brings it back
    page.keyboard.press("Enter")
    expect(page.locator("#workflow-status")).to_have_text("Published")
    assert server(page)["status"] == "published"
    assert outside.errors == [] and outside.blocked == []
