"""Tracking: the open pixel that email clients load."""

from __future__ import annotations

import base64
import contextlib
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import AppDep
from application.errors import ApplicationError

router = APIRouter(prefix="/t", tags=["tracking"])

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@router.get("/o/{message_id}.gif", include_in_schema=False)
def open_pixel(message_id: UUID, app: AppDep) -> Response:
    """Records the first open of an email (another channel's message is not opened); always
    answers with the pixel, so nothing leaks to the client."""
    with contextlib.suppress(ApplicationError):
        app.engage(message_id, "opened")
    return Response(PIXEL, media_type="image/gif",
                    headers={"Cache-Control": "no-store, max-age=0"})
