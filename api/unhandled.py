"""A fault of ours (an exception no handler maps) answers 500 in the one error shape, and is
logged under an error id the answer names: the exception's type, the route's function and the
stack, never the exception's message or the request, which may carry a person's details."""

from __future__ import annotations

import logging
import traceback
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError

log = logging.getLogger("api.unhandled")


class Unhandled:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as e:
            if started:  # too late for an answer of ours: the server closes the connection
                raise
            error_id = _logged(scope, e)
            await ApiError(500, "internal", f"internal error, logged as {error_id}",
                           details={"errorId": error_id}).response()(scope, receive, send)


def _logged(scope: Scope, e: Exception) -> str:
    error_id = uuid.uuid4().hex[:16]
    endpoint = getattr(scope.get("endpoint"), "__qualname__", "no route")
    stack = "".join(traceback.format_tb(e.__traceback__))
    log.error("unhandled %s in %s %s, error id %s\n%s", type(e).__qualname__, scope["method"],
              endpoint, error_id, stack)
    return error_id
