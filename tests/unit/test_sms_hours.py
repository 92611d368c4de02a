"""SMS quiet hours: a text never goes out 21:00-08:00 in the lead's time zone.

Whatever the step's frozen window says (an older definition could freeze 00:00-24:00), an
agent's send-now, a retry, a shift on resume, a replay, a restart or a migration: every path
that schedules a text lands inside 08:00-21:00 lead-local, and at send time a text found due in
quiet hours is moved to the next opening, never dispatched. Given / when / then for each path,
then a property over every IANA zone, instants around their clock changes, and the paths.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given as given_examples
from hypothesis import settings
from hypothesis import strategies as st

from domain import ids
from domain.errors import InvalidState
from domain.execution import MAX_SEND_ATTEMPTS, WorkflowExecution
from tests.unit.conftest import given, then

LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")
WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a1")
EXECUTION_ID = ids.execution_id(LEAD_ID, WORKFLOW_ID, "backfill@v1")
TRIGGER = {"kind": "backfill", "new": 60}  # every step at the lead's score: 60
NY = "America/New_York"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: What a definition could freeze for a text before such windows were refused.
ALL_DAY = {"start": "00:00", "end": "24:00", "weekdays": EVERY_DAY}
QUIET = "(SMS is never sent 21:00-08:00 in the lead's time zone)"


def ny(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """January 2026 in New York (UTC-5), as UTC: 5 January is a Monday."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=ZoneInfo(NY)).astimezone(UTC)


def text(delay: int = 0, window: dict[str, Any] | None = ALL_DAY) -> dict[str, Any]:
    return {"channel": "sms", "template_id": "00000000-0000-4000-8000-0000000000c2",
            "delay_minutes": delay, "conditions": [], "window": window}


def email(delay: int = 0, window: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"channel": "email", "template_id": "00000000-0000-4000-8000-0000000000c1",
            "delay_minutes": delay, "conditions": [], "window": window}


def start(steps: list[dict[str, Any]], now: datetime, zone: str = NY) -> WorkflowExecution:
    return WorkflowExecution.start(execution_id=EXECUTION_ID, lead_id=LEAD_ID,
                                   workflow_id=WORKFLOW_ID, workflow_version=1, steps=steps,
                                   trigger=TRIGGER, timezone=zone, now=now)


def history(steps: list[dict[str, Any]], now: datetime,
            *commands: Callable[[WorkflowExecution], Any]) -> WorkflowExecution:
    """The execution rebuilt from the events of a start at ``now`` and then ``commands``."""
    execution = start(steps, now)
    for command in commands:
        command(execution)
    return given(*execution.collect_events())


def msg(step: int, execution_round: int = 1) -> UUID:
    return ids.message_id(EXECUTION_ID, step, 1, execution_round)


def scheduled(step: int, due: datetime, reason: str) -> tuple[str, dict[str, Any]]:
    return ("WorkflowExecution.StepScheduled",
            {"step_no": step, "due_at": due, "reason": reason, "priority": 60, "by": None})


def stored_due(step: int, due: datetime) -> Callable[[WorkflowExecution], Any]:
    """A StepScheduled as older code recorded it: due whenever it said, quiet hours or not."""
    return lambda e: e._scheduled(step_no=step, due_at=due, reason="sent now by the agent",
                                  priority=60)


# send now ----------------------------------------------------------------------------


def test_send_now_of_a_text_at_night_moves_it_to_08_00_and_says_why() -> None:
    # Given a text due on Tuesday at 10:00 in New York
    execution = history([text(delay=1440)], ny(5, 10))
    # When the agent sends it now, at 00:24 on Tuesday in New York
    step = execution.send_now(ny(6, 0, 24))
    # Then it goes at 08:00 that morning, and the log says why
    assert step == 0
    assert then(execution) == [scheduled(0, ny(6, 8), (
        f"sent now by the agent, moved to 08:00 Tue 06 Jan America/New_York {QUIET}"))]
    assert execution.due_step(ny(6, 7, 59)) is None


