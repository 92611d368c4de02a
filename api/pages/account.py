"""One's own account (the password) and API tokens (create, the secret shown once, revoke)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import AppDep
from api.pages import PageUser, Viewer, render
from application.access import SCOPE_TEXT
from application.accounts import MIN_PASSWORD

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account_page(request: Request, viewer: PageUser) -> HTMLResponse:
    return render(request, "account.html", viewer=viewer, title="Your account",
                  min_password=MIN_PASSWORD)


@router.get("/tokens")
def tokens_page(request: Request, viewer: PageUser, app: AppDep,
                part: str | None = None) -> HTMLResponse:
    """The tokens (``?part=list``: the list alone, as the page fetches it after a change)."""
    name = "tokens_list.html" if part == "list" else "tokens.html"
    return render(request, name, viewer=viewer, title="API tokens",
                  tokens=app.tokens(viewer.principal), scopes=_scopes(viewer))


def _scopes(viewer: Viewer) -> dict[str, str]:
    """The scopes the viewer may give a token: no more than they may do themselves."""
    return {s.value: text for s, text in SCOPE_TEXT.items() if viewer.principal.allows(s)}
