"""The one way the application retries a load-decide-save step another writer got to first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, overload

from eventsourcing.persistence import IntegrityError

from application.errors import ApplicationError

T = TypeVar("T")

CONFLICT_RETRIES = 8


@overload
def retry_conflicts(attempt: Callable[[], T], gave_up: Callable[[], ApplicationError], *,
                    tries: int = CONFLICT_RETRIES) -> T: ...


@overload
def retry_conflicts(attempt: Callable[[], T], gave_up: Callable[[], ApplicationError], *,
                    tries: int = CONFLICT_RETRIES,
                    settled: Callable[[], bool]) -> T | None: ...


def retry_conflicts(attempt: Callable[[], T], gave_up: Callable[[], ApplicationError], *,
                    tries: int = CONFLICT_RETRIES,
                    settled: Callable[[], bool] | None = None) -> T | None:
    """Run ``attempt`` (which reloads what it changes) again while its save conflicts, at most
    ``tries`` times, then raise ``gave_up()``. ``settled``, asked after each conflict, says that
    another runner did the work meanwhile: the helper then stops and returns None."""
    for _ in range(tries):
        try:
            return attempt()
        except IntegrityError:
            if settled is not None and settled():
                return None
    raise gave_up()