def test_send_now_of_a_text_after_21_00_moves_it_to_the_next_morning() -> None:
    # Given a text due on Tuesday at 10:00
    execution = history([text(delay=1440)], ny(5, 10))
    # When sent now at exactly 21:00 on Monday
    execution.send_now(ny(5, 21))
    # Then
    assert then(execution) == [scheduled(0, ny(6, 8), (
        f"sent now by the agent, moved to 08:00 Tue 06 Jan America/New_York {QUIET}"))]


def test_send_now_of_a_text_by_day_bypasses_its_own_window_and_says_so() -> None:
    # Given a text in a 10:00-18:00 window, due on Tuesday at 10:00
    window = {"start": "10:00", "end": "18:00", "weekdays": EVERY_DAY}
    execution = history([text(delay=1440, window=window)], ny(5, 10))
    # When sent now at 19:00 on Monday: outside its window, inside the SMS hours
    execution.send_now(ny(5, 19))
    # Then it goes now
    assert then(execution) == [scheduled(
        0, ny(5, 19), "sent now by the agent, bypassing its send window 10:00-18:00")]


def test_send_now_of_an_email_at_night_bypasses_its_window_and_says_so() -> None:
    # Given an email in a 09:00-17:00 window, due on Tuesday at 09:00
    window = {"start": "09:00", "end": "17:00", "weekdays": EVERY_DAY}
    execution = history([email(delay=600, window=window)], ny(5, 23))
    # When sent now at 00:24
    execution.send_now(ny(6, 0, 24))
    # Then it goes now
    assert then(execution) == [scheduled(
        0, ny(6, 0, 24), "sent now by the agent, bypassing its send window 09:00-17:00")]


@pytest.mark.parametrize("step", [email(delay=600), text(delay=600)], ids=["email", "text"])
def test_send_now_inside_every_window_just_goes(step: dict[str, Any]) -> None:
    # Given a step due in ten hours
    execution = history([step], ny(5, 9))
    # When sent now at noon
    execution.send_now(ny(5, 12))
    # Then
    assert then(execution) == [scheduled(0, ny(5, 12), "sent now by the agent")]


# scheduling paths ----------------------------------------------------------------------


def test_a_text_frozen_with_an_all_day_window_is_scheduled_inside_the_sms_hours() -> None:
    # Given no execution
    # When one starts at 00:24 with a text due at once, in a window of 00:00-24:00
    execution = start([text()], ny(6, 0, 24))
    # Then the text is due at 08:00
    assert then(execution)[1] == scheduled(0, ny(6, 8), (
        "right after the start, moved to the send window opening Tue 08:00 "
        "America/New_York (outside 08:00-21:00)"))


def test_a_text_frozen_with_a_window_outside_the_sms_hours_keeps_to_the_hours() -> None:
    # Given no execution
    # When one starts at 21:30 on Monday with a text in a 22:00-23:00 window, Mondays only
    execution = start([text(window={"start": "22:00", "end": "23:00", "weekdays": ["mon"]})],
                      ny(5, 21, 30))
    # Then it goes at the SMS hours' next opening on a Monday
    assert then(execution)[1][1]["due_at"] == ny(12, 8)


def test_a_text_after_an_email_sent_late_waits_for_the_morning() -> None:
    # Given an email due at once and a text right after it
    execution = history([email(), text()], ny(5, 22), lambda e: e.dispatch(0, msg(0), ny(5, 22)))
    # When the email is sent at 22:00
    execution.record_sent(0, msg(0), ny(5, 22))
    # Then the text is due at 08:00
    [(_, sent)] = then(execution)
    assert sent["next_due_at"] == ny(6, 8)


def test_a_retry_that_falls_after_21_00_moves_to_the_next_morning() -> None:
    # Given a text due at 20:59:50 and dispatched then
    at = ny(5, 20, 59, 50)
    execution = history([text()], at, lambda e: e.dispatch(0, msg(0), at))
    # When it fails transiently: the backoff of 30 s ends at 21:00:20
    execution.record_failure(0, "busy", False, at)
    # Then the retry is at 08:00
    assert then(execution)[1] == scheduled(
        0, ny(6, 8), "retry 2 after a transient failure, moved to its send window")


