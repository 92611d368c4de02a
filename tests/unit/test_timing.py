"""Timing: send windows, schedule (delay, then the window in the lead's zone), describe_delay.

The properties run in real IANA zones with daylight saving (and Sao Paulo, which has had none
since 2019) over 2026-2027, with extra weight on the days the clocks change. Their windows
start and end outside 01:00-04:00 local, the hours that are skipped or repeated on those days
in these zones; windows whose edges fall in those hours have given/when/then tests of their own
(a window spanning the gap or the repeated hour, one lost in the gap).
"""

from __future__ import annotations

import time as system_time
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.timing import (
    EVERY_DAY,
    MAX_DELAY_MINUTES,
    SMS_HOURS,
    SendWindow,
    allowed_window,
    describe_delay,
    due_at,
    first_instant,
    retry_backoff,
    schedule,
    within_sms_hours,
)

MODERATE = settings(max_examples=200, deadline=None)

NY = ZoneInfo("America/New_York")
ZONE_NAMES = ["America/New_York", "Europe/Lisbon", "Australia/Sydney", "America/Sao_Paulo"]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

#: When the clocks change in those zones in 2026-2027 (UTC).
CHANGES = [
    datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2027, 3, 14, 7, tzinfo=UTC), datetime(2027, 11, 7, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 16, tzinfo=UTC), datetime(2026, 10, 3, 16, tzinfo=UTC),
    datetime(2027, 4, 3, 16, tzinfo=UTC), datetime(2027, 10, 2, 16, tzinfo=UTC),
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def window(start: str, end: str, days: list[str] = ALL_DAYS) -> SendWindow:
    return SendWindow.from_dict({"start": start, "end": end, "weekdays": days})


def allowed(at: datetime, send_window: SendWindow, zone: str) -> bool:
    """Is ``at`` inside the window: its wall-clock time in the zone, on an allowed weekday?"""
    local = at.astimezone(ZoneInfo(zone))
    return (local.weekday() in send_window.weekdays
            and send_window.start <= local.time() < send_window.end)


def test_the_changes_are_real_daylight_saving_changes() -> None:
    for change in CHANGES:
        offsets = {zone: (change - timedelta(minutes=1)).astimezone(ZoneInfo(zone)).utcoffset()
                   != change.astimezone(ZoneInfo(zone)).utcoffset() for zone in ZONE_NAMES}
        assert sum(offsets.values()) == 1, change


# SendWindow ----------------------------------------------------------------------


def test_a_window_round_trips_through_its_dict() -> None:
    # Given
    raw = {"start": "08:30", "end": "21:00", "weekdays": ["mon", "sat"]}
    # When / Then
    found = SendWindow.from_dict(raw)
    assert found == SendWindow(time(8, 30), time(21), frozenset({0, 5}))
    assert found.as_dict() == raw


def test_a_window_without_weekdays_is_every_day() -> None:
    # When / Then
    assert SendWindow.from_dict({"start": "08:00", "end": "09:00"}).weekdays == EVERY_DAY


@pytest.mark.parametrize(("start", "end", "days"), [
    (time(9), time(9), EVERY_DAY),
    (time(10), time(9), EVERY_DAY),
    (time(9), time(10), frozenset()),
    (time(9), time(10), frozenset({7})),
])
def test_a_window_must_start_before_it_ends_on_some_weekday(start: time, end: time,
                                                           days: frozenset[int]) -> None:
    # When / Then
    with pytest.raises(ValueError):
        SendWindow(start, end, days)


@pytest.mark.parametrize(("at", "expected"), [
    (utc(2026, 1, 5, 13, 0), utc(2026, 1, 5, 13, 0)),     # 08:00 local: opens then
    (utc(2026, 1, 5, 12, 59), utc(2026, 1, 5, 13, 0)),    # 07:59 local
    (utc(2026, 1, 5, 20, 0), utc(2026, 1, 5, 20, 0)),     # 15:00 local: open
    (utc(2026, 1, 6, 1, 59), utc(2026, 1, 6, 1, 59)),     # 20:59 local: still open
    (utc(2026, 1, 6, 2, 0), utc(2026, 1, 6, 13, 0)),      # 21:00 local: closed until 08:00
])
def test_next_open_in_new_york(at: datetime, expected: datetime) -> None:
    # Given 08:00-21:00 every day in New York (UTC-5 in January)
    # When / Then
    assert window("08:00", "21:00").next_open(at, NY) == expected


