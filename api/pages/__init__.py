"""The agents' browser app: server-rendered pages on the same app as the JSON API.

Pages render from the same use cases and read models as the API, for the same principal, so a
page never shows more than the API allows: another's id is a 404 page (``page_check``). A
page's changes go to the JSON API (fetch or htmx, with the session's CSRF token in
``X-CSRF-Token``, which ``app.js`` adds from ``<meta name="csrf-token">``), or to a page route
that checks the token from a form field (``PageChange``). One module per area holds its
``router``; ``mount`` includes them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from api.auth import cookie_principal, csrf_matches
from api.deps import AppDep
from api.errors import http_error
from api.pages.formatting import when
from application.access import Principal, Unauthenticated
from application.accounts import UserView
from application.errors import Invalid, NotFound
from application.list_views import Page, PageAsk

T = TypeVar("T")
TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
env.globals["when"] = when


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: their principal, account and brokerage's name."""
    principal: Principal
    user: UserView
    brokerage: str

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    @property
    def csrf(self) -> str:
        return self.principal.csrf or ""


class SignInNeeded(Exception):
    """No session (or one that ended): the page answers 303 to the sign-in page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PageError(Exception):
    """A page that cannot be shown (404: not found, or not the viewer's; 403: admins only)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _viewer(request: Request, app: AppDep) -> Viewer:
    try:
        principal = cookie_principal(request)
    except Unauthenticated:
        principal = None
    if principal is None or principal.user_id is None:
        query = request.url.query
        raise SignInNeeded(request.url.path + (f"?{query}" if query else ""))
    return Viewer(principal=principal, user=app.user(principal.user_id),
                  brokerage=app.brokerage(principal.brokerage_id).name)


def _changing_viewer(viewer: Annotated[Viewer, Depends(_viewer)],
                     csrf: Annotated[str, Form()] = "") -> Viewer:
    """A page form's change: the session's CSRF token must come in the ``csrf`` field."""
    if not csrf_matches(viewer.principal, csrf):
        raise PageError(403, "Refused", "This form has expired: reload the page and try again.")
    return viewer


def _admin_viewer(viewer: Annotated[Viewer, Depends(_viewer)]) -> Viewer:
    if not viewer.is_admin:
        raise PageError(403, "Admins only", "Only an admin of the brokerage may see this page.")
    return viewer


PageUser = Annotated[Viewer, Depends(_viewer)]
PageChange = Annotated[Viewer, Depends(_changing_viewer)]
PageAdmin = Annotated[Viewer, Depends(_admin_viewer)]


def page_check(viewer: Viewer, app: Any, kind: str, ident: str) -> UUID:
    """The id, if the viewer may see it (else a 404 page, the same as for no such thing or a
    malformed id)."""
    try:
        found = UUID(ident)
        app.check(viewer.principal, kind, found)
    except (ValueError, NotFound) as e:
        raise PageError(404, "Not found", f"There is no such {kind.lower()} here.") from e
    return found


def a_page_of(path: str, listing: Callable[[PageAsk], Page[T]], cursor: str,
              limit: int) -> tuple[list[T], str | None]:
    """A page of a list (``listing`` asked after ``cursor``) and the address of the next page
    at ``path`` (None: this is the last); a cursor the list refuses is a 404 page."""
    try:
        found = listing(PageAsk(limit=limit, cursor=cursor or None))
    except Invalid as e:
        raise PageError(404, "Not found", "This page of the list is out of date.") from e
    return found.items, f"{path}?{urlencode({'cursor': found.next})}" if found.next else None


def agent_names(app: Any, viewer: Viewer) -> dict[str, str]:
    """The names of the brokerage's agents by agent id, for a viewer who sees them all (an
    admin); nobody else's page names another agent."""
    if not viewer.principal.wide:
        return {}
    return {u.agent_id: u.name for u in app.users(viewer.principal)}


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template ``name`` (in ``api/pages/templates/``) with ``request`` and ``context``."""
    html = env.get_template(name).render(request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def safe_next(value: str | None, default: str = "/") -> str:
    """A same-site relative path to go to after signing in; anything else is the default."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    return value if all(c.isprintable() for c in value) else default


def sign_in_url(path: str) -> str:
    return "/sign-in" if path in ("", "/") else f"/sign-in?next={quote(path, safe='')}"


#: Where the API, its documents, files and tracking live: a missing address there is answered
#: in the API's error shape, whoever asks.
NOT_PAGES = ("/api/", "/assets/", "/docs", "/openapi.json", "/health", "/t/")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _to_sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(PageError, _error_page)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _missing_page)  # type: ignore[arg-type]


def _missing_page(request: Request, e: HTTPException) -> Response:
    """A browser's mistyped address is the app's not-found page; every other answer of
    Starlette's own is the API's (``errors.http_error``)."""
    browser = "text/html" in request.headers.get("accept", "")
    if e.status_code == 404 and browser and not request.url.path.startswith(NOT_PAGES):
        return _error_page(request, PageError(404, "Not found",
                                              "There is no page at this address."))
    return http_error(request, e)


def _to_sign_in(_: Request, e: SignInNeeded) -> Response:
    return RedirectResponse(sign_in_url(e.path), status_code=303)


def _error_page(request: Request, e: PageError) -> HTMLResponse:
    try:
        viewer: Viewer | None = _viewer(request, request.app.state.runtime.app)
    except SignInNeeded:
        viewer = None
    return render(request, "error.html", status=e.status, viewer=viewer, title=e.title,
                  message=e.message)


def mount(app: FastAPI) -> None:
    """Every area's page routes (left out of the OpenAPI document) and the error pages."""
    from api.pages import account, dead_letters, leads, message_templates, shell, team, workflows

    for module in (shell, leads, message_templates, dead_letters, account, team, workflows):
        app.include_router(module.router)
    install(app)
