"""The API docs in a real browser: Swagger UI lists every operation, and no request leaves the
app (the page is served with our own files only)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, Outside
from tests.browser.harness import WIDTHS, axe, settle, shoot


def test_the_docs_list_every_operation_with_nothing_from_outside(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    # Given the operations the app documents
    paths = httpx.get(f"{live_app.url}/openapi.json").json()["paths"]
    operations = sum(len(item) for item in paths.values())
    # When the docs page is opened with every other host blocked
    page.goto("/docs")
    # Then the operations are listed, registering a lead among them
    register = page.locator(".opblock-post:has(.opblock-summary-path[data-path='/api/leads'])")
    expect(register).to_be_visible()
    expect(register).to_contain_text("Register Lead")
    expect(page.locator(".opblock")).to_have_count(operations)
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()  # a token, for tries
    # axe at both widths, but for two rules Swagger UI's own markup breaks (its method badges'
    # contrast, a button inside each operation's summary button): upstream, not ours
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        settle(page)
        axe(page, rules={"color-contrast": {"enabled": False},
                         "nested-interactive": {"enabled": False}})
    shoot(page, "docs")
    # And an operation opened shows its errors in the one shape, with an example per status
    register.locator(".opblock-summary-control").click()
    for status in ("409", "413", "422", "500"):
        expect(register.locator(f"tr.response[data-code='{status}']")).to_contain_text('"error"')
    expect(register.locator("tr.response[data-code='422']")).to_contain_text('"invalid"')
    shoot(page, "docs-register-lead")
    # And nothing was fetched from elsewhere, nor refused by the CSP
    assert outside.blocked == []
    assert outside.errors == []
