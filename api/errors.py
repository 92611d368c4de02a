"""Every error a request can meet, mapped to HTTP in this one place, in one body shape.

Every 4xx and 5xx answers ``{"error": {"status", "code", "message", "fields", "details"}}``
(``ErrorResponse``): ``code`` says what went wrong in a word a client can switch on, ``message``
says it to a person, ``fields`` name each refused input (``body.trigger.scoreThreshold``,
``query.agentId``, ``path.lead_id``) with its reason, and ``details`` carry what stood in the way
(``differingFields``, ``moveBlockedBy``). A route raises ``ApiError`` for a refusal of its own;
application and domain errors are translated here, and the error responses each route documents
are built here too (``FOUND``, ``CHANGE``, ``BODY`` and the rest, below)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles

from api.bounds import text_problem
from api.etags import IfMatchMissing, etag
from api.reasons import reason
from application.access import Forbidden, RateLimited, Unauthenticated
from application.errors import (
    Conflict,
    Invalid,
    NotAllowed,
    NotFound,
    Refused,
    StaleVersion,
    refused,
)
from domain.errors import DomainError

ErrorCode = Literal[
    "bad_request",  # 400: the body could not be read
    "unauthenticated",  # 401: no principal (not signed in, no token)
    "forbidden",  # 403: the principal lacks a scope or role
    "not_found",  # 404: no such resource (or another tenant's), or no such route
    "method_not_allowed",  # 405
    "not_allowed_now",  # 409: the current state does not allow the command
    "refused",  # 409: the command was refused as a whole (``details`` say why)
    "busy",  # 409: others kept changing the same thing; try again after Retry-After
    "stale",  # 412: If-Match names a version that is no longer current
    "too_large",  # 413: the body is over the limit
    "invalid",  # 422: input refused, each field named in ``fields``
    "precondition_required",  # 428: If-Match is missing
    "rate_limited",  # 429: too many requests; try again after Retry-After
    "internal",  # 500: a fault of ours, logged under ``details.errorId``
    "http_error",  # any other status the HTTP layer gives
]


class FieldError(BaseModel):
    """One refused input."""

    field: str = Field(description="where it was given and its path: ``body.steps[0].channel``,"
                                   " ``query.agentId``, ``path.lead_id``; ``body`` for the whole")
    reason: str
    type: str = Field(description="the kind of refusal: ``missing``, ``int_type``, ...")
    line: int | None = Field(default=None, description="only for a template's text: the line "
                                                       "the mistake is on, from 1")

    @model_serializer(mode="wrap")
    def _without_line(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``line`` is there only where it applies (a template's mistake)."""
        out: dict[str, Any] = handler(self)
        if out.get("line") is None:
            out.pop("line", None)
        return out


class ErrorBody(BaseModel):
    status: int = Field(description="the HTTP status, again")
    code: ErrorCode
    message: str = Field(description="what went wrong, for a person")
    fields: list[FieldError] = Field(description="each refused input (422), else empty")
    details: dict[str, Any] = Field(description="what stood in the way, else empty")


class ErrorResponse(BaseModel):
    """The one body of every 4xx and 5xx answer."""

    error: ErrorBody


