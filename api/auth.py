"""Who is calling: a bearer token (integrations) or a browser session (the app), and what the
route lets them reach. Every route but the anonymous ones takes a principal from here; a
session's state-changing request must also carry its CSRF token (``X-CSRF-Token``)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request, Response, Security
from fastapi.security import APIKeyCookie, HTTPBearer

from api.deps import AppDep
from application.access import Forbidden, Principal, Scope, Unauthenticated
from application.accounts import SESSION_HOURS
from application.accounts import SignedIn as Session
from application.app import FollowUp

SESSION_COOKIE = "followup_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


#: How the OpenAPI document (and so ``/docs``'s Authorize) says a caller authenticates: the
#: schemes are read by ``optional_principal`` itself, these only describe them.
BEARER = HTTPBearer(auto_error=False, scheme_name="token", description=(
    "An API token (`fu_…`), made in the app's Tokens page or with `followup tokens create`"))
COOKIE = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                      description="The app's session cookie (changes also need X-CSRF-Token)")


def optional_principal(request: Request,
                       _token: Annotated[object, Security(BEARER)] = None,
                       _session: Annotated[object, Security(COOKIE)] = None) -> Principal | None:
    """The caller's principal, or None when they sent no credential at all; a wrong one is
    refused (401), never taken as anonymous."""
    app: FollowUp = request.app.state.runtime.app
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        found = app.token_principal(secret.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthenticated("the bearer token is wrong, revoked or of a deactivated user")
        return found
    found = cookie_principal(request)
    if found is not None and request.method not in SAFE_METHODS and not csrf_matches(
            found, request.headers.get(CSRF_HEADER, "")):
        raise Forbidden(f"a signed-in browser's change needs its {CSRF_HEADER} header")
    return found


def cookie_principal(request: Request) -> Principal | None:
    """The session cookie's principal (None without a cookie; 401 for one that has ended),
    before any CSRF check: a page's form sends its token in a field, not a header."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    app: FollowUp = request.app.state.runtime.app
    found = app.session_principal(cookie)
    if found is None:
        raise Unauthenticated("the session has ended: sign in again")
    return found


def csrf_matches(principal: Principal, sent: str) -> bool:
    return bool(principal.csrf) and hmac.compare_digest(sent.encode(),
                                                        (principal.csrf or "").encode())


def same_origin(request: Request) -> bool:
    """The request came from a page of this app (by its ``Origin``, else its ``Referer``)."""
    own = _own(request)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer", "")
    return referer == own or referer.startswith(own + "/")


def from_another_site(request: Request) -> bool:
    """The browser says the request came from another site's page (``Origin`` not this app's;
    a script sends none)."""
    origin = request.headers.get("origin")
    return origin is not None and origin != _own(request)


def _own(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def set_session_cookie(response: Response, request: Request, signed: Session) -> None:
    """The session cookie a sign-in sets (the JSON API's and the sign-in page's alike)."""
    response.set_cookie(SESSION_COOKIE, signed.secret, max_age=SESSION_HOURS * 3600,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path="/")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")


def current_principal(found: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if found is None:
        raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
    return found


PrincipalDep = Annotated[Principal, Depends(current_principal)]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def needs(scope: Scope) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.allows(scope):
            raise Forbidden(f"this needs the scope {scope.value}")
        return principal
    check.__name__ = f"needs_{scope.name.lower()}"
    return check


def signed_in(principal: PrincipalDep) -> Principal:
    """A person signed in (a browser session), never a token: no scope covers accounts, so a
    token, even a user's, neither manages them nor changes its user's password."""
    if principal.user_id is None or principal.token_id is not None:
        raise Forbidden("a token cannot do this: sign in")
    return principal


def admin(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """An admin signed in (a browser session), never a token."""
    if not principal.is_admin:
        raise Forbidden("only an admin of the brokerage may do this")
    return principal


def lead_reader(principal: PrincipalDep,
                lead_id: Annotated[UUID | None, Query(alias="leadId")] = None) -> Principal:
    """``leads:read`` when the request names a lead in ``leadId`` (a preview renders the
    lead's data), checked with the route's own scope, before any lookup."""
    if lead_id is not None and not principal.allows(Scope.LEADS_READ):
        raise Forbidden(f"rendering for a lead needs the scope {Scope.LEADS_READ.value}")
    return principal


LeadsRead = Annotated[Principal, Depends(needs(Scope.LEADS_READ))]
LeadsWrite = Annotated[Principal, Depends(needs(Scope.LEADS_WRITE))]
ScoresWrite = Annotated[Principal, Depends(needs(Scope.SCORES_WRITE))]
WorkflowsRead = Annotated[Principal, Depends(needs(Scope.WORKFLOWS_READ))]
WorkflowsWrite = Annotated[Principal, Depends(needs(Scope.WORKFLOWS_WRITE))]
ExecutionsWrite = Annotated[Principal, Depends(needs(Scope.EXECUTIONS_WRITE))]
Admin = Annotated[Principal, Depends(admin)]
SignedIn = Annotated[Principal, Depends(signed_in)]
#: ``leadId`` in the query needs ``leads:read`` too (after the route's own scope).
LeadReader = Annotated[Principal, Depends(lead_reader)]


# Objects: what the principal may not see does not exist (404) --------------

def _lead(lead_id: UUID, principal: PrincipalDep, app: AppDep) -> UUID:
    app.check(principal, "Lead", lead_id)
    return lead_id


def _workflow(workflow_id: UUID, principal: PrincipalDep, app: AppDep) -> UUID:
    app.check(principal, "Workflow", workflow_id)
    return workflow_id


def _template(template_id: UUID, principal: PrincipalDep, app: AppDep) -> UUID:
    app.check(principal, "Template", template_id)
    return template_id


def _template_to_change(template_id: UUID, principal: PrincipalDep, app: AppDep) -> UUID:
    app.check(principal, "Template", template_id, change=True)
    return template_id


def _execution(execution_id: UUID, principal: PrincipalDep, app: AppDep) -> UUID:
    app.check(principal, "Execution", execution_id)
    return execution_id


LeadId = Annotated[UUID, Depends(_lead)]
WorkflowId = Annotated[UUID, Depends(_workflow)]
TemplateId = Annotated[UUID, Depends(_template)]
TemplateToChange = Annotated[UUID, Depends(_template_to_change)]
ExecutionId = Annotated[UUID, Depends(_execution)]
