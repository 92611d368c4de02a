"""What pages print: times in the lead's zone beside UTC, and the score chart (an inline SVG
drawn here, so the page needs no charting script)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from domain.scoring import MAX_SCORE, MIN_SCORE


def moment(value: datetime | str) -> datetime:
    found = datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def when(value: datetime | str | None, zone: str | None = None) -> Markup:
    """``Tue 1 Dec 2026 09:00 Europe/Lisbon · 09:00 UTC``, as a ``<time>``; UTC alone without
    a zone (or in UTC)."""
    if value is None:
        return Markup("—")
    utc = moment(value).astimezone(UTC)
    # f-strings with the one variable part escaped: Markup.format cost a third of a long
    # timeline's page (the dates and times are digits and names of ours)
    if not zone or zone == "UTC":
        return Markup(f'<time datetime="{utc.isoformat()}">{utc:%a} {utc.day} '
                      f'{utc:%b %Y %H:%M} UTC</time>')
    local = utc.astimezone(ZoneInfo(zone))
    beside = f"{utc:%H:%M}" if local.date() == utc.date() else f"{utc:%a %H:%M}"
    return Markup(f'<time datetime="{utc.isoformat()}">{local:%a} {local.day} '
                  f'{local:%b %Y %H:%M} {escape(zone)}</time> '
                  f'<span class="utc">· {beside} UTC</span>')


def utc_day(value: datetime | str) -> str:
    utc = moment(value).astimezone(UTC)
    return f"{utc.day} {utc:%b %Y}"


def shown(value: Any) -> str:
    """A preference's value as an agent types it (text as is; lists and objects as JSON)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class ScorePoint:
    at: datetime
    score: int


def score_points(entries: list[dict[str, Any]]) -> list[ScorePoint]:
    """The score over time, from the lead's history: its registration and each change."""
    points = []
    for entry in entries:
        data, kind = entry["data"], entry["kind"]
        if kind == "Lead.Created" and isinstance(data.get("score"), int):
            points.append(ScorePoint(moment(entry["occurred_at"]), data["score"]))
        elif kind == "Lead.ScoreChanged" and isinstance(data.get("new"), int):
            points.append(ScorePoint(moment(entry["occurred_at"]), data["new"]))
    return points


W, H, LEFT, RIGHT, TOP, BOTTOM = 360, 170, 30, 10, 10, 26
#: Past this many changes the chart is the line alone (its dots would merge into one).
MAX_DOTS = 100


def axis_ends(start: datetime, end: datetime) -> tuple[str, str]:
    """The time axis's two labels: the day at each end, or, within one UTC day, the day and
    the time at the start and the time at the end."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if start.date() != end.date():
        return utc_day(start), utc_day(end)
    return f"{utc_day(start)} {start:%H:%M}", f"{end:%H:%M} UTC"


def score_chart(points: list[ScorePoint], now: datetime) -> Markup:
    """A line of the score over time, to ``now``; a step line, since a score holds until it
    changes. Its text alternative is the table beside it (see the template)."""
    if not points:
        return Markup("")
    start, end = points[0].at, max(now, points[-1].at)
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return LEFT + (W - LEFT - RIGHT) * (at - start).total_seconds() / span

    def y(score: int) -> float:
        return TOP + (H - TOP - BOTTOM) * (MAX_SCORE - score) / (MAX_SCORE - MIN_SCORE)

    path = [f"M{x(points[0].at):.1f},{y(points[0].score):.1f}"]
    for point in points[1:]:
        path.append(f"H{x(point.at):.1f}V{y(point.score):.1f}")
    path.append(f"H{x(end):.1f}")
    grid = "".join(
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(s):.1f}" y2="{y(s):.1f}" class="grid"/>'
        f'<text x="{LEFT - 6}" y="{y(s) + 4:.1f}" text-anchor="end">{s}</text>'
        for s in (0, 25, 50, 75, 100))
    dots = "".join(f'<circle cx="{x(p.at):.1f}" cy="{y(p.score):.1f}" r="3.5"/>'
                   for p in points) if len(points) <= MAX_DOTS else ""
    first, last = axis_ends(start, end)
    labels = (f'<text x="{LEFT}" y="{H - 8}">{first}</text>'
              f'<text x="{W - RIGHT}" y="{H - 8}" text-anchor="end">{last}</text>')
    return Markup(
        f'<svg class="score-chart" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="score-chart-title" focusable="false">'
        f'<title id="score-chart-title">Score over time: now {points[-1].score}, '
        f'{len(points) - 1} change(s) since {utc_day(start)}</title>'
        f'{grid}<path d="{"".join(path)}" class="line"/>{dots}{labels}</svg>')
