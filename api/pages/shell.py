"""The app's door: ``/`` (to the leads), signing in and out.

The sign-in form posts here (form-encoded), not to ``/api/session``, so it works before any
script runs; it calls the same use case and sets the same cookie. Its ``Origin`` (else its
``Referer``) must be this app's own: a form on another site cannot sign a browser into an
account of the attacker's (login CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    cookie_principal,
    same_origin,
    set_session_cookie,
)
from api.deps import AppDep
from api.pages import PageChange, render, safe_next
from api.routers.session import client_address
from application.access import RateLimited, SignInRefused, Unauthenticated

router = APIRouter(include_in_schema=False)
HOME = "/leads"


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse(HOME if _signed_in(request) else "/sign-in", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    if _signed_in(request):
        return RedirectResponse(safe_next(next, HOME), status_code=303)
    return render(request, "sign_in.html", viewer=None, next=safe_next(next, ""), email="",
                  error=None)


@router.post("/sign-in")
def sign_in(request: Request, app: AppDep, email: Annotated[str, Form(max_length=254)] = "",
            password: Annotated[str, Form(max_length=1000)] = "",
            next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    def again(status: int, error: str) -> HTMLResponse:
        return render(request, "sign_in.html", status=status, viewer=None,
                      next=safe_next(next, ""), email=email, error=error)

    if not same_origin(request):
        return again(403, "This sign-in did not come from this app's own page: "
                          "open the sign-in page and try again.")
    try:
        signed = app.sign_in(email, password, client_address(request))
    except RateLimited as e:
        return again(429, "Too many failed sign-ins: signing in is paused for a while, even "
                          f"with the right password. Try again in {_wait(e.retry_after)}.")
    except SignInRefused:
        return again(401, "The email or the password is wrong.")
    response = RedirectResponse(safe_next(next, HOME), status_code=303)
    set_session_cookie(response, request, signed)
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: PageChange, app: AppDep) -> Response:
    app.sign_out(viewer.principal, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session_cookie(response, request)
    return response


def _signed_in(request: Request) -> bool:
    try:
        principal = cookie_principal(request)
    except Unauthenticated:
        return False
    return principal is not None and principal.user_id is not None


def _wait(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"
