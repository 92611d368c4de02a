"""Signing in and out of the browser app, and one's own password.

A sign-in sets the session cookie (HttpOnly, SameSite=Lax, Secure over TLS) and answers the
CSRF token the browser sends back in ``X-CSRF-Token`` with every change. A wrong email and a
wrong password get the same answer; repeated failures per account and per address get 429."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.account_schemas import PasswordChangeIn, SessionPublic, SignInIn, UserPublic
from api.auth import (
    SESSION_COOKIE,
    SignedIn,
    clear_session_cookie,
    from_another_site,
    set_session_cookie,
)
from api.deps import AppDep
from api.errors import AUTH, BODY, CHANGE, LIMITED, SIGN_IN, ApiError

router = APIRouter(prefix="/api/session", tags=["session"])

REFUSED: dict[int | str, dict[str, Any]] = SIGN_IN | LIMITED


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("", responses=REFUSED | CHANGE | BODY)
def sign_in(body: SignInIn, request: Request, response: Response, app: AppDep) -> SessionPublic:
    """Sign in; refused (403) when a browser says another site's page sent it, which would sign
    the browser into an account of that site's choosing."""
    if from_another_site(request):
        raise ApiError(403, "forbidden", "this sign-in came from another site's page: sign in "
                                         "on this app's own page")
    signed = app.sign_in(body.email, body.password, client_address(request))
    set_session_cookie(response, request, signed)
    return SessionPublic(user=UserPublic.model_validate(signed.user), csrf_token=signed.csrf,
                         expires_at=signed.expires_at)


@router.get("", responses=AUTH)
def current_session(who: SignedIn, app: AppDep) -> SessionPublic:
    """Who is signed in, and the CSRF token for this session."""
    assert who.user_id is not None
    return SessionPublic(user=UserPublic.model_validate(app.user(who.user_id)),
                         csrf_token=who.csrf or "")


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH)
def sign_out(who: SignedIn, request: Request, response: Response, app: AppDep) -> None:
    app.sign_out(who, request.cookies.get(SESSION_COOKIE, ""))
    clear_session_cookie(response, request)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=AUTH | CHANGE | BODY)
def change_password(body: PasswordChangeIn, who: SignedIn, request: Request,
                    app: AppDep) -> None:
    """Change one's own password; every other session of the account is signed out."""
    app.change_password(who, body.current_password, body.new_password,
                        request.cookies.get(SESSION_COOKIE))
