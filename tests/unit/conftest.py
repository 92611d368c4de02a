"""Given / when / then for event-sourced aggregates.

``given(*events)`` folds past events into an aggregate (as the repository would);
the test calls one command; ``then(aggregate)`` returns the new events it recorded,
each as ``(qualified event name, payload)`` so a test can state them exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: Attributes every event carries; a test states only what the event says.
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})

#: A fixed, timezone-aware instant the tests count from.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

#: Who acted, as a principal names itself in the events (``domain.actors``).
ANN = "user:00000000-0000-4000-8000-00000000a770"


def given(*events: Any) -> Any:
    """The aggregate these past events rebuild (no pending events)."""
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def payload(event: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k not in ENVELOPE}


def then(aggregate: Any) -> list[tuple[str, dict[str, Any]]]:
    """The events recorded since the last look, as (name, payload) pairs."""
    return [(type(e).__qualname__, payload(e)) for e in aggregate.collect_events()]


def names(events: Any) -> list[str]:
    return [type(e).__qualname__ for e in events]


def state(aggregate: Any) -> dict[str, Any]:
    """What an aggregate knows: its attributes, less the events still to save."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