def test_next_open_waits_for_an_allowed_weekday() -> None:
    # Given Friday 21:30 in New York, and a window on weekdays only
    friday_evening = utc(2026, 1, 10, 2, 30)
    # When / Then: Monday 08:00
    assert window("08:00", "21:00", ALL_DAYS[:5]).next_open(friday_evening, NY) == utc(
        2026, 1, 12, 13, 0)


def test_next_open_a_week_later_when_today_is_the_only_day_and_it_closed() -> None:
    # Given Monday 22:00 in New York, and a window on Mondays only
    # When / Then
    assert window("08:00", "21:00", ["mon"]).next_open(utc(2026, 1, 6, 3, 0), NY) == utc(
        2026, 1, 12, 13, 0)


def test_the_window_follows_the_wall_clock_across_daylight_saving() -> None:
    # Given 09:00-17:00 in New York, on the days around the March 2026 change
    nine_to_five = window("09:00", "17:00")
    # When / Then: 09:00 is 14:00 UTC before the change and 13:00 UTC after
    assert nine_to_five.next_open(utc(2026, 3, 7, 6, 0), NY) == utc(2026, 3, 7, 14, 0)
    assert nine_to_five.next_open(utc(2026, 3, 8, 6, 0), NY) == utc(2026, 3, 8, 13, 0)
    assert nine_to_five.next_open(utc(2026, 11, 1, 5, 0), NY) == utc(2026, 11, 1, 14, 0)


def test_a_window_spanning_the_gap_is_an_hour_shorter_that_day() -> None:
    # Given 00:00-05:00 in New York; on 8 March 2026 02:00-03:00 does not exist
    night = window("00:00", "05:00")
    # When / Then: it opens at 05:00 UTC and closes at 09:00 UTC (05:00 EDT)
    assert night.next_open(utc(2026, 3, 8, 8, 59), NY) == utc(2026, 3, 8, 8, 59)
    assert night.next_open(utc(2026, 3, 8, 9, 0), NY) == utc(2026, 3, 9, 4, 0)


def test_a_window_spanning_the_repeated_hour_is_an_hour_longer_that_day() -> None:
    # Given 00:00-05:00 in New York; on 1 November 2026 01:00-02:00 happens twice
    night = window("00:00", "05:00")
    # When / Then: it closes at 10:00 UTC (05:00 EST), six hours after it opened
    assert night.next_open(utc(2026, 11, 1, 9, 59), NY) == utc(2026, 11, 1, 9, 59)
    assert night.next_open(utc(2026, 11, 1, 10, 0), NY) == utc(2026, 11, 2, 5, 0)


# schedule: examples ----------------------------------------------------------------


def test_schedule_without_a_window_is_the_delay_after_the_previous_step() -> None:
    # When
    due = schedule(utc(2026, 1, 5, 9, 0), 90, None, "America/New_York")
    # Then
    assert (due.at, due.reason) == (utc(2026, 1, 5, 10, 30), "90 min after the previous step")


def test_schedule_inside_the_window_keeps_the_delay() -> None:
    # When (15:00 + 60 min in New York)
    due = schedule(utc(2026, 1, 5, 20, 0), 60, window("08:00", "21:00"), "America/New_York")
    # Then
    assert (due.at, due.reason) == (utc(2026, 1, 5, 21, 0), "1 hour after the previous step")


def test_schedule_outside_the_window_says_where_it_moved() -> None:
    # When (20:30 + 60 min in New York)
    due = schedule(utc(2026, 1, 6, 1, 30), 60, window("08:00", "21:00"), "America/New_York")
    # Then
    assert due.at == utc(2026, 1, 6, 13, 0)
    assert due.reason == ("1 hour after the previous step, moved to the send window opening "
                          "Tue 08:00 America/New_York (outside 08:00-21:00)")


