"""What a follower reports of a consumer that cannot apply an event: which event, what kind of
error and where, and when it is tried again; never the event's data nor the error's text (a
database error's text can quote the values it refused)."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

#: The first retry after a failure, and the longest wait between retries (it doubles).
RETRY_FIRST = 1.0
RETRY_MAX = 30.0

#: Frames under this folder are the project's own: the place a failure is reported at.
ROOT = Path(__file__).resolve().parent.parent


def backoff(attempts: int) -> float:
    """Seconds to wait after ``attempts`` failed attempts in a row."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, attempts - 1))


def error_kind(error: BaseException) -> str:
    """The error's type, and for a database error the driver's type and code: no text."""
    orig = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error
    kind = type(error).__name__ if orig is None else f"{type(error).__name__}: "
    driver = error if orig is None else orig
    code = getattr(driver, "sqlstate", None) or getattr(driver, "sqlite_errorname", None)
    if orig is None:
        return f"{kind} ({code})" if code else kind
    return f"{kind}{type(orig).__name__}{f' ({code})' if code else ''}"


def error_place(error: BaseException) -> str:
    """The innermost frame of the project's own code the error went through."""
    place = "?"
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename)
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            place = f"{path.relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    return place


@dataclass
class Failure:
    """A consumer stopped right before ``event`` (a notification id; ``None`` when the failure
    was not an event's, such as a read of the log or of a position)."""

    event: int | None
    topic: str | None
    originator: str | None
    error: str
    place: str
    since: float = field(default_factory=time.time)
    attempts: int = 1
    retry_at: float = 0.0  # time.monotonic()

    @classmethod
    def of(cls, position: int | None, event: Any, error: BaseException) -> Failure:
        topic = originator = None
        if event is not None:
            topic = get_topic(type(event))
            found = getattr(event, "originator_id", None)
            originator = None if found is None else str(found)
        return cls(position, topic, originator, error_kind(error), error_place(error))

    def same(self, other: Failure) -> bool:
        return (self.event, self.error) == (other.event, other.error)

    def again(self, previous: Failure) -> Failure:
        """This failure, counted as one more attempt of ``previous`` when it is the same."""
        if self.same(previous):
            self.since, self.attempts = previous.since, previous.attempts + 1
        return self

    def schedule(self) -> None:
        self.retry_at = time.monotonic() + backoff(self.attempts)

    def describe(self) -> str:
        what = ("no event (reading the log or a position)" if self.event is None else
                f"event {self.event} (topic {self.topic}, originator {self.originator})")
        return f"{what}: {self.error} at {self.place}"

    def report(self) -> dict[str, Any]:
        return {"since": datetime.fromtimestamp(self.since, UTC).isoformat(),
                "eventId": self.event, "topic": self.topic, "originatorId": self.originator,
                "error": self.error, "at": self.place, "attempts": self.attempts,
                "retryInSeconds": round(max(0.0, self.retry_at - time.monotonic()), 1)}
