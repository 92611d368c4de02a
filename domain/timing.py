"""Due-time calculation: one pure function, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_DELAY_MINUTES = 365 * 24 * 60


def due_at(previous_at: datetime, delay_minutes: int) -> datetime:
    """When a step falls due: its predecessor's send time (or the start) plus its delay."""
    if previous_at.tzinfo is None:
        raise ValueError("previous_at must be timezone-aware")
    if not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise ValueError(f"delay_minutes must be within 0..{MAX_DELAY_MINUTES}")
    # Elapsed time, not wall-clock time: adding to a zone-aware local time would move across a
    # DST change by the wrong amount, so add in UTC.
    return previous_at.astimezone(UTC) + timedelta(minutes=delay_minutes)


def retry_backoff(attempt: int, base_seconds: int = 30, cap_seconds: int = 3600) -> timedelta:
    """Wait before retry number ``attempt`` (1-based) of a transient send failure."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))
