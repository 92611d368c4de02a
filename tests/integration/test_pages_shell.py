"""The app's door over HTTP: sign-in by form (its origin checked, its ``next`` kept on this
site), the redirect to sign in, and sign-out needing the page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app

PASSWORD = "correct horse battery"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def web(runtime: Any) -> TestClient:
    acme = runtime.app.open_brokerage("acme", "Acme Homes")
    runtime.app.create_user(brokerage_id=acme, email="ann@acme.test", name="Ann", role="agent",
                            password=PASSWORD)
    return TestClient(create_app(runtime), follow_redirects=False)


def sign_in(web: TestClient, next: str = "", headers: dict[str, str] | None = None) -> Any:
    return web.post("/sign-in", data={"email": "ann@acme.test", "password": PASSWORD,
                                      "next": next}, headers=ORIGIN if headers is None else headers)


def test_a_page_without_a_session_redirects_to_sign_in_with_the_way_back(web: TestClient) -> None:
    response = web.get("/leads?status=new")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Fleads%3Fstatus%3Dnew"
    assert web.get("/").headers["location"] == "/sign-in"


def test_signing_in_sets_the_session_cookie_and_goes_where_asked(web: TestClient) -> None:
    response = sign_in(web, next="/leads?status=new")
    assert response.status_code == 303 and response.headers["location"] == "/leads?status=new"
    assert "HttpOnly" in response.headers["set-cookie"]
    assert web.get("/leads").status_code == 200
    assert web.get("/").headers["location"] == "/leads"


@pytest.mark.parametrize("next", ["https://evil.test/", "//evil.test/x", "/\\evil.test", "x"])
def test_next_outside_the_site_is_ignored(web: TestClient, next: str) -> None:
    assert sign_in(web, next=next).headers["location"] == "/leads"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.test"},
                                     {"Referer": "https://evil.test/sign-in"}, {}])
def test_a_sign_in_posted_from_elsewhere_is_refused(web: TestClient,
                                                    headers: dict[str, str]) -> None:
    response = sign_in(web, headers=headers)
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_a_referer_of_the_app_is_enough_without_origin(web: TestClient) -> None:
    assert sign_in(web, headers={"Referer": "http://testserver/sign-in"}).status_code == 303


def test_a_wrong_password_is_shown_on_the_form_with_the_email_kept(web: TestClient) -> None:
    response = web.post("/sign-in", data={"email": "ann@acme.test", "password": "wrong-wrong"},
                        headers=ORIGIN)
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert "The email or the password is wrong." in response.text
    assert 'value="ann@acme.test"' in response.text


def test_too_many_failures_say_how_long_to_wait(web: TestClient) -> None:
    for _ in range(5):
        web.post("/sign-in", data={"email": "ann@acme.test", "password": "wrong-wrong"},
                 headers=ORIGIN)
    response = sign_in(web)  # the right password, now
    assert response.status_code == 429 and "Try again in 15 minutes" in response.text
    assert "even with the right password" in response.text  # so nobody thinks it is wrong


def test_sign_out_needs_the_pages_csrf_token(web: TestClient) -> None:
    sign_in(web)
    page = web.get("/leads").text
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    refused = web.post("/sign-out", data={"csrf": "forged"})
    assert refused.status_code == 403 and web.get("/leads").status_code == 200
    done = web.post("/sign-out", data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/sign-in"
    assert web.get("/leads").status_code == 303


HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser asks for


@pytest.mark.parametrize("signed", [False, True])
def test_a_mistyped_address_in_the_browser_is_the_apps_not_found_page(web: TestClient,
                                                                       signed: bool) -> None:
    if signed:
        sign_in(web)
    page = web.get("/lead/not-a-page", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and 'href="/"' in page.text
    assert ('href="/leads"' in page.text) == signed  # the menu, when signed in


def test_a_missing_api_route_answers_json_whoever_asks(web: TestClient) -> None:
    for path, headers in (("/api/nothing", HTML), ("/lead/x", {"Accept": "application/json"}),
                          ("/assets/app/nothing.js", HTML)):
        answer = web.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", path


def test_every_page_names_an_icon_the_app_serves(web: TestClient) -> None:
    # (without one a browser asks for /favicon.ico, and logs the 404 on every page)
    page = web.get("/sign-in")
    [icon] = re.findall(r'<link rel="icon" href="([^"]+)"', page.text)
    served = web.get(icon)
    assert served.status_code == 200 and served.headers["content-type"] == "image/svg+xml"
