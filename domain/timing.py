"""Due-time calculation: pure functions, no clock.

A step falls due its delay after its predecessor was sent (or after the start). If that instant
is outside the step's send window, in the lead's own time zone, it moves to the window's next
opening. Delays count elapsed time (UTC), windows count wall-clock time (local), so both stay
right across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_DELAY_MINUTES = 365 * 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUSINESS_DAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True)
class SendWindow:
    """When a step may be sent, in the lead's local time: [start, end) on the given weekdays."""

    start: time
    end: time
    weekdays: frozenset[int] = EVERY_DAY  # 0 = Monday

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("a send window must start before it ends")
        if not self.weekdays or not self.weekdays <= EVERY_DAY:
            raise ValueError("a send window needs at least one weekday")

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M"),
                "weekdays": [WEEKDAYS[d] for d in sorted(self.weekdays)]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SendWindow:
        days = raw.get("weekdays") or list(WEEKDAYS)
        return cls(time.fromisoformat(raw["start"]), time.fromisoformat(raw["end"]),
                   frozenset(WEEKDAYS.index(d) for d in days))

    def _bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        # Through UTC and back, so a wall time that does not exist (spring forward) becomes the
        # real instant just after the gap.
        def instant(t: time) -> datetime:
            return datetime.combine(day, t, zone).astimezone(UTC)

        return instant(self.start), instant(self.end)

    def next_open(self, at: datetime, zone: ZoneInfo) -> datetime:
        """``at`` itself if it is inside the window, else the window's next opening."""
        local_day = at.astimezone(zone).date()
        for offset in range(9):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            opens, closes = self._bounds(day, zone)
            if opens >= closes:
                continue  # the whole window falls in a daylight-saving gap that day
            if at < opens:
                return opens
            if at < closes:
                return at
        raise AssertionError("a window with a weekday always opens within nine days")


#: Text messages only between 08:00 and 21:00 in the lead's local time, unless a workflow says
#: otherwise (the window US carriers and the TCPA expect).
DEFAULT_WINDOWS: dict[str, SendWindow] = {"sms": SendWindow(time(8), time(21))}


@dataclass(frozen=True)
class Due:
    at: datetime
    reason: str


def due_at(previous_at: datetime, delay_minutes: int) -> datetime:
    """The instant ``delay_minutes`` of elapsed time after ``previous_at``, in UTC."""
    if previous_at.tzinfo is None:
        raise ValueError("previous_at must be timezone-aware")
    if not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise ValueError(f"delay_minutes must be within 0..{MAX_DELAY_MINUTES}")
    return previous_at.astimezone(UTC) + timedelta(minutes=delay_minutes)


def schedule(previous_at: datetime, delay_minutes: int, window: SendWindow | None,
             zone: str) -> Due:
    """When a step falls due, and why: its delay, then its send window in the lead's zone."""
    earliest = due_at(previous_at, delay_minutes)
    reason = f"{describe_delay(delay_minutes)} after the previous step"
    if window is None:
        return Due(earliest, reason)
    when = window.next_open(earliest, ZoneInfo(zone))
    if when == earliest:
        return Due(earliest, reason)
    local = when.astimezone(ZoneInfo(zone))
    return Due(when, f"{reason}, moved to the send window opening "
                     f"{local:%a %H:%M} {zone} (outside {window.start:%H:%M}-{window.end:%H:%M}"
                     f"{'' if window.weekdays == EVERY_DAY else ' on allowed days'})")


def describe_delay(minutes: int) -> str:
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440} day{'s' if minutes != 1440 else ''}"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60} hour{'s' if minutes != 60 else ''}"
    return f"{minutes} min"


def retry_backoff(attempt: int, base_seconds: int = 30, cap_seconds: int = 3600) -> timedelta:
    """Wait before retry number ``attempt`` (1-based) of a transient send failure."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))
