"""Dependencies: the process's runtime and what routers take from it.

The API names what it uses of the runtime as a ``Protocol`` (the composition root's
``adapters.bootstrap.Runtime`` is one), so mypy checks every router's use without the API
importing an adapter."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import Depends, Request

from application.app import FollowUp


class LeadHistory(Protocol):
    def for_lead(self, lead_id: str, limit: int = ..., after: int | None = ...,
                 newest: bool = ..., before: int | None = ...,
                 kinds: Collection[str] | None = ...) -> list[dict[str, Any]]:
        """The lead's history entries, oldest first (after the log position ``after``, before
        ``before``, of ``kinds``; the last ``limit`` if ``newest``)."""


class Inboxes(Protocol):
    def inbox(self, lead_id: str, limit: int = ...) -> list[dict[str, Any]]:
        """The lead's in-app messages, newest first."""

    def unread(self, lead_id: str) -> int:
        """How many of the lead's in-app messages are unread."""


class DeadLetters(Protocol):
    def dead_letters(self, *, agent_id: str | None = ..., workflow_id: UUID | None = ...,
                     limit: int = ...,
                     brokerage_id: UUID | None = ...) -> list[dict[str, Any]]:
        """The dead-lettered steps, oldest first."""


class Runtime(Protocol):
    """What the API takes from the process: the application, the read models it queries, and
    the health checks."""

    @property
    def app(self) -> FollowUp: ...

    @property
    def history(self) -> LeadHistory: ...

    @property
    def messages(self) -> Inboxes: ...

    @property
    def directory(self) -> DeadLetters: ...

    def health(self) -> dict[str, Any]:
        """Each check by name, each with ``ok``."""


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_app(request: Request) -> FollowUp:
    return get_runtime(request).app


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
AppDep = Annotated[FollowUp, Depends(get_app)]
