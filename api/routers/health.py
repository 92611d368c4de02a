"""Health: can this process reach what it depends on, and are its followers applying the log?
(503 while a store is unreachable or a follower running here is stuck on an event.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import RuntimeDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    ok: bool
    checks: dict[str, Any]


@router.get("/health", response_model=Health, responses={
    503: {"model": Health, "description": "a store is unreachable or a follower is failing"}})
def health(runtime: RuntimeDep) -> JSONResponse:
    checks = runtime.health()
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)
