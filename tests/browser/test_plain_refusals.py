"""A refusal in the pages is in plain words, on its own field, under the screen's label: never
pydantic's wording ("Input should be", "Value error", "String should"), never the API's field
names, never an old message left over from an earlier answer."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accounts import new_brokerage, new_person, sign_in
from tests.browser.builder_steps import step_card
from tests.browser.conftest import LiveApp, Outside
from tests.browser.scenario import eventually, integration, lead, looked_at, unexpected
from tests.browser.test_builder_versions import in_the_builder

PYDANTIC = ("Input should", "Value error", "String should", "List should", "less than or equal")


def plain(page: Page) -> None:
    """Nothing on the page in pydantic's words."""
    text = page.locator("main").inner_text()
    assert not [words for words in PYDANTIC if words in text], text


def test_the_users_form_says_why_on_each_field(page: Page, live_app: LiveApp,
                                               outside: Outside) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ada = new_person(live_app.runtime, brokerage, "admin", "Ada Admin")
    taken = new_person(live_app.runtime, brokerage, name="Ann Alves")
    sign_in(page, ada, next="/users")
    # A name of spaces only
    page.get_by_label("Name").fill("   ")
    page.get_by_label("Email").fill("new-agent@example.test")
    page.get_by_label("First password").fill("a first password")
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#user-name-error")).to_have_text("must contain a visible character")
    plain(page)
    # An email that already has an account: said on the Email field, as a sentence
    page.get_by_label("Name").fill("Ann Again")
    page.get_by_label("Email").fill(taken.email)
    page.get_by_role("button", name="Create the account").click()
    expect(page.locator("#user-email-error")).to_have_text(
        "An account with this email already exists.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#user-form [data-said]")).to_have_text(
        "Not saved: see the fields marked.")
    expect(page.locator("#user-name-error")).to_have_count(0)
    plain(page)
    looked_at(page, "users-email-taken")
    assert unexpected(outside.errors) == []


def test_the_tokens_form_asks_for_a_scope_on_the_scopes(page: Page, live_app: LiveApp) -> None:
    ann = new_person(live_app.runtime, new_brokerage(live_app.runtime))
    sign_in(page, ann, next="/tokens")
    page.get_by_label("Name").fill("Scoring system")
    page.get_by_role("button", name="Create the token").click()
    expect(page.locator("#token-scopes-error")).to_have_text("choose at least one")
    plain(page)


def test_the_builder_says_each_refusal_in_plain_words_on_its_field(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    in_the_builder(page, live_app)
    # An empty name
    page.get_by_label("Name", exact=True).fill("")
    expect(page.locator("#wf-name-error")).to_have_text("Not saved: must not be empty")
    page.get_by_label("Name", exact=True).fill("Open house")
    expect(page.locator("#wf-name-error")).to_be_hidden()
    # A wait of a day and a half, then one far too long, in days
    card = step_card(page, 2)
    card.get_by_label("Step 2 wait: unit").select_option("days")
    card.get_by_label("Step 2 wait: amount").fill("1.5")
    error = card.locator('[data-id="delay-error"]')
    expect(error).to_have_text("Not saved: must be a whole number")
    card.get_by_label("Step 2 wait: amount").fill("99999999999")
    expect(error).to_have_text("Not saved: must be at most 365 days")
    plain(page)
    card.get_by_label("Step 2 wait: amount").fill("2")
    expect(error).to_be_hidden()
    # And the trigger's wait, too long in days, says its limit in days
    page.get_by_label("Start", exact=True).select_option("delayed")
    page.get_by_label("Delay before step one: unit").select_option("days")
    page.get_by_label("Delay before step one: amount").fill("400")
    delay_error = page.locator("#tr-delay-amount-error")
    expect(delay_error).to_have_text("Not saved: must be at most 365 days")
    page.get_by_label("Delay before step one: amount").fill("2")
    expect(delay_error).to_be_hidden()
    # A template made on the card with nothing in it: each field says so, by the screen's label
    card.get_by_role("button", name="New template…").click()
    card.get_by_role("button", name="Save template").click()
    name, body = card.get_by_label("Template name"), card.get_by_label("Message")
    expect(card.locator('[data-id="nt-name-error"]')).to_have_text("must not be empty")
    expect(card.locator('[data-id="nt-body-error"]')).to_have_text("must not be empty")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    expect(card.locator('[data-id="nt-error"]')).to_have_text("Not saved: see the fields marked.")
    plain(page)
    looked_at(page, "builder-new-template-refused")
    # Filled in, the marks go as it is saved
    name.fill("Visit reminder")
    body.fill("See you soon.")
    card.get_by_role("button", name="Save template").click()
    expect(card.locator("[data-new-template]")).to_be_hidden()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(card.locator('[data-id="nt-name-error"]')).to_be_hidden()
    assert unexpected(outside.errors) == []


def test_the_leads_filters_say_the_screens_labels_and_never_an_old_message(
        page: Page, live_app: LiveApp, outside: Outside) -> None:
    brokerage = new_brokerage(live_app.runtime)
    ann = new_person(live_app.runtime, brokerage, name="Ann Alves")
    api = integration(live_app, brokerage)
    lead(api, ann, "Lia Costa", score=85, email="lia@example.com")
    directory = live_app.runtime.directory
    eventually(lambda: len(directory.leads_at_or_above(brokerage, ann.agent_id, 0)) == 1)
    sign_in(page, ann, next="/leads")
    errors, rows = page.locator("#filter-errors"), page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    # A range the wrong way round names the other field by its label
    page.get_by_label("Score from").fill("95")
    page.get_by_label("Score to").fill("10")
    expect(errors).to_have_text("Score from: is above Score to")
    expect(page.get_by_label("Score from")).to_have_attribute("aria-invalid", "true")
    # As the page first answers it (no script yet), its field says so too
    page.goto("/leads?scoreMin=95&scoreMax=10")
    expect(page.locator("#f-score_min-error")).to_have_text("is above Score to")
    # A score out of range replaces that message with its own, on its own field
    page.get_by_label("Score to").fill("99999999999")
    expect(errors).to_have_text("Score to: a whole number from 0 to 100")
    expect(page.locator("#f-score_min-error")).to_have_count(0)
    expect(page.get_by_label("Score from")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Score to")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Score to").fill("-5")
    expect(errors).to_have_text("Score to: a whole number from 0 to 100")
    # A search that cannot be answered says so instead of the last answer
    page.route("**/leads?*part=results*", lambda route: route.fulfill(status=422, body="no"))
    page.get_by_label("Score to").fill("90")
    expect(errors).to_have_text(
        "The search could not be run with these filters: check them and try again.")
    page.unroute("**/leads?*part=results*")
    # And a good answer clears it
    page.get_by_label("Score from").fill("")
    expect(rows).to_have_count(1)
    expect(errors).to_have_count(0)
    plain(page)
    assert unexpected(outside.errors) == []
