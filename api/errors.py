"""Application errors mapped to HTTP, in FastAPI's own error shape."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from application.errors import Conflict, Invalid, NotFound, Refused


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    def not_found(_: Request, e: NotFound) -> JSONResponse:
        return JSONResponse({"detail": f"{e.kind} {e.ident} not found"}, status_code=404)

    @app.exception_handler(Invalid)
    def invalid(_: Request, e: Invalid) -> JSONResponse:
        detail = [{"loc": ["body", *e.field.split(".")], "msg": e.reason, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(Refused)
    def refused(_: Request, e: Refused) -> JSONResponse:
        return JSONResponse({"detail": e.reason, **e.details}, status_code=409)

    @app.exception_handler(Conflict)
    def conflict(_: Request, e: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=409, headers={"Retry-After": "1"})