def test_a_shift_on_resume_that_falls_after_21_00_moves_to_the_next_morning() -> None:
    # Given a text due at 20:00, paused at 19:00
    execution = history([text(delay=60)], ny(5, 19),
                        lambda e: e.pause("wait", ny(5, 19)))
    # When resumed at 20:30 with the shift policy: 20:00 + 1h30 = 21:30
    execution.resume("shift", ny(5, 20, 30))
    # Then
    assert then(execution)[1] == scheduled(
        0, ny(6, 8), "shifted by 90 min spent paused, moved to its send window")


def dead_lettered(execution: WorkflowExecution) -> None:
    """Every attempt of the due text fails transiently; each retry goes as soon as it is due."""
    for _ in range(MAX_SEND_ATTEMPTS):
        due = execution.next_due_at()
        assert due is not None
        execution.dispatch(0, msg(0), due)
        execution.record_failure(0, "busy", False, due)


def test_a_replay_at_night_waits_for_the_morning() -> None:
    # Given a text dead-lettered
    execution = history([text()], ny(5, 12), dead_lettered)
    assert execution.dead_letter == 0
    # When an agent replays it at 23:00
    execution.replay(ny(5, 23))
    # Then it is due at 08:00
    assert then(execution)[1] == scheduled(
        0, ny(6, 8), "replayed from the dead-letter list, moved to its send window")


def test_a_restart_at_night_waits_for_the_morning() -> None:
    # Given a one-text execution cancelled
    execution = history([text()], ny(5, 12), lambda e: e.cancel("lead closed", ny(5, 13)))
    # When restarted at 22:00
    execution.restart("new listing", ny(5, 22))
    # Then step one is due at 08:00
    assert then(execution)[1] == scheduled(0, ny(6, 8), (
        "restarted, right after the start, moved to the send window opening Tue 08:00 "
        "America/New_York (outside 08:00-21:00)"))


def test_after_a_migration_a_text_of_the_new_version_keeps_to_the_sms_hours() -> None:
    # Given an email execution migrated to a version whose next step is an all-day text
    execution = history([email()], ny(5, 22),
                        lambda e: e.migrate(2, [email(), text()], ny(5, 22)),
                        lambda e: e.dispatch(0, msg(0), ny(5, 22)))
    # When the email is sent at 22:00
    execution.record_sent(0, msg(0), ny(5, 22))
    # Then the text is due at 08:00
    [(_, sent)] = then(execution)
    assert sent["next_step"] == 1
    assert sent["next_due_at"] == ny(6, 8)


# at send time ----------------------------------------------------------------------


def test_a_text_stored_as_due_at_night_is_not_dispatched() -> None:
    # Given a text that older code scheduled for 00:24
    execution = history([text(delay=1440)], ny(5, 10), stored_due(0, ny(6, 0, 24)))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.dispatch(0, msg(0), ny(6, 0, 24))
    assert refused.value.field == "step"
    assert then(execution) == []


def test_a_text_found_due_at_night_is_moved_to_the_morning_with_a_reason() -> None:
    # Given a text that older code scheduled for 00:24
    execution = history([text(delay=1440)], ny(5, 10), stored_due(0, ny(6, 0, 24)))
    # When the sender finds it due at 00:24
    moved = execution.defer_quiet_hours(0, ny(6, 0, 24))
    # Then it is moved to 08:00, and the log says why
    assert moved is True
    assert then(execution) == [scheduled(0, ny(6, 8), (
        f"not sent at 00:24 Tue 06 Jan America/New_York {QUIET}, moved to 08:00 Tue 06 Jan "
        "America/New_York"))]
    assert execution.due_step(ny(6, 0, 25)) is None


def test_a_text_found_due_at_night_moves_to_its_own_windows_opening() -> None:
    # Given a text in a 10:00-18:00 window that older code scheduled for 00:24
    window = {"start": "10:00", "end": "18:00", "weekdays": EVERY_DAY}
    execution = history([text(delay=1440, window=window)], ny(5, 10),
                        stored_due(0, ny(6, 0, 24)))
    # When / Then
    assert execution.defer_quiet_hours(0, ny(6, 0, 24)) is True
    assert execution.next_due_at() == ny(6, 10)


@pytest.mark.parametrize(("step", "at"), [
    (text(), ny(6, 8)), (text(), ny(6, 20, 59, 59)), (email(), ny(6, 0, 24))],
    ids=["text-at-08:00", "text-at-20:59:59", "email-at-night"])
