"""The app's shell: signing in (and the way back to the page asked for), the layout every page
shares, signing out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import looked_at, unexpected


def test_an_agent_signs_in_sees_the_shell_and_signs_out(page: Page, live_app: LiveApp,
                                                        outside: Outside) -> None:
    # Given an agent of a brokerage
    brokerage = new_brokerage(live_app.runtime, "Harbour Homes")
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    # When they open a page without a session, they land on the sign-in page
    page.goto("/leads")
    assert page.url.endswith("/sign-in?next=%2Fleads")
    looked_at(page, "sign-in")
    # And a wrong password is refused inline, with nothing said about which part was wrong
    page.get_by_label("Email").fill(ann.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or the password is wrong.")
    expect(page.get_by_label("Email")).to_have_value(ann.email)
    looked_at(page, "sign-in-refused")
    # When they sign in properly, they are taken to the page they asked for
    sign_in(page, ann, next="%2Fleads")
    assert page.url.endswith("/leads")
    # Then the shell shows their brokerage, their name and the navigation (no Users: not admin)
    expect(page.locator(".brokerage")).to_have_text("Harbour Homes")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Leads")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    looked_at(page, "shell-leads")
    # And the skip link is the first thing the keyboard reaches, and it goes to the content
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    # When they sign out, the session is over: pages send them to sign in again
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/sign-in")
    page.goto("/leads")
    assert "/sign-in" in page.url
    assert unexpected(outside.errors) == []  # but the refused sign-in's 401
    assert outside.blocked == []


def test_an_admin_sees_users_in_the_navigation(page: Page, live_app: LiveApp) -> None:
    ada = new_person(live_app.runtime, new_brokerage(live_app.runtime), "admin", "Ada Admin")
    sign_in(page, ada)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()


