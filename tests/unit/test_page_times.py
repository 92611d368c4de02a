"""How pages print a moment: in the lead's zone with UTC beside it, as a ``<time>``."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from api.pages.formatting import when

ZONES = [None, "UTC", "Europe/Lisbon", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]


def reference(value: datetime, zone: str | None) -> Markup:
    """The same text built with Markup.format, escaping every part."""
    utc = value.astimezone(UTC)
    stamp = f"{utc:%a} {utc.day} {utc:%b %Y %H:%M}"
    if not zone or zone == "UTC":
        return Markup('<time datetime="{}">{} UTC</time>').format(utc.isoformat(), stamp)
    local = utc.astimezone(ZoneInfo(zone))
    beside = f"{utc:%H:%M}" if local.date() == utc.date() else f"{utc:%a %H:%M}"
    return Markup('<time datetime="{}">{} {}</time> <span class="utc">· {} UTC</span>').format(
        utc.isoformat(), f"{local:%a} {local.day} {local:%b %Y %H:%M}", zone, beside)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)), st.sampled_from(ZONES))
def test_a_moment_reads_in_the_zone_beside_utc(value: datetime, zone: str | None) -> None:
    assert when(value, zone) == reference(value, zone)
    assert when(value.isoformat(), zone) == reference(value, zone)


def test_a_moment_on_another_day_in_utc_names_that_day() -> None:
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert str(when(late, "Asia/Kolkata")) == (
        '<time datetime="2026-12-01T23:30:00+00:00">Wed 2 Dec 2026 05:00 Asia/Kolkata</time> '
        '<span class="utc">· Tue 23:30 UTC</span>')
    assert str(when(None)) == "—"
