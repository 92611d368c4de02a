"""The conflict-retry helper, and the one root of the application's errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from eventsourcing.persistence import IntegrityError

import application
from application.errors import ApplicationError, Conflict, PositionMoved
from application.retrying import CONFLICT_RETRIES, retry_conflicts


class Attempts:
    """An attempt that conflicts ``conflicts`` times, then returns how often it ran."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise IntegrityError("another writer was first")
        return self.calls


def test_an_attempt_that_conflicts_is_run_again_until_it_saves() -> None:
    attempt = Attempts(conflicts=CONFLICT_RETRIES - 1)
    assert retry_conflicts(attempt, lambda: Conflict("no")) == CONFLICT_RETRIES


def test_an_attempt_that_keeps_conflicting_gives_up_with_the_error_given() -> None:
    attempt = Attempts(conflicts=3)
    with pytest.raises(Conflict, match="gave up"):
        retry_conflicts(attempt, lambda: Conflict("gave up"), tries=3)
    assert attempt.calls == 3


def test_a_conflict_after_another_runner_did_the_work_stops_quietly() -> None:
    attempt = Attempts(conflicts=5)
    assert retry_conflicts(attempt, lambda: Conflict("no"), settled=lambda: True) is None
    assert attempt.calls == 1


def test_an_error_other_than_a_conflict_is_not_retried() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        retry_conflicts(attempt, lambda: Conflict("no"))
    assert calls == [1]


def test_every_error_the_application_defines_is_an_application_error() -> None:
    defined = []
    for info in pkgutil.iter_modules(application.__path__):
        module = importlib.import_module(f"application.{info.name}")
        defined += [c for _, c in inspect.getmembers(module, inspect.isclass)
                    if issubclass(c, BaseException) and c.__module__ == module.__name__]
    assert PositionMoved in defined and len(defined) > 10
    assert [c for c in defined if not issubclass(c, ApplicationError)] == []
