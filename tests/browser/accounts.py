"""People for browser tests: a brokerage of the test's own with users of unique emails (one
live app serves the whole session), and signing a page in through the sign-in form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str
    user: Any  # application.accounts.UserView
    brokerage_id: uuid.UUID

    @property
    def agent_id(self) -> str:
        return str(self.user.agent_id)


def new_brokerage(runtime: Any, name: str = "Acme Homes") -> uuid.UUID:
    slug = f"b-{uuid.uuid4().hex[:10]}"
    return runtime.app.open_brokerage(slug, name)  # type: ignore[no-any-return]


def new_person(runtime: Any, brokerage_id: uuid.UUID, role: str = "agent",
               name: str = "Ann Agent") -> Person:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
    user = runtime.app.create_user(brokerage_id=brokerage_id, email=email, name=name, role=role,
                                   password=PASSWORD)
    return Person(email=email, name=name, role=role, user=user, brokerage_id=brokerage_id)


def sign_in(page: Page, person: Person, next: str = "", password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person would; waits for the page it leads to."""
    page.goto(f"/sign-in?next={next}" if next else "/sign-in")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name=person.name)).to_be_visible()
