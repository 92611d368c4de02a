"""Dependencies: the process's runtime and what routers take from it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from application.app import FollowUp


def get_runtime(request: Request) -> Any:
    return request.app.state.runtime


def get_app(request: Request) -> FollowUp:
    return request.app.state.runtime.app


RuntimeDep = Annotated[Any, Depends(get_runtime)]
AppDep = Annotated[FollowUp, Depends(get_app)]
