"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import assets, errors, pages
from api.bounds import MAX_BODY_BYTES
from api.deps import Runtime
from api.routers import (
    dead_letters,
    executions,
    health,
    leads,
    session,
    templates,
    tokens,
    tracking,
    users,
    workflows,
)
from api.security import SecurityHeaders
from api.unhandled import Unhandled


def create_app(runtime: Runtime, node_modules: Path | None = None) -> FastAPI:
    """The app over ``runtime``; ``node_modules`` is where ``npm ci`` put the front-end
    packages (without it the API runs, and ``/docs`` says they are missing)."""
    app = FastAPI(title="followup", version="0.1.0",
                  description="Event-sourced follow-up workflows for real-estate agents",
                  docs_url=None, redoc_url=None, responses=errors.INTERNAL)
    app.state.runtime = runtime
    errors.install(app)
    errors.document(app)
    for module in (session, users, tokens, leads, executions, dead_letters, templates,
                   workflows, tracking, health):
        app.include_router(module.router)
    pages.mount(app)
    assets.mount(app, node_modules)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(Unhandled)
    app.add_middleware(SecurityHeaders)
    return app


class BodyLimit:
    """A request body larger than ``limit`` bytes is answered 413, before any of it is parsed:
    at once when its Content-Length says so, else as soon as that much has arrived."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "") if scope["type"] == "http" else ""
        if declared.isdigit() and int(declared) > self.limit:
            await errors.ApiError(413, "too_large", self._detail()).response()(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, detail=self._detail())  # answered in the error shape
            return message

        await self.app(scope, counted if scope["type"] == "http" else receive, send)

    def _detail(self) -> str:
        return f"the body is larger than {self.limit} bytes"
