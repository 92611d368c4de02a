"""The brokerage's accounts, for its admins: the list, and a new agent with a first password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import AppDep
from api.pages import PageAdmin, render
from application.accounts import MIN_PASSWORD

router = APIRouter(include_in_schema=False)


@router.get("/users")
def users_page(request: Request, viewer: PageAdmin, app: AppDep,
               part: str | None = None) -> HTMLResponse:
    users = sorted(app.users(viewer.principal), key=lambda u: (u.name.casefold(), u.email))
    return render(request, "users_list.html" if part == "list" else "users.html",
                  viewer=viewer, title="Users", users=users, min_password=MIN_PASSWORD)
