"""The browser harness checks what it says it checks: axe-core fails a page naming each serious
or critical violation, a request for another host is blocked and recorded, and the app's CSP
holds in a real browser (an inline script does not run)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Outside
from tests.browser.harness import axe

PIXEL = ("data:image/gif;base64,"
         "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def test_axe_fails_naming_each_serious_or_critical_violation(page: Page) -> None:
    page.set_content(f'<html><body><main><img src="{PIXEL}"><button></button></main></body>'
                     "</html>")
    with pytest.raises(pytest.fail.Exception) as failed:
        axe(page)
    message = str(failed.value)
    for expected in ("image-alt (critical)", "button-name (critical)", "html-has-lang (serious)",
                     "at img", "at button", "at html"):
        assert expected in message, message


def test_axe_passes_a_page_with_nothing_serious(page: Page) -> None:
    page.set_content('<html lang="en"><head><title>Leads</title></head><body><main>'
                     f'<h1>Leads</h1><img src="{PIXEL}" alt="Ana"></main></body></html>')
    assert [v["impact"] for v in axe(page)] == []


def test_a_request_for_another_host_is_blocked_and_recorded(page: Page, outside: Outside
                                                            ) -> None:
    page.set_content('<html><body><img src="https://cdn.example.org/x.png"></body></html>')
    assert outside.blocked == ["https://cdn.example.org/x.png"]


def test_the_apps_csp_refuses_an_inline_script_in_a_real_browser(page: Page, outside: Outside
                                                                 ) -> None:
    # Given a document of the app (a small one: the health report)
    page.goto("/health")
    # When an inline script is added to it
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.ran = true'; document.body.append(s); }""")
    # Then it does not run, and the browser says why
    assert page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in e for e in outside.errors), outside.errors
