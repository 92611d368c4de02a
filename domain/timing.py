"""Due-time calculation: pure functions, no clock.

A step falls due its delay after its predecessor was sent (or after the start). If that instant
is outside the step's send window, in the lead's own time zone, it moves to the window's next
opening. Delays count elapsed time (UTC), windows count wall-clock time (local), so both stay
right across daylight-saving changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_DELAY_MINUTES = 365 * 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUSINESS_DAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
#: A wall-clock time as a window edge: two digits, a colon, two digits, and nothing else.
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


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
        return {"start": _hhmm(self.start), "end": _hhmm(self.end),
                "weekdays": [WEEKDAYS[d] for d in sorted(self.weekdays)]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SendWindow:
        days = raw.get("weekdays") or list(WEEKDAYS)
        return cls(_parse_hhmm(raw["start"]), _parse_hhmm(raw["end"]),
                   frozenset(WEEKDAYS.index(d) for d in days))

    def contains(self, at: datetime, zone: ZoneInfo) -> bool:
        """By the wall clock in ``zone``: an allowed weekday, and from start to before end (to
        midnight when the end is 24:00)."""
        local = at.astimezone(zone)
        wall = local.time()
        return (local.weekday() in self.weekdays and self.start <= wall
                and (wall < self.end or self.end == time.max))

    def next_open(self, at: datetime, zone: ZoneInfo) -> datetime:
        """``at`` itself if it is inside the window, else the window's next opening."""
        if self.contains(at, zone):
            return at
        local_day = at.astimezone(zone).date()
        for offset in range(15):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            opening = first_instant(day, self.start, zone)
            if opening > at and self.contains(opening, zone):
                return opening  # not so when the whole window falls in a DST gap that day
        # Each allowed weekday comes round twice in fifteen days; a clock change can take
        # away at most one of the two.
        raise AssertionError("a window with a weekday always opens within fifteen days")


def _hhmm(t: time) -> str:
    return "24:00" if t == time.max else t.strftime("%H:%M")


def _parse_hhmm(text: str) -> time:
    """``HH:MM``; ``24:00`` is the end of the day. Not ISO's other spellings (``0800``,
    ``08``, ``08:00:00``, ``T0800``, ``0800Z``): a window edge is a naive wall-clock time."""
    if text == "24:00":
        return time.max
    if not HHMM.fullmatch(text):
        raise ValueError(f"{text!r} is not HH:MM")
    return time(int(text[:2]), int(text[3:]))


def first_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` at which the wall clock in ``zone`` shows ``wall`` or later.

    Usually that wall time itself (its first occurrence, when the clock goes back); for a wall
    time the clock skips (spring forward), the instant of the jump.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone).astimezone(UTC)  # fold 0: the first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=1 lands before the jump, fold=0 after it; find the jump to the second.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)  # clocks change on the second


#: Text messages only between 08:00 and 21:00 in the lead's local time (the hours US carriers
#: and the TCPA expect), whatever a workflow's window, an agent's override or a retry says: a
#: workflow's own SMS window lies inside them.
SMS_HOURS = SendWindow(time(8), time(21))
SMS_QUIET = "SMS is never sent 21:00-08:00 in the lead's time zone"
DEFAULT_WINDOWS: dict[str, SendWindow] = {"sms": SMS_HOURS}


def within_sms_hours(window: SendWindow) -> bool:
    """Does ``window`` lie inside the hours an SMS may go out?"""
    return SMS_HOURS.start <= window.start and window.end <= SMS_HOURS.end


def allowed_window(channel: str, window: SendWindow | None) -> SendWindow | None:
    """The window a step on ``channel`` really goes out in. For SMS, the part of ``window``
    inside ``SMS_HOURS`` (those hours on the window's weekdays, if none of it is): a window
    frozen under older rules, such as 00:00-24:00, never lets a text out at night."""
    if channel != "sms":
        return window
    if window is None:
        return SMS_HOURS
    start, end = max(window.start, SMS_HOURS.start), min(window.end, SMS_HOURS.end)
    if start >= end:
        start, end = SMS_HOURS.start, SMS_HOURS.end
    return SendWindow(start, end, window.weekdays)


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
             zone: str, after: str = "the previous step") -> Due:
    """When a step falls due, and why: its delay, then its send window in the lead's zone.
    ``after`` names what ``previous_at`` is (the previous step, or the start for step one)."""
    earliest = due_at(previous_at, delay_minutes)
    reason = describe_wait(delay_minutes, after)
    if window is None:
        return Due(earliest, reason)
    when = window.next_open(earliest, ZoneInfo(zone))
    if when == earliest:
        return Due(earliest, reason)
    local = when.astimezone(ZoneInfo(zone))
    return Due(when, f"{reason}, moved to the send window opening "
                     f"{local:%a %H:%M} {zone} (outside {window.start:%H:%M}-{window.end:%H:%M}"
                     f"{'' if window.weekdays == EVERY_DAY else ' on allowed days'})")


def describe_wait(minutes: int, after: str) -> str:
    """``30 min after the previous step``; no delay after the start is ``right after the
    start``."""
    if minutes == 0 and after == "the start":
        return "right after the start"
    return f"{describe_delay(minutes)} after {after}"


def describe_delay(minutes: int) -> str:
    """``90 min``, ``25 hours``, ``3 days``; a longer delay that is not whole hours under two
    days in days, hours and minutes (``2 days 30 min``, ``3 days 1 hour``)."""
    if minutes and minutes % 1440 == 0:
        return _count(minutes // 1440, "day")
    if minutes and minutes % 60 == 0 and minutes < 2880:
        return _count(minutes // 60, "hour")
    if minutes >= 1440:
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        parts = (_count(days, "day"), _count(hours, "hour") if hours else "",
                 f"{mins} min" if mins else "")
        return " ".join(p for p in parts if p)
    return f"{minutes} min"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'s' if n != 1 else ''}"


def retry_backoff(attempt: int, base_seconds: int = 30, cap_seconds: int = 3600) -> timedelta:
    """Wait before retry number ``attempt`` (1-based) of a transient send failure."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))
