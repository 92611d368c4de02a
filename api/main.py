"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api import errors
from api.routers import (
    dead_letters,
    executions,
    health,
    leads,
    templates,
    tracking,
    workflows,
)


def create_app(runtime: Any) -> FastAPI:
    app = FastAPI(title="followup", version="0.1.0",
                  description="Event-sourced follow-up workflows for real-estate agents")
    app.state.runtime = runtime
    errors.install(app)
    for module in (leads, executions, dead_letters, templates, workflows, tracking, health):
        app.include_router(module.router)
    return app
