"""How delays, times and reasons read in the history (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.timing import MAX_DELAY_MINUTES, describe_delay, describe_wait
from projections.lead_history import SUMMARIES, _reason, _when


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0 min"), (45, "45 min"), (90, "90 min"), (60, "1 hour"), (1500, "25 hours"),
    (1440, "1 day"), (2880, "2 days"), (2910, "2 days 30 min"), (1530, "1 day 1 hour 30 min"),
    (1441, "1 day 1 min"), (2940, "2 days 1 hour"), (109980, "76 days 9 hours"),
])
def test_a_delay_reads_in_days_hours_and_minutes(minutes: int, text: str) -> None:
    assert describe_delay(minutes) == text


@given(st.integers(0, MAX_DELAY_MINUTES))
def test_a_long_delay_reads_in_days_and_always_as_its_minutes(minutes: int) -> None:
    text = describe_delay(minutes)
    # It reads back as the same number of minutes
    units = {"min": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
    words = text.split()
    assert sum(int(n) * units[u] for n, u in zip(words[::2], words[1::2], strict=True)) == minutes
    if minutes >= 2880 or (minutes >= 1440 and minutes % 60):
        assert "day" in text


def test_step_one_reads_after_the_start() -> None:
    assert describe_wait(0, "the start") == "right after the start"
    assert describe_wait(30, "the start") == "30 min after the start"
    assert describe_wait(0, "the previous step") == "0 min after the previous step"


@pytest.mark.parametrize(("step_no", "stored", "reads"), [
    (0, "0 min after the previous step", "right after the start"),
    (0, "restarted, 30 min after the previous step", "restarted, 30 min after the start"),
    (1, "2910 min after the previous step, moved to the send window opening Mon 08:00 UTC",
     "2 days 30 min after the previous step, moved to the send window opening Mon 08:00 UTC"),
    (1, "90 min after the previous step", "90 min after the previous step"),
    (1, "retry 2 after a transient failure", "retry 2 after a transient failure"),
])
def test_a_reason_stored_in_the_older_wording_reads_as_a_new_one(step_no: int, stored: str,
                                                                 reads: str) -> None:
    assert _reason(step_no, stored) == reads


@pytest.mark.parametrize(("zone", "text"), [
    ("UTC", "Tue 2026-12-01 08:00 UTC"),
    ("Europe/Lisbon", "Tue 2026-12-01 08:00 Europe/Lisbon (08:00 UTC)"),
    ("Europe/Berlin", "Tue 2026-12-01 09:00 Europe/Berlin (08:00 UTC)"),
    ("America/New_York", "Tue 2026-12-01 03:00 America/New_York (08:00 UTC)"),
    ("Pacific/Auckland", "Tue 2026-12-01 21:00 Pacific/Auckland (08:00 UTC)"),
    ("America/Los_Angeles", "Tue 2026-12-01 00:00 America/Los_Angeles (08:00 UTC)"),
    ("Pacific/Honolulu", "Mon 2026-11-30 22:00 Pacific/Honolulu (Tue 08:00 UTC)"),
    (None, "Tue 2026-12-01 08:00 UTC"),
])
def test_a_time_reads_in_the_leads_zone_beside_utc(zone: str | None, text: str) -> None:
    assert _when(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), zone) == text


def test_an_entry_of_an_execution_recorded_before_names_were_kept_still_reads() -> None:
    # Given what the history kept of an execution before it kept workflow names and zones
    detail = {"channels": ["email", "sms"]}
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    class Event:  # the fields a summary reads
        step_no, due_at, reason, priority = 1, at, "1 hour after the previous step", 80

    # Then its later entries still read
    assert SUMMARIES[X.StepScheduled](Event(), detail) == (
        "step 2 (SMS) due Tue 2026-12-01 08:00 UTC: 1 hour after the previous step")
    assert SUMMARIES[X.Completed](Event(), detail) == "The workflow completed"


@pytest.mark.parametrize(("reason", "text"), [
    ("agent", "Status changed from lost to contacted by Amy Agent"),  # no reason given
    ("bought elsewhere", "Status changed from lost to contacted by Amy Agent "
                         "(bought elsewhere)"),
])
def test_a_status_change_without_a_reason_says_none(reason: str, text: str) -> None:
    class Event:
        old, new = "lost", "contacted"

    Event.reason = reason  # type: ignore[attr-defined]
    assert SUMMARIES[Lead.StatusChanged](Event(), {"by": "Amy Agent"}) == text
