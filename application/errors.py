"""Application errors: what a use case tells its caller went wrong."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import DomainError, InvalidState


class ApplicationError(Exception):
    """Root of every error a use case raises."""


class NotFound(ApplicationError):
    """No aggregate of that kind has that id."""

    def __init__(self, kind: str, ident: UUID | str) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = str(ident)


class Invalid(ApplicationError):
    """The command broke a rule; nothing was recorded.

    ``field`` names what was wrong, and ``where`` where the caller gave it: ``body`` (the
    request's input), ``query`` or ``path``; ``line``, for a template's text, the line of it
    the mistake is on (from 1)."""

    def __init__(self, field: str, reason: str, where: str = "body", *,
                 line: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.where = where
        self.line = line


class NotAllowed(Invalid):
    """The aggregate's current state does not allow the command (its input may be fine)."""


def refused(e: DomainError) -> Invalid:
    """The application error for a rule of the domain that refused a command: the one place
    domain errors are translated."""
    kind = NotAllowed if isinstance(e, InvalidState) else Invalid
    return kind(e.field, e.reason)


class Refused(ApplicationError):
    """The command was refused as a whole, for a reason the caller can act on; nothing was
    recorded. ``details`` say what stood in the way (plain JSON data)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class StaleVersion(ApplicationError):
    """The caller changed what it read at another version than the current one (another
    change came first); nothing was recorded. ``current``: the aggregate's version now."""

    def __init__(self, kind: str, ident: UUID, current: int) -> None:
        super().__init__(f"{kind} {ident} is at version {current}, not the one given")
        self.kind = kind
        self.ident = str(ident)
        self.current = current


class MissingValue(Invalid):
    """The template uses, without a default, a value this lead does not have (a preference):
    not a mistake in the template, so a send skips the step, naming the value."""


class Conflict(ApplicationError):
    """Others kept changing the same aggregate; the command gave up after retrying."""


class OutcomeNotRecorded(Conflict):
    """A send's outcome could not be recorded: others kept changing its execution."""


class TriggerNotApplied(Conflict):
    """The trigger policy could not apply a lead's event: others kept changing the lead."""


class PositionMoved(ApplicationError):
    """Another runner (or a lost store) moved the consumer's position; read it again."""


class SendError(ApplicationError):
    """A channel could not deliver a message."""


class TransientSendError(SendError):
    """The provider failed in a way that may pass: try again later."""


class PermanentSendError(SendError):
    """The provider refused the message for good: do not retry."""
