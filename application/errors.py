"""Application errors: what a use case tells its caller went wrong."""

from __future__ import annotations

from uuid import UUID


class ApplicationError(Exception):
    """Root of every error a use case raises."""


class NotFound(ApplicationError):
    """No aggregate of that kind has that id."""

    def __init__(self, kind: str, ident: UUID | str) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = str(ident)


class Invalid(ApplicationError):
    """The command's input broke a rule; nothing was recorded."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class MissingValue(Invalid):
    """The template uses, without a default, a value this lead does not have (a preference):
    not a mistake in the template, so a send skips the step, naming the value."""


class Conflict(ApplicationError):
    """Others kept changing the same aggregate; the command gave up after retrying."""


class SendError(ApplicationError):
    """A channel could not deliver a message."""


class TransientSendError(SendError):
    """The provider failed in a way that may pass: try again later."""


class PermanentSendError(SendError):
    """The provider refused the message for good: do not retry."""