def test_schedule_outside_a_window_on_some_days_says_so() -> None:
    # When (Saturday 10:00 in Sydney, a weekday window)
    due = schedule(utc(2026, 1, 9, 23, 0), 0, window("09:30", "17:00", ALL_DAYS[:5]),
                   "Australia/Sydney")
    # Then: Monday 09:30 AEDT (UTC+11)
    assert due.at == utc(2026, 1, 11, 22, 30)
    assert due.reason == ("0 min after the previous step, moved to the send window opening "
                          "Mon 09:30 Australia/Sydney (outside 09:30-17:00 on allowed days)")


def test_schedule_gives_utc() -> None:
    # When
    due = schedule(datetime(2026, 1, 5, 4, 0, tzinfo=NY), 0, None, "America/New_York")
    # Then
    assert due.at == utc(2026, 1, 5, 9, 0)
    assert due.at.tzinfo is UTC


@pytest.mark.parametrize("delay", [-1, MAX_DELAY_MINUTES + 1])
def test_schedule_refuses_a_delay_out_of_range(delay: int) -> None:
    with pytest.raises(ValueError):
        schedule(utc(2026, 1, 5, 9, 0), delay, None, "UTC")


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (1, "1 min"), (59, "59 min"), (60, "1 hour"), (90, "90 min"),
    (120, "2 hours"), (1440, "1 day"), (1500, "25 hours"), (2880, "2 days"),
    (MAX_DELAY_MINUTES, "365 days"),
])
def test_describe_delay(minutes: int, text: str) -> None:
    assert describe_delay(minutes) == text


@pytest.mark.parametrize(("attempt", "seconds"), [
    (0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (50, 3600),
])
def test_retry_backoff_doubles_up_to_an_hour(attempt: int, seconds: int) -> None:
    assert retry_backoff(attempt) == timedelta(seconds=seconds)


# schedule and next_open: properties -------------------------------------------------

ZONES = st.sampled_from(ZONE_NAMES)
ANY_INSTANT = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                           timezones=st.just(UTC))
NEAR_A_CHANGE = st.builds(lambda change, seconds: change + timedelta(seconds=seconds),
                          st.sampled_from(CHANGES), st.integers(-2 * 86400, 2 * 86400))
INSTANTS = st.one_of(ANY_INSTANT, NEAR_A_CHANGE)
DELAYS = st.one_of(st.integers(0, 3 * 1440), st.sampled_from([0, 60, 1440, 10080]))

#: Minutes of the day outside 01:00-04:00, where the clocks of these zones jump.
CLEAR_OF_CHANGES = st.integers(0, 1439).filter(lambda m: not 60 <= m < 240)


