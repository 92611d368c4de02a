"""The front-end packages the pages will use load from the app and run under its CSP, with no
refusal: htmx (its indicator styles included) and SortableJS."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import Outside


def test_htmx_and_sortable_load_and_run_under_the_csp(page: Page, outside: Outside) -> None:
    # Given a document of the app (a small one: the health report)
    page.goto("/health")
    # When the packages' files are loaded from it, as a page's <script src> would
    for src in ("/assets/vendor/htmx/htmx.min.js", "/assets/vendor/sortable/Sortable.min.js",
                "/assets/app/app.js"):
        page.add_script_tag(url=src)
    # Then they run: htmx has added its indicator styles, SortableJS is there
    assert page.evaluate("() => typeof htmx.version") == "string"
    assert page.evaluate("() => typeof Sortable.create") == "function"
    assert page.evaluate("() => document.adoptedStyleSheets.length") >= 1
    assert outside.errors == [] and outside.blocked == []
