"""Domain errors: a rule of the business refused a command."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a business rule; nothing was recorded."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidValue(DomainError):
    """A value is outside what the business allows."""


class InvalidState(DomainError):
    """The aggregate is not in a state that allows the command."""