class ApiError(Exception):
    """An answer in the error shape: raise it from a route or a dependency."""

    def __init__(self, status: int, code: ErrorCode, message: str, *,
                 fields: Iterable[FieldError] = (), details: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.body = ErrorBody(status=status, code=code, message=message, fields=list(fields),
                              details=dict(details or {}))
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return JSONResponse(ErrorResponse(error=self.body).model_dump(mode="json"),
                            status_code=self.body.status, headers=self.headers)


#: The code of each status Starlette or FastAPI may answer by itself.
HTTP_CODES: dict[int, ErrorCode] = {400: "bad_request", 401: "unauthenticated", 403: "forbidden",
                                    404: "not_found", 405: "method_not_allowed",
                                    413: "too_large", 422: "invalid", 429: "rate_limited"}


def install(app: FastAPI) -> None:
    for kind, handler in ((ApiError, _api_error), (HTTPException, http_error),
                          (RequestValidationError, _unprocessable), (NotFound, _not_found),
                          (NotAllowed, _not_allowed), (Invalid, _invalid), (Refused, _refused),
                          (Conflict, _conflict), (DomainError, _domain),
                          (Unauthenticated, _unauthenticated), (Forbidden, _forbidden),
                          (RateLimited, _rate_limited), (StaleVersion, _stale),
                          (IfMatchMissing, _if_match_missing)):
        app.add_exception_handler(kind, handler)  # type: ignore[arg-type]


def _api_error(_: Request, e: ApiError) -> JSONResponse:
    return e.response()


def http_error(request: Request, e: HTTPException) -> JSONResponse:
    """Starlette's own answers (an unknown route, a method the route lacks, a body too large):
    its headers kept. Starlette's 405 names the methods of the first route matching the path
    only; a path served by a route per method (GET and PATCH of a lead) gets all of them."""
    message = e.detail if isinstance(e.detail, str) else HTTPStatus(e.status_code).phrase
    code = HTTP_CODES.get(e.status_code, "http_error")
    headers = dict(e.headers or {})
    if e.status_code == 405:
        headers["Allow"] = ", ".join(_methods(request))
    return ApiError(e.status_code, code, message, headers=headers).response()


def _methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path (a folder of files:
    GET and HEAD, which are all ``StaticFiles`` answers)."""
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    scope = {**request.scope, "root_path": root}  # a mount moved it to its own folder
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.matches(scope)[0] == Match.NONE:
            continue
        files = isinstance(route.original_route, Mount) and isinstance(route.original_route.app,
                                                                       StaticFiles)
        methods |= {"GET", "HEAD"} if files else set(route.methods or ())
    return sorted(methods)


def _unauthenticated(_: Request, e: Unauthenticated) -> JSONResponse:
    return ApiError(401, "unauthenticated", str(e),
                    headers={"WWW-Authenticate": 'Bearer realm="followup"'}).response()


def _forbidden(_: Request, e: Forbidden) -> JSONResponse:
    return ApiError(403, "forbidden", str(e)).response()


def _rate_limited(_: Request, e: RateLimited) -> JSONResponse:
    return ApiError(429, "rate_limited", str(e),
                    headers={"Retry-After": str(e.retry_after)}).response()


def _unprocessable(_: Request, e: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without echoing the refused input: it may be what cannot be encoded
    (a lone surrogate, a NaN). Each reason in plain words (``api.reasons``), its type pydantic's."""
    fields = [FieldError(field=field_path(error["loc"]), reason=reason(error), type=error["type"])
              for error in e.errors()]
    return invalid(fields).response()


def invalid(fields: list[FieldError]) -> ApiError:
    """422 naming each field; the message names the first three."""
    named = "; ".join(f"{f.field}: {f.reason}" for f in fields[:3])
    more = f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
    return ApiError(422, "invalid", named + more, fields=fields)


def field_path(loc: Iterable[Any]) -> str:
    """``("body", "steps", 0, "channel")`` → ``body.steps[0].channel``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{_printable(str(part))}"
    return path.lstrip(".")


def _printable(part: str) -> str:
    return "".join("\ufffd" if text_problem(c) else c for c in part)


def _not_found(_: Request, e: NotFound) -> JSONResponse:
    return ApiError(404, "not_found", f"{e.kind} {e.ident} not found").response()


def _not_allowed(_: Request, e: NotAllowed) -> JSONResponse:
    return ApiError(409, "not_allowed_now", f"not allowed now: {e.field}: {e.reason}",
                    details={"field": e.field, "reason": e.reason}).response()


def _invalid(_: Request, e: Invalid) -> JSONResponse:
    field = FieldError(field=f"{e.where}.{e.field}", reason=e.reason, type="value_error",
                       line=e.line)
    return invalid([field]).response()


def _refused(_: Request, e: Refused) -> JSONResponse:
    return ApiError(409, "refused", e.reason, details=e.details).response()


def _conflict(_: Request, e: Conflict) -> JSONResponse:
    return ApiError(409, "busy", str(e), headers={"Retry-After": "1"}).response()


def _stale(_: Request, e: StaleVersion) -> JSONResponse:
    current = etag(e.current)
    return ApiError(412, "stale", f"If-Match is not the current ETag ({current}): another "
                    "change came first and nothing was changed; read it again",
                    details={"currentEtag": current}, headers={"ETag": current}).response()


def _if_match_missing(_: Request, e: IfMatchMissing) -> JSONResponse:
    return ApiError(428, "precondition_required", "the If-Match header is required: send the "
                    "ETag of the resource as last read").response()


def _domain(request: Request, e: DomainError) -> JSONResponse:
    """A domain error raised outside a use case's retry loop: translated as every other."""
    error = refused(e)
    return _not_allowed(request, error) if isinstance(error, NotAllowed) else _invalid(request,
                                                                                       error)


# -- What routes document -------------------------------------------------------------------

def _doc(description: str, *examples: ApiError) -> dict[str, Any]:
    """A documented error response: the one shape, with an example of each code it may carry."""
    named = {e.body.code: {"summary": e.body.message,
                           "value": ErrorResponse(error=e.body).model_dump(mode="json")}
             for e in examples}
    return {"model": ErrorResponse, "description": description,
            "content": {"application/json": {"examples": named}}}


_ID = "5f0c8a9e-3c1d-4e55-9a8b-0d6a7b2c4e11"
#: 404 for a route with an id in its path.
FOUND: dict[int | str, dict[str, Any]] = {404: _doc(
    "No such resource", ApiError(404, "not_found", f"Lead {_ID} not found"))}
#: 409 for a route that changes state: the state does not allow it, the command is refused as a
#: whole (``details`` say why), or others kept changing the same thing (then with Retry-After).
CHANGE: dict[int | str, dict[str, Any]] = {409: _doc(
    "The current state does not allow this, it was refused, or it kept changing (Retry-After)",
    ApiError(409, "not_allowed_now", "not allowed now: status: execution is completed",
             details={"field": "status", "reason": "execution is completed"}),
    ApiError(409, "refused", "externalId 'crm-42' is already registered with other email, "
             "score; nothing was changed (...)",
             details={"leadId": _ID, "differingFields": ["email", "score"]}),
    ApiError(409, "busy", "the lead kept changing; try again"))}
#: 400 and 413 for a route that reads a body.
BODY: dict[int | str, dict[str, Any]] = {
    400: _doc("The body could not be parsed",
              ApiError(400, "bad_request", "There was an error parsing the body")),
    413: _doc("The body is larger than the limit",
              ApiError(413, "too_large", "the body is larger than 262144 bytes")),
}
#: A state-changing route on a resource with an id, with a body.
CHANGE_ONE = FOUND | CHANGE | BODY
#: A route that needs a principal, and a scope or role of it.
SIGNED_IN: dict[int | str, dict[str, Any]] = {
    401: _doc("No principal: not signed in, or no valid token",
              ApiError(401, "unauthenticated", "sign in or send a token")),
    403: _doc("The principal lacks the scope or role",
              ApiError(403, "forbidden", "this token lacks the scope leads:write")),
}
#: Every route that needs a principal (given once per router).
AUTH = SIGNED_IN
#: A change guarded by If-Match (the body's details.currentEtag and the ETag header say the
#: current one).
IF_MATCH: dict[int | str, dict[str, Any]] = {
    412: _doc("If-Match names a version that is no longer current",
              ApiError(412, "stale", 'If-Match is not the current ETag ("8"): another change '
                       "came first and nothing was changed; read it again",
                       details={"currentEtag": '"8"'})),
    428: _doc("If-Match is missing", ApiError(428, "precondition_required",
                                              "the If-Match header is required: send the ETag "
                                              "of the resource as last read")),
}
#: The sign-in: refused when a browser says another site's page sent it.
SIGN_IN: dict[int | str, dict[str, Any]] = {
    401: _doc("The email or the password is wrong (the same answer for either)",
              ApiError(401, "unauthenticated", "the email or the password is wrong")),
    403: _doc("Sent by another site's page (its Origin is not this app's)",
              ApiError(403, "forbidden", "this sign-in came from another site's page: sign in "
                                         "on this app's own page")),
}
#: A rate-limited route.
LIMITED: dict[int | str, dict[str, Any]] = {429: _doc(
    "Too many requests; try again after Retry-After",
    ApiError(429, "rate_limited", "too many attempts; try again in 30 seconds"))}
#: Every route (the app documents it once for all).
INTERNAL: dict[int | str, dict[str, Any]] = {500: _doc(
    "A fault of ours, logged under details.errorId",
    ApiError(500, "internal", "internal error, logged as 3b9e0c2a41d84f0f",
             details={"errorId": "3b9e0c2a41d84f0f"}))}
_INVALID = _doc("Input refused: each field named, with the reason", invalid([
    FieldError(field="body.score", reason="must be a whole number", type="int_type"),
    FieldError(field="body.steps[0].channel", reason="must be one of: email, sms, in_app",
               type="literal_error")]))


def document(app: FastAPI) -> None:
    """FastAPI documents its own 422 body (``HTTPValidationError``) on every route with input:
    the document says the one shape instead."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = build()
        if fresh:
            _say_the_one_422(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _say_the_one_422(schema: dict[str, Any]) -> None:
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if "422" in operation.get("responses", {}):
                content = {"schema": ref, "examples": _INVALID["content"]["application/json"][
                    "examples"]}
                operation["responses"]["422"] = {"description": _INVALID["description"],
                                                 "content": {"application/json": content}}
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
