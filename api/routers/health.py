"""Health: can this process reach what it depends on, and are its followers applying the log?
(503 while a store is unreachable or a follower running here is stuck on an event.)

Anyone (a load balancer) learns up or down; the details (each store, each follower's position,
lag and failure) need an admin or a token with ``health:read``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth import MaybePrincipal
from api.deps import RuntimeDep
from api.errors import SIGNED_IN
from application.access import Scope

router = APIRouter(tags=["health"])


class Health(BaseModel):
    ok: bool
    checks: dict[str, Any] | None = None  # for an admin or a monitoring token only


@router.get("/health", response_model=Health, responses={
    401: SIGNED_IN[401],  # no credential is anonymous; a wrong one is refused, as everywhere
    503: {"model": Health, "description": "a store is unreachable or a follower is failing"}},
    openapi_extra={"security": [{}, {"token": []}, {"session": []}]})  # anyone; details: admins
def health(runtime: RuntimeDep, who: MaybePrincipal) -> JSONResponse:
    checks = runtime.health()
    ok = all(c["ok"] for c in checks.values())
    body: dict[str, Any] = {"ok": ok}
    if who is not None and who.allows(Scope.HEALTH_READ):
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if ok else 503)
