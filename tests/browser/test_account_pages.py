"""Users, API tokens, the account and dead letters, in the browser: an admin creates an agent
who then signs in; a token's secret is shown once and works, then is revoked; a password is
changed; a held step is listed with its reason and replayed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from application.errors import TransientSendError
from application.ports import OutgoingMessage
from domain import execution
from tests.browser.accounts import PASSWORD, Person, new_brokerage, new_person, sign_in
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import (
    eventually,
    executions,
    integration,
    lead,
    looked_at,
    published_workflow,
    unexpected,
)


def test_an_admin_creates_an_agent_who_signs_in(page: Page, browser: Browser,
                                                live_app: LiveApp, outside: Outside) -> None:
    ada = new_person(live_app.runtime, new_brokerage(live_app.runtime), "admin", "Ada Admin")
    sign_in(page, ada)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    # A refused account is shown beside its field
    email = f"ann-{uuid.uuid4().hex[:8]}@example.test"
    page.get_by_label("Name").fill("Ann Alves")
    page.get_by_label("Email").fill(email)
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#user-password-error")).to_contain_text("at least 10")
    looked_at(page, "users-refused")
    page.get_by_label("First password").fill("a first password")
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#users-list")).to_contain_text(email)
    expect(page.locator("#user-form [data-said]")).to_contain_text("Account created")
    looked_at(page, "users")
    # The new agent signs in with it, and has no Users page
    context = browser.new_context(base_url=live_app.url)
    agent_page = context.new_page()
    ann = Person(email=email, name="Ann Alves", role="agent", user=None,
                 brokerage_id=ada.brokerage_id)
    sign_in(agent_page, ann, password="a first password")
    assert agent_page.goto("/users").status == 403  # type: ignore[union-attr]
    context.close()
    assert unexpected(outside.errors) == [] and outside.blocked == []


def test_a_tokens_secret_is_shown_once_works_and_is_revoked(page: Page,
                                                            live_app: LiveApp) -> None:
    ann = new_person(live_app.runtime, new_brokerage(live_app.runtime))
    sign_in(page, ann, next="/tokens")
    page.get_by_label("Name").fill("Scoring system")
    page.get_by_role("button", name="Create the token").click()
    expect(page.locator("#token-scopes-error")).to_have_text("choose at least one")
    page.get_by_label("leads:read").check()
    page.get_by_role("button", name="Create the token").click()
    secret = page.get_by_label("Token", exact=True)
    expect(secret).to_be_focused()
    token = secret.input_value()
    assert token
    expect(page.locator("#tokens-list")).to_contain_text("Scoring system")
    looked_at(page, "tokens")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-said")).not_to_be_empty()
    api = httpx.Client(base_url=live_app.url, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/tokens/scopes").status_code == 200
    page.reload()
    expect(page.locator("#secret-value")).to_be_hidden()  # never shown again
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Scoring system").click()
    expect(page.locator("#tokens-list")).to_contain_text("Revoked")
    assert api.get("/api/tokens/scopes").status_code == 401


def test_a_password_is_changed_from_the_account_page(page: Page, live_app: LiveApp) -> None:
    ann = new_person(live_app.runtime, new_brokerage(live_app.runtime))
    sign_in(page, ann)
    page.get_by_role("link", name=ann.name).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a new password!")
    page.get_by_label("New password again").fill("a different one")
    page.get_by_role("button", name="Change the password").click()
    expect(page.locator("#repeat-password-error")).to_be_visible()
    looked_at(page, "account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a new password!")
    page.get_by_label("New password again").fill("a new password!")
    page.get_by_role("button", name="Change the password").click()
    expect(page.locator("#password-form [data-said]")).to_contain_text("password is changed")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, ann, password="a new password!")


def test_the_dead_letter_list_when_nothing_is_held(page: Page, live_app: LiveApp) -> None:
    ann = new_person(live_app.runtime, new_brokerage(live_app.runtime))
    sign_in(page, ann, next="/dead-letters")
    expect(page.get_by_role("heading", name="0 steps held")).to_be_visible()
    looked_at(page, "dead-letters-empty")


class BusyMailbox:
    """The email channel, but for one address a transient refusal while ``busy``."""

    def __init__(self, channel: Any, address: str) -> None:
        self.channel, self.address, self.busy = channel, address, True

    def send(self, message: OutgoingMessage) -> str:
        if self.busy and message.recipient == self.address:
            raise TransientSendError("smtp 451: mailbox busy")
        return str(self.channel.send(message))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


def test_a_held_step_is_listed_with_its_reason_and_replayed(
        page: Page, live_app: LiveApp, outside: Outside, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a lead whose email the provider refused until its attempts ran out (the retries
    # made at once rather than over an hour)
    rt = live_app.runtime
    brokerage = new_brokerage(rt)
    ann = new_person(rt, brokerage, name="Ann Alves")
    api = integration(live_app, brokerage)
    busy = BusyMailbox(rt.channels["email"], "held@example.com")
    monkeypatch.setitem(rt.channels, "email", busy)
    monkeypatch.setattr(execution, "retry_backoff", lambda attempt: timedelta(0))
    published_workflow(api, ann)
    lia = lead(api, ann, score=40, email="held@example.com")
    api.post(f"/api/leads/{lia}/score", json={"score": 90, "reason": "asked for a visit"})
    eventually(lambda: api.get("/api/dead-letters").json(), timeout=20)
    busy.busy = False
    # When Ann opens the dead letters
    sign_in(page, ann, next="/dead-letters")
    # Then the step is there with the lead, the workflow and why
    expect(page.get_by_role("heading", name="1 step held")).to_be_visible()
    row = page.locator("#dead-letters-list tbody tr")
    expect(row).to_contain_text("Lia Costa")
    expect(row).to_contain_text("Hot lead")
    expect(row).to_contain_text("smtp 451: mailbox busy")
    looked_at(page, "dead-letters")
    # And when she replays it, it goes out and leaves the list
    page.get_by_role("button", name="Replay step 1 for Lia Costa").click()
    expect(page.locator("#replay-said")).to_contain_text("Replayed")
    expect(page.get_by_role("heading", name="0 steps held")).to_be_visible()
    eventually(lambda: executions(api, lia)[0]["steps"][0]["status"] == "sent", timeout=20)
    assert unexpected(outside.errors) == [] and outside.blocked == []
