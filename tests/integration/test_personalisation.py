"""Personalisation at send time: a lead without a preference the template prints skips the step,
saying so, and a default stands in for it; on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.app import FollowUp
from tests.integration.helpers import Harness, executions_of


def area_workflow(app: FollowUp) -> None:
    """An email that prints the area with no default, then an SMS that has one; published."""
    email = app.create_template(name="e", channel="email", subject="{{ lead.first_name }}",
                                body="New homes in {{ lead.preferences.area }}")
    sms = app.create_template(name="s", channel="sms",
                              body="Homes in {{ lead.preferences.area | default('your area') }}")
    steps = [{"channel": "email", "template_id": str(email), "delay_minutes": 0},
             {"channel": "sms", "template_id": str(sms), "delay_minutes": 60}]
    workflow = app.create_workflow(agent_id="agent-1", name="area", definition={
        "trigger": {"score_threshold": 80}, "steps": steps})
    app.publish_workflow(workflow)


def lead(app: FollowUp, preferences: dict[str, object]) -> UUID:
    return app.register_lead(agent_id="agent-1", name="Ana Lima", email="ana@example.com",
                             phone="+15550001111", timezone="Europe/Lisbon",
                             preferences=preferences, timeline=None, score=50)


def test_a_lead_without_a_printed_preference_skips_the_step_and_gets_the_default(
        h: Harness) -> None:
    # Given the workflow, and a lead who gave no area
    app = h.rt.app
    area_workflow(app)
    ana = lead(app, {"property_type": "condo"})
    # When she crosses the threshold and her steps fall due
    app.change_score(ana, 85, "viewed a listing")
    assert h.send_due() == ["skipped"]
    # Then the email step is skipped, naming the preference, and the SMS is scheduled
    [execution] = executions_of(app, ana)
    assert execution.steps[0].status == "skipped"
    assert execution.steps[0].failure == ("the lead has no preference 'area' and the "
                                             "template gives no default")
    assert execution.steps[1].status == "scheduled"
    h.clock.advance(minutes=60)
    assert h.send_due() == ["sent"]
    assert [m.body for m in h.channel.sent] == ["Homes in your area"]


def test_a_lead_with_the_preference_gets_it(h: Harness) -> None:
    app = h.rt.app
    area_workflow(app)
    ana = lead(app, {"area": "Uptown"})
    app.change_score(ana, 85, "viewed a listing")
    assert h.send_due() == ["sent"]
    h.clock.advance(minutes=60)
    assert h.send_due() == ["sent"]
    assert [m.body for m in h.channel.sent] == ["New homes in Uptown", "Homes in Uptown"]


def test_a_template_that_cannot_render_for_the_lead_fails_for_good_rendered_once(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an email that divides by the lead's bedrooms (fine for the sample's 2), and a lead
    # who gave 0
    app = h.rt.app
    email = app.create_template(name="e", channel="email", subject="Hi",
                                body="{{ 10 // lead.preferences.bedrooms }} rooms each")
    workflow = app.create_workflow(agent_id="agent-1", name="rooms", definition={
        "trigger": {"score_threshold": 80},
        "steps": [{"channel": "email", "template_id": str(email), "delay_minutes": 0}]})
    app.publish_workflow(workflow)
    ana = lead(app, {"bedrooms": 0})
    renders: list[str] = []
    assert app.renderer is not None
    render = app.renderer.render
    monkeypatch.setattr(app.renderer, "render",
                        lambda text, *a, **k: renders.append(text) or render(text, *a, **k))
    # When she crosses the threshold and the step falls due
    app.change_score(ana, 85, "viewed a listing")
    assert h.send_due() == ["failed"]
    # Then it failed for good, saying why, after one render of the body, not two
    [execution] = executions_of(app, ana)
    assert execution.steps[0].status == "failed" and execution.steps[0].permanent
    assert f"template {email} cannot render" in (execution.steps[0].failure or "")
    assert renders.count("{{ 10 // lead.preferences.bedrooms }} rooms each") == 1
