"""What the builder's browser tests do often: read the draft from the server, drag with the mouse,
wait for the autosave."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Locator, Page, expect


def saved(page: Page) -> None:
    """Waits for the autosave to say the draft on the server is the page's."""
    expect(page.locator("#save-status")).to_have_text("All changes saved.", timeout=10_000)


def server(page: Page) -> dict[str, Any]:
    """The workflow as the API answers it now (the page's session reads it)."""
    workflow_id = page.locator("#builder").get_attribute("data-workflow-id")
    response = page.request.get(f"/api/workflows/{workflow_id}")
    assert response.ok, response.text()
    return dict(response.json())


def channels(page: Page) -> list[str]:
    return [s["channel"] for s in server(page)["steps"]]


def drag(page: Page, source: Locator, target: Locator, *, above: bool = False) -> None:
    """Presses the mouse on ``source``, moves it in small steps onto ``target`` (its upper part
    with ``above``, else its middle) and lets go: what SortableJS's pointer fallback follows."""
    _both_in_view(page, source, target)
    start, end = source.bounding_box(), target.bounding_box()
    assert start is not None and end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    x = end["x"] + end["width"] / 2
    y = end["y"] + (end["height"] * 0.2 if above else end["height"] / 2)
    page.mouse.move(x, y - 10, steps=15)
    page.mouse.move(x, y, steps=5)
    page.mouse.up()


def _both_in_view(page: Page, source: Locator, target: Locator) -> None:
    """Scrolls so the middle of ``source`` and ``target`` is mid-screen (the mouse moves in the
    viewport's coordinates)."""
    start, end = source.bounding_box(), target.bounding_box()
    assert start is not None and end is not None
    middle = (start["y"] + end["y"] + end["height"]) / 2
    height = (page.viewport_size or {"height": 800})["height"]
    page.evaluate("y => window.scrollBy(0, y)", middle - height / 2)


def step_card(page: Page, number: int) -> Locator:
    return page.locator("#steps > li").nth(number - 1)


def make_templates(runtime: Any, brokerage_id: uuid.UUID, agent_id: str) -> dict[str, str]:
    app = runtime.app
    return {
        "email": str(app.create_template(name="Welcome email", channel="email", subject="Hello",
                                         body="Hi {{ lead.first_name }}, thanks for asking.",
                                         brokerage_id=brokerage_id, agent_id=agent_id)),
        "sms": str(app.create_template(name="Quick text", channel="sms",
                                       body="Hi {{ lead.first_name }}, it's your agent.",
                                       brokerage_id=brokerage_id, agent_id=agent_id)),
    }