def test_what_may_go_is_not_moved(step: dict[str, Any], at: datetime) -> None:
    # Given the step due at ``at``
    execution = history([dict(step, delay_minutes=1440)], ny(5, 10), stored_due(0, at))
    # When / Then
    assert execution.defer_quiet_hours(0, at) is False
    assert then(execution) == []


def test_a_stale_text_is_not_sent_again_at_night() -> None:
    # Given a text dispatched at 20:58 whose sender died
    at = ny(5, 20, 58)
    execution = history([text()], at, lambda e: e.dispatch(0, msg(0), at))
    later = ny(5, 21, 5)
    # When / Then: it is not dispatched again at 21:05, but moved
    with pytest.raises(InvalidState):
        execution.redispatch(0, later, timedelta(minutes=2))
    assert execution.defer_quiet_hours(0, later) is True
    assert then(execution) == [scheduled(0, ny(6, 8), (
        f"not sent at 21:05 Mon 05 Jan America/New_York {QUIET}, moved to 08:00 Tue 06 Jan "
        "America/New_York"))]


def test_a_text_not_waiting_to_be_sent_cannot_be_moved() -> None:
    # Given a text cancelled
    execution = history([text()], ny(5, 12), lambda e: e.cancel("closed", ny(5, 13)))
    # When / Then
    with pytest.raises(InvalidState):
        execution.defer_quiet_hours(0, ny(5, 23))
    assert then(execution) == []


# The property: no text is dispatched at a lead-local time outside 08:00-21:00 ----------------

ZONES = sorted(available_timezones())
SECONDS = st.integers(0, 3 * 86400)


def allowed(at: datetime, zone: str) -> bool:
    """The oracle: the wall clock in ``zone`` shows 08:00 or later and before 21:00."""
    return time(8) <= at.astimezone(ZoneInfo(zone)).time() < time(21)


@cache
def clock_changes(zone: str) -> tuple[datetime, ...]:
    """The instants (to the second) of 2025-2027 at which ``zone``'s UTC offset changes."""
    tz = ZoneInfo(zone)
    found = []
    at = datetime(2025, 1, 1, tzinfo=UTC)
    while at.year < 2028:
        after = at + timedelta(hours=6)
        if at.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset():
            low, high = at, after
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        at = after
    return tuple(found)


@st.composite
def instants(draw: st.DrawFn, zone: str) -> datetime:
    """Any instant of 2025-2027, or one within two days of one of the zone's clock changes."""
    changes = clock_changes(zone)
    if changes and draw(st.booleans()):
        return draw(st.sampled_from(changes)) + timedelta(seconds=draw(
            st.integers(-2 * 86400, 2 * 86400)))
    return draw(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                             timezones=st.just(UTC)))


def _hhmm(minutes: int) -> str:
    return "24:00" if minutes == 1440 else f"{minutes // 60:02d}:{minutes % 60:02d}"


#: Any window a step could have frozen, the ones older rules let through among them.
FROZEN_WINDOWS = st.one_of(
    st.none(), st.just(ALL_DAY),
    st.builds(lambda edges, days: {"start": _hhmm(min(edges)), "end": _hhmm(max(edges)),
                                   "weekdays": days},
              st.tuples(st.integers(0, 1440), st.integers(0, 1440)).filter(
                  lambda e: e[0] != e[1]),
              st.lists(st.sampled_from(EVERY_DAY), min_size=1, unique=True)))


def retried(e: WorkflowExecution, at: datetime) -> None:
    """Dispatched when due, failed transiently at ``at`` (or at once if that is earlier)."""
    due = e.next_due_at()
    assert due is not None
    e.dispatch(0, msg(0), due)
    e.record_failure(0, "busy", False, max(at, due))


PATHS: dict[str, Callable[[WorkflowExecution, datetime], Any]] = {
    "scheduled at start": lambda e, at: None,
    "send now": lambda e, at: e.send_now(at),
    "retry": retried,
    "shift on resume": lambda e, at: (e.pause("wait", at),
                                      e.resume("shift", at + (at - e.started_at))),
    "replay": lambda e, at: (dead_lettered(e), e.replay(max(at, e.paused_at or at))),
    "restart": lambda e, at: e.restart("again", at),
}


