"""SMS quiet hours through the application and the sender, on SQLite and PostgreSQL: a text
stored as due at night (by older rules) is not sent but moved, send-now at night waits for the
morning, and a workflow whose SMS window reaches into the night is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from application.errors import Invalid
from tests.integration.helpers import Harness
from tests.integration.test_engine_rules import executions, history, lead, publish, templates

NY = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026 in New York (UTC-5), as UTC: 25 November is a Wednesday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=NY).astimezone(UTC)


def a_text_waiting(h: Harness) -> Any:
    """Ana in New York, her email sent at 15:00 on the 24th, her text due an hour later."""
    h.clock.current = ny(24, 15)
    publish(h, [("email", 0), ("sms", 60)])
    ana = lead(h, timezone="America/New_York")
    h.rt.app.change_score(ana, 85, "up")
    assert h.send_due() == ["sent"]
    [x] = executions(h, ana)
    return ana, x


def test_a_text_stored_as_due_at_00_24_is_not_sent_but_moved(h: Harness) -> None:
    # Given a text that older code scheduled for 00:24 in New York (send-now went through then)
    ana, x = a_text_waiting(h)
    x._scheduled(step_no=1, due_at=ny(25, 0, 24), reason="sent now by the agent",
                 priority=85)
    h.rt.app.save(x)
    # When the sender finds it due at 00:24
    h.clock.current = ny(25, 0, 24)
    outcomes = h.send_due()
    # Then nothing is sent: the text is moved to 08:00, and the lead's history says why
    assert outcomes == ["quiet-hours"]
    assert [m.channel for m in h.channel.sent] == ["email"]
    [x] = executions(h, ana)
    assert x.steps[1].status == "scheduled" and x.steps[1].due_at == ny(25, 8)
    assert any("not sent at 00:24 Wed 25 Nov America/New_York (SMS is never sent 21:00-08:00 "
               "in the lead's time zone), moved to 08:00 Wed 25 Nov" in s
               for s in history(h, ana))
    assert h.rt.schedule.due_at(str(x.id)) == int(ny(25, 8).timestamp() * 1000)
    # And at 08:00 it goes
    h.clock.current = ny(25, 8)
    assert h.send_due() == ["sent"]
    assert [m.channel for m in h.channel.sent] == ["email", "sms"]


def test_send_now_of_a_text_at_night_waits_for_08_00(h: Harness) -> None:
    # Given Ana's text due at 16:00
    ana, x = a_text_waiting(h)
    # When the agent sends it now, at 00:24
    h.clock.current = ny(25, 0, 24)
    h.rt.app.send_now(x.id)
    # Then it is not sent at once, but at 08:00, and the history says so
    assert h.send_due() == []
    assert any("sent now by the agent, moved to 08:00 Wed 25 Nov America/New_York (SMS is "
               "never sent 21:00-08:00 in the lead's time zone)" in s for s in history(h, ana))
    h.clock.current = ny(25, 8)
    assert h.send_due() == ["sent"]


def test_a_text_claimed_before_21_00_and_reached_after_it_is_retried_in_the_morning(
        h: Harness) -> None:
    # Given Ana's text due at 20:59 and claimed then (the sender stops after the claim)
    ana, x = a_text_waiting(h)
    x._scheduled(step_no=1, due_at=ny(24, 20, 59), reason="older schedule", priority=85)
    h.rt.app.save(x)
    h.clock.current = ny(24, 20, 59)
    h.settle()
    prepared = h.rt.sender._prepare(x.id, h.clock.now(), h.rt.app.catalog())
    assert not isinstance(prepared, str) and prepared.outcome == "send"
    h.rt.app.save(*prepared.aggregates)
    # When it reaches the provider call at 21:00
    h.clock.current = ny(24, 21)
    result = h.rt.sender._deliver(prepared)
    h.rt.sender._record(prepared, result)
    # Then nothing went out; it is retried at 08:00
    assert [m.channel for m in h.channel.sent] == ["email"]
    [x] = executions(h, ana)
    assert x.steps[1].due_at == ny(25, 8)


def test_a_workflow_with_an_all_day_sms_window_is_refused(h: Harness) -> None:
    # Given the templates
    ids = templates(h)
    definition = {"trigger": {"score_threshold": 80},
                  "steps": [{"channel": "sms", "template_id": ids["sms"], "delay_minutes": 0}],
                  "send_windows": {"sms": {"start": "00:00", "end": "24:00"}}}
    # When / Then
    with pytest.raises(Invalid) as refused:
        h.rt.app.create_workflow(agent_id="agent-1", name="w", definition=definition)
    assert refused.value.field == "sendWindows.sms"


@pytest.mark.parametrize("window", [{"start": "00:00", "end": "24:00"},
                                    {"start": "07:00", "end": "12:00"}])
def test_the_api_refuses_an_sms_window_outside_08_21(client: TestClient,
                                                     window: dict[str, str]) -> None:
    # Given an SMS template
    sms = client.post("/api/templates", json={"name": "t", "channel": "sms",
                                              "body": "Hi"}).json()
    workflow = {"agentId": "a", "name": "w", "trigger": {"scoreThreshold": 80},
                "steps": [{"channel": "sms", "templateId": sms["id"], "delayMinutes": 0}]}
    # When
    response = client.post("/api/workflows", json=workflow | {"sendWindows": {"sms": window}})
    # Then
    assert response.status_code == 422
    [field] = response.json()["error"]["fields"]
    assert field["field"] == "body.sendWindows.sms"
    assert field["reason"].startswith("must lie inside 08:00-21:00")
    ok = client.post("/api/workflows", json=workflow | {"sendWindows": {
        "sms": {"start": "08:00", "end": "21:00"}}})
    assert ok.status_code == 201