def _window(edges: tuple[int, int], days: frozenset[int]) -> SendWindow:
    start, end = sorted(edges)
    return SendWindow(time(start // 60, start % 60), time(end // 60, end % 60), days)


WINDOWS = st.one_of(
    st.builds(_window, st.tuples(CLEAR_OF_CHANGES, CLEAR_OF_CHANGES).filter(
        lambda e: e[0] != e[1]), st.frozensets(st.integers(0, 6), min_size=1)),
    st.sampled_from([window("08:00", "21:00"), window("09:00", "17:00", ALL_DAYS[:5]),
                     window("00:00", "23:59", ["sun"]), window("12:00", "12:01")]),
)


@MODERATE
@given(previous=INSTANTS, delay=DELAYS, send_window=WINDOWS, zone=ZONES)
def test_schedule_is_never_before_the_delay_has_passed(previous: datetime, delay: int,
                                                       send_window: SendWindow,
                                                       zone: str) -> None:
    due = schedule(previous, delay, send_window, zone)
    assert due.at >= previous + timedelta(minutes=delay)
    assert due.at.tzinfo is UTC


@MODERATE
@given(previous=INSTANTS, delay=DELAYS, send_window=WINDOWS, zone=ZONES)
def test_schedule_is_always_inside_the_window(previous: datetime, delay: int,
                                              send_window: SendWindow, zone: str) -> None:
    due = schedule(previous, delay, send_window, zone)
    assert allowed(due.at, send_window, zone), due.at.astimezone(ZoneInfo(zone))


@MODERATE
@given(previous=INSTANTS, delay=DELAYS, send_window=WINDOWS, zone=ZONES,
       millionths=st.integers(0, 999_999))
def test_schedule_is_the_first_allowed_instant(previous: datetime, delay: int,
                                               send_window: SendWindow, zone: str,
                                               millionths: int) -> None:
    earliest = previous + timedelta(minutes=delay)
    due = schedule(previous, delay, send_window, zone)
    if due.at == earliest:
        return
    # nothing between the earliest instant and the due time was allowed
    assert not allowed(earliest, send_window, zone)
    between = earliest + (due.at - earliest) * millionths // 1_000_000
    assert between < due.at
    assert not allowed(between, send_window, zone), between
    a_minute_before = due.at - timedelta(minutes=1)
    assert a_minute_before < earliest or not allowed(a_minute_before, send_window, zone)


@MODERATE
@given(a=INSTANTS, b=INSTANTS, delay=DELAYS, send_window=WINDOWS, zone=ZONES)
def test_schedule_is_monotone_in_the_previous_time(a: datetime, b: datetime, delay: int,
                                                   send_window: SendWindow, zone: str) -> None:
    early, late = sorted([a, b])
    assert (schedule(early, delay, send_window, zone).at
            <= schedule(late, delay, send_window, zone).at)


@MODERATE
@given(previous=INSTANTS, d1=DELAYS, d2=DELAYS, send_window=WINDOWS, zone=ZONES)
def test_schedule_is_monotone_in_the_delay(previous: datetime, d1: int, d2: int,
                                           send_window: SendWindow, zone: str) -> None:
    short, long = sorted([d1, d2])
    assert (schedule(previous, short, send_window, zone).at
            <= schedule(previous, long, send_window, zone).at)


@MODERATE
@given(previous=INSTANTS, delay=DELAYS, send_window=WINDOWS, zone=ZONES)
def test_the_reason_says_whether_the_window_moved_it(previous: datetime, delay: int,
                                                     send_window: SendWindow,
                                                     zone: str) -> None:
    due = schedule(previous, delay, send_window, zone)
    plain = f"{describe_delay(delay)} after the previous step"
    if due.at == previous + timedelta(minutes=delay):
        assert due.reason == plain
    else:
        local = due.at.astimezone(ZoneInfo(zone))
        assert due.reason.startswith(f"{plain}, moved to the send window opening "
                                     f"{local:%a %H:%M} {zone} (outside ")


@MODERATE
@given(at=INSTANTS, send_window=WINDOWS, zone=ZONES)
def test_next_open_is_at_itself_inside_the_window_and_idempotent(
        at: datetime, send_window: SendWindow, zone: str) -> None:
    opens = send_window.next_open(at, ZoneInfo(zone))
    assert opens >= at
    assert (opens == at) is allowed(at, send_window, zone)
    assert send_window.next_open(opens, ZoneInfo(zone)) == opens


@MODERATE
@given(previous=INSTANTS, delay=DELAYS)
def test_without_a_window_schedule_is_exactly_the_delay(previous: datetime, delay: int) -> None:
    due = schedule(previous, delay, None, "Australia/Sydney")
    assert due.at == previous + timedelta(minutes=delay)
    assert due.reason == f"{describe_delay(delay)} after the previous step"


# What mutation testing showed untested (scripts/mutation.sh, docs/mutation.md) ---------------

LA = ZoneInfo("America/Los_Angeles")
LISBON = ZoneInfo("Europe/Lisbon")


@pytest.fixture(params=["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def machine_zone(request: pytest.FixtureRequest,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's own time zone (``TZ``), which must never count: UTC, west, east."""
    monkeypatch.setenv("TZ", request.param)
    system_time.tzset()
    yield request.param
    monkeypatch.undo()
    system_time.tzset()


def test_next_open_counts_days_in_the_leads_zone_not_the_machines(machine_zone: str) -> None:
    # Given Monday 19:00 in Los Angeles (Tuesday 03:00 UTC), and a window 20:00-21:00
    monday_evening = utc(2026, 1, 6, 3, 0)
    # When / Then: Monday 20:00 in Los Angeles, not Tuesday
    assert window("20:00", "21:00").next_open(monday_evening, LA) == utc(2026, 1, 6, 4, 0)


@pytest.mark.parametrize(("day", "wall", "zone", "expected"), [
    # spring forward: 02:00-03:00 in New York and 01:00-02:00 in Lisbon do not exist
    (date(2026, 3, 8), time(2, 30), NY, utc(2026, 3, 8, 7, 0)),
    (date(2026, 3, 8), time(2, 0), NY, utc(2026, 3, 8, 7, 0)),
    (date(2026, 3, 8), time(2, 5), NY, utc(2026, 3, 8, 7, 0)),  # the search ends near 07:00:01
    (date(2026, 3, 29), time(1, 30), LISBON, utc(2026, 3, 29, 1, 0)),
    (date(2026, 3, 29), time(1, 59, 59), LISBON, utc(2026, 3, 29, 1, 0)),
    # fall back: 01:00-02:00 happens twice; the first time counts
    (date(2026, 11, 1), time(1, 30), NY, utc(2026, 11, 1, 5, 30)),
    (date(2026, 10, 25), time(1, 30), LISBON, utc(2026, 10, 25, 0, 30)),
    # and the hours on either side of the changes
    (date(2026, 3, 8), time(3, 0), NY, utc(2026, 3, 8, 7, 0)),
    (date(2026, 3, 8), time(1, 59), NY, utc(2026, 3, 8, 6, 59)),
    (date(2026, 11, 1), time(2, 0), NY, utc(2026, 11, 1, 7, 0)),
    (date(2026, 1, 5), time(8, 0), NY, utc(2026, 1, 5, 13, 0)),
], ids=["ny-gap", "ny-gap-start", "ny-gap-02:05", "lisbon-gap", "lisbon-gap-end", "ny-fold",
        "lisbon-fold", "ny-after-gap", "ny-before-gap", "ny-after-fold", "ny-plain"])
def test_first_instant_at_a_wall_time_to_the_second_in_utc(
        day: date, wall: time, zone: ZoneInfo, expected: datetime, machine_zone: str) -> None:
    # When
    found = first_instant(day, wall, zone)
    # Then: exactly that instant, in UTC, whatever the machine's zone
    assert found == expected
    assert found.tzinfo is UTC


@pytest.mark.parametrize(("at", "start", "end", "zone", "expected"), [
    # asked before the spring-forward gap: the window opens at the jump (03:00 EDT)
    (utc(2026, 3, 8, 5, 0), "02:30", "04:00", NY, utc(2026, 3, 8, 7, 0)),
    (utc(2026, 3, 29, 0, 30), "01:30", "05:00", LISBON, utc(2026, 3, 29, 1, 0)),
    # a window wholly inside the gap opens the next day
    (utc(2026, 3, 8, 5, 0), "02:15", "02:45", NY, utc(2026, 3, 9, 6, 15)),
    # asked before the repeated hour: the first 01:30 (EDT, WEST), not the second
    (utc(2026, 11, 1, 4, 0), "01:30", "04:00", NY, utc(2026, 11, 1, 5, 30)),
    (utc(2026, 10, 24, 23, 0), "01:30", "05:00", LISBON, utc(2026, 10, 25, 0, 30)),
], ids=["ny-gap", "lisbon-gap", "ny-inside-gap", "ny-fold", "lisbon-fold"])
def test_next_open_asked_before_a_clock_change(at: datetime, start: str, end: str,
                                               zone: ZoneInfo, expected: datetime,
                                               machine_zone: str) -> None:
    # When / Then
    assert window(start, end).next_open(at, zone) == expected


def test_a_one_day_window_lost_in_the_gap_opens_a_week_later() -> None:
    # Given Sundays 02:00-02:30 in New York, asked on Friday 6 March 2026: on Sunday 8 March
    # those times do not exist
    sundays = window("02:00", "02:30", ["sun"])
    # When / Then: Sunday 15 March 02:00 EDT
    assert sundays.next_open(utc(2026, 3, 6, 17, 0), NY) == utc(2026, 3, 15, 6, 0)


def test_a_window_ending_at_24_00_round_trips_and_runs_to_midnight() -> None:
    # Given
    raw = {"start": "20:00", "end": "24:00", "weekdays": ["mon"]}
    # When
    late = SendWindow.from_dict(raw)
    # Then
    assert late == SendWindow(time(20), time.max, frozenset({0}))
    assert late.as_dict() == raw
    last_moment = datetime(2026, 1, 5, 23, 59, 59, 999_999, tzinfo=NY)  # a Monday
    assert late.contains(last_moment, NY)
    assert not late.contains(last_moment + timedelta(microseconds=1), NY)


@pytest.mark.parametrize("text", ["0800", "08", "08:00:00", "08:00:00.000", "T0800", "0800Z",
                                  "08+01", "08.00", "8:00", "08:0", "24:01", "23:60", "", " 08:00",
                                  "\u0660\u0668:\u0660\u0660"])  # Arabic-Indic digits
def test_a_window_edge_is_exactly_hh_mm(text: str) -> None:
    # When / Then
    with pytest.raises(ValueError, match="is not HH:MM"):
        SendWindow.from_dict({"start": text, "end": "24:00"})


@pytest.mark.parametrize(("text", "parsed"), [
    ("00:00", time(0)), ("08:30", time(8, 30)), ("19:05", time(19, 5)), ("23:59", time(23, 59))])
def test_hh_mm_is_read_as_hours_and_minutes(text: str, parsed: time) -> None:
    # When / Then
    assert SendWindow.from_dict({"start": text, "end": "24:00"}).start == parsed


@pytest.mark.parametrize(("start", "end", "days", "message"), [
    (time(9), time(9), EVERY_DAY, "a send window must start before it ends"),
    (time(9), time(10), frozenset(), "a send window needs at least one weekday"),
])
def test_a_bad_window_says_why(start: time, end: time, days: frozenset[int],
                               message: str) -> None:
    # When / Then
    with pytest.raises(ValueError) as refused:
        SendWindow(start, end, days)
    assert str(refused.value) == message


def test_due_at_says_what_is_wrong() -> None:
    # When / Then
    with pytest.raises(ValueError) as naive:
        due_at(datetime(2026, 1, 5, 9, 0), 0)
    assert str(naive.value) == "previous_at must be timezone-aware"
    with pytest.raises(ValueError) as too_long:
        due_at(utc(2026, 1, 5, 9, 0), MAX_DELAY_MINUTES + 1)
    assert str(too_long.value) == f"delay_minutes must be within 0..{MAX_DELAY_MINUTES}"


@pytest.mark.parametrize(("channel", "given_window", "expected"), [
    ("sms", None, SMS_HOURS),
    ("sms", SendWindow(time(0), time.max), SMS_HOURS),
    ("sms", SendWindow(time(6), time(10), frozenset({5})), SendWindow(time(8), time(10),
                                                                     frozenset({5}))),
    ("sms", SendWindow(time(20), time(23)), SendWindow(time(20), time(21))),
    ("sms", SendWindow(time(21), time(23), frozenset({0})), SendWindow(time(8), time(21),
                                                                      frozenset({0}))),
    ("sms", SendWindow(time(5), time(8)), SMS_HOURS),
    ("sms", SendWindow(time(9), time(17)), SendWindow(time(9), time(17))),
    ("email", None, None),
    ("email", SendWindow(time(0), time.max), SendWindow(time(0), time.max)),
    ("in_app", SendWindow(time(22), time(23)), SendWindow(time(22), time(23))),
], ids=["sms-none", "sms-all-day", "sms-early", "sms-late", "sms-from-21", "sms-to-08",
        "sms-inside", "email-none", "email-all-day", "in-app-night"])
def test_allowed_window_keeps_a_text_to_the_sms_hours(channel: str,
                                                      given_window: SendWindow | None,
                                                      expected: SendWindow | None) -> None:
    # When / Then
    assert allowed_window(channel, given_window) == expected


@pytest.mark.parametrize(("given_window", "inside"), [
    (SendWindow(time(8), time(21)), True), (SendWindow(time(12), time(13)), True),
    (SendWindow(time(7, 59), time(12)), False), (SendWindow(time(12), time(21, 1)), False),
    (SendWindow(time(0), time.max), False)])
def test_within_sms_hours(given_window: SendWindow, inside: bool) -> None:
    assert within_sms_hours(given_window) is inside
