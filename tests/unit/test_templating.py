"""The template sandbox: what an agent's template cannot do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from adapters.templating import JinjaRenderer
from application.errors import Invalid
from domain.lead import Lead
from domain.personalisation import context_for
from domain.timing import due_at


def lead_with(preferences: dict[str, object]) -> Lead:
    return Lead.register(lead_id=uuid4(), agent_id="a", name="Ana Lima", email=None, phone=None,
                         timezone="UTC", preferences=preferences, timeline=None)


def test_rendering_cannot_change_the_lead_or_its_recorded_event() -> None:
    lead = lead_with({"areas": ["Downtown"]})
    created = lead.collect_events()[0]
    with pytest.raises(Invalid):
        JinjaRenderer().render("{{ lead.preferences.areas.append('Uptown') }}",
                               context_for(lead))
    assert lead.preferences == {"areas": ["Downtown"]}
    assert created.preferences == {"areas": ["Downtown"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["{{ lead.name * 10**8 }}", "{{ 'x' * 100000000 }}",
                                  "{{ 2 ** 100000000 }}", "{{ [1] * 99999999 }}"])
def test_templates_cannot_build_huge_values(text: str) -> None:
    with pytest.raises(Invalid) as e:
        JinjaRenderer().check(text, "body")
    assert e.value.field == "body"


def test_small_arithmetic_still_works() -> None:
    assert JinjaRenderer().render("{{ '-' * 3 }}{{ 2 ** 3 }}{{ 3 * 'ab' }}", {}) == "---8ababab"


def test_trailing_newlines_are_kept() -> None:
    assert JinjaRenderer().render("Hi\n\n", {}) == "Hi\n\n"


def test_due_time_counts_elapsed_minutes_across_a_dst_change() -> None:
    # 01:30 on the autumn change in New York, second occurrence (06:30 UTC)
    local = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    assert due_at(local, 0) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert due_at(local, 60) - local.astimezone(UTC) == timedelta(minutes=60)