def scheduled_texts(events: list[Any], execution: WorkflowExecution) -> list[datetime]:
    """The due times that the events give to text steps."""
    found = []
    for e in events:
        name = type(e).__qualname__
        if name == "WorkflowExecution.StepScheduled":
            step, due = e.step_no, e.due_at
        elif name == "WorkflowExecution.StepSent" and e.next_step is not None:
            step, due = e.next_step, e.next_due_at
        else:
            continue
        if execution.step(step).channel == "sms":
            found.append(due)
    return found


@settings(max_examples=300, deadline=None)
@given_examples(data=st.data(), zone=st.sampled_from(ZONES), window=FROZEN_WINDOWS,
                delay=st.integers(0, 3 * 1440), path=st.sampled_from(sorted(PATHS)),
                later=SECONDS, send_late=SECONDS)
def test_no_text_is_scheduled_or_dispatched_outside_08_21_lead_local(
        data: st.DataObject, zone: str, window: dict[str, Any] | None, delay: int, path: str,
        later: int, send_late: int) -> None:
    # Given a text step started at any instant in any zone
    begun = data.draw(instants(zone))
    execution = start([text(delay, window)], begun, zone)
    # When a path schedules it again later
    PATHS[path](execution, begun + timedelta(seconds=later))
    # Then every due time given to the text lies inside 08:00-21:00 lead-local
    events = list(execution.collect_events())
    for due in scheduled_texts(events, execution):
        assert allowed(due, zone), (path, due.astimezone(ZoneInfo(zone)))
    # And a sender that finds it due at any later instant moves it or sends it in the hours
    due = execution.next_due_at()
    if due is None:
        return
    now = due + timedelta(seconds=send_late)
    if execution.defer_quiet_hours(0, now):
        moved = execution.next_due_at()
        assert moved is not None and moved > now and allowed(moved, zone)
    else:
        execution.dispatch(0, msg(0, execution.round), now)
        assert allowed(now, zone), now.astimezone(ZoneInfo(zone))


@settings(max_examples=200, deadline=None)
@given_examples(data=st.data(), zone=st.sampled_from(ZONES), window=FROZEN_WINDOWS,
                delay=st.integers(0, 3 * 1440), gap=SECONDS)
def test_a_text_after_an_email_or_a_migration_keeps_to_the_hours(
        data: st.DataObject, zone: str, window: dict[str, Any] | None, delay: int,
        gap: int) -> None:
    # Given an email step, and a version 2 whose next step is a text
    begun = data.draw(instants(zone))
    execution = start([email(), text(delay, window)], begun, zone)
    if data.draw(st.booleans()):
        execution.migrate(2, [email(), text(delay, window)], begun)
    execution.dispatch(0, msg(0), begun)
    # When the email is sent, any time later
    execution.record_sent(0, msg(0), begun + timedelta(seconds=gap))
    # Then the text is due inside the hours
    [due] = scheduled_texts(list(execution.collect_events()), execution)
    assert allowed(due, zone), due.astimezone(ZoneInfo(zone))


@settings(max_examples=200, deadline=None)
@given_examples(data=st.data(), zone=st.sampled_from(ZONES), window=FROZEN_WINDOWS,
                delay=st.integers(0, 3 * 1440), stale_for=st.integers(120, 3 * 86400))
def test_a_stale_text_is_sent_again_only_inside_08_21_lead_local(
        data: st.DataObject, zone: str, window: dict[str, Any] | None, delay: int,
        stale_for: int) -> None:
    # Given a text dispatched when due, whose sender died
    execution = start([text(delay, window)], data.draw(instants(zone)), zone)
    due = execution.next_due_at()
    assert due is not None
    execution.dispatch(0, msg(0), due)
    execution.collect_events()
    # When a sender finds it stale, any time later
    now = due + timedelta(seconds=stale_for)
    # Then it is moved inside the hours, or dispatched again inside them
    if execution.defer_quiet_hours(0, now):
        moved = execution.next_due_at()
        assert moved is not None and moved > now and allowed(moved, zone)
    else:
        execution.redispatch(0, now, timedelta(minutes=2))
        assert allowed(now, zone), now.astimezone(ZoneInfo(zone))
