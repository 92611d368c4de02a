"""Every error a request can meet, mapped to HTTP in this one place, and the responses each
route documents.

Bodies: FastAPI's own shape for 422 (``{"detail": [{"loc", "msg", "type"}]}``, ``loc`` saying
where: ``body``, ``query`` or ``path``), and ``{"detail": "..."}`` for every other 4xx."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.bounds import text_problem
from api.etags import IfMatchMissing, etag
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


class Problem(BaseModel):
    """A refusal that is not about one field."""

    detail: str


def _doc(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


#: 404 for a route with an id in its path.
FOUND: dict[int | str, dict[str, Any]] = {404: _doc("No such resource")}
#: 409 for a route that changes state: the state does not allow it, or others kept changing
#: the same thing (then with Retry-After).
CHANGE: dict[int | str, dict[str, Any]] = {
    409: _doc("The current state does not allow this, or it kept changing (Retry-After)")}
#: 400 and 413 for a route that reads a body.
BODY: dict[int | str, dict[str, Any]] = {
    400: _doc("The body could not be parsed"),
    413: _doc("The body is larger than the limit"),
}
#: A state-changing route on a resource with an id, with a body.
CHANGE_ONE = FOUND | CHANGE | BODY
#: 412 and 428 for a change that requires If-Match.
PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: _doc("If-Match is not the current ETag: another change came first; nothing changed "
              "(the body's currentEtag and the ETag header say the current one)"),
    428: _doc("If-Match is missing: send the ETag of the resource as last read"),
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _unprocessable)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(NotAllowed, _not_allowed)  # type: ignore[arg-type]
    app.add_exception_handler(Invalid, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(StaleVersion, _stale)  # type: ignore[arg-type]
    app.add_exception_handler(IfMatchMissing, _if_match_missing)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]


def _unprocessable(_: Request, e: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without echoing the refused input: it may be what cannot be encoded
    (a lone surrogate, a NaN)."""
    detail = [{"loc": [_printable(p) for p in error["loc"]], "msg": error["msg"],
               "type": error["type"]} for error in e.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def _printable(part: Any) -> Any:
    if not isinstance(part, str):
        return part
    return "".join("\ufffd" if text_problem(c) else c for c in part)


def _not_found(_: Request, e: NotFound) -> JSONResponse:
    return JSONResponse({"detail": f"{e.kind} {e.ident} not found"}, status_code=404)


def _not_allowed(_: Request, e: NotAllowed) -> JSONResponse:
    return JSONResponse({"detail": f"not allowed now: {e.field}: {e.reason}"}, status_code=409)


def _invalid(_: Request, e: Invalid) -> JSONResponse:
    loc = [e.where, *e.field.split(".")]
    return JSONResponse({"detail": [{"loc": loc, "msg": e.reason, "type": "value_error"}]},
                        status_code=422)


def _refused(_: Request, e: Refused) -> JSONResponse:
    return JSONResponse({"detail": e.reason, **e.details}, status_code=409)


def _conflict(_: Request, e: Conflict) -> JSONResponse:
    return JSONResponse({"detail": str(e)}, status_code=409, headers={"Retry-After": "1"})


def _stale(_: Request, e: StaleVersion) -> JSONResponse:
    current = etag(e.current)
    return JSONResponse({"detail": f"If-Match is not the current ETag ({current}): another "
                                   "change came first and nothing was changed; read it again",
                         "currentEtag": current}, status_code=412, headers={"ETag": current})


def _if_match_missing(_: Request, e: IfMatchMissing) -> JSONResponse:
    return JSONResponse({"detail": "the If-Match header is required: send the ETag of the "
                                   "resource as last read"}, status_code=428)


def _domain(request: Request, e: DomainError) -> JSONResponse:
    """A domain error raised outside a use case's retry loop: translated as every other."""
    error = refused(e)
    return _not_allowed(request, error) if isinstance(error, NotAllowed) else _invalid(request,
                                                                                       error)
