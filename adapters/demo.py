"""A small demo: a demo brokerage and agent, three templates, a published three-step workflow,
leads whose scores cross it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from application.app import FollowUp
from domain import ids

log = logging.getLogger(__name__)

BROKERAGE = "demo-realty"
EMAIL = "agent@demo-realty.test"


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    password: str


def demo_account(app: FollowUp) -> tuple[str, DemoSignIn]:
    """The demo brokerage and its agent (made if new), with a fresh password for this run:
    returns the agent id and how to sign in."""
    brokerage = app.open_brokerage(BROKERAGE, "Demo Realty", by="demo")
    password = secrets.token_urlsafe(12)
    user_id = ids.user_id(EMAIL)
    if app.exists(user_id):
        app.set_password(user_id, password, by="demo")
        agent = app.user(user_id).agent_id
    else:
        agent = app.create_user(brokerage_id=brokerage, email=EMAIL, name="Dana Demo",
                                role="agent", password=password, by="demo").agent_id
    return agent, DemoSignIn(email=EMAIL, password=password)


def load_demo(app: FollowUp) -> DemoSignIn:
    """The demo account; the demo's data too, into an empty log."""
    empty = not app.recorder.max_notification_id()
    agent, sign_in = demo_account(app)
    if not empty:
        log.info("demo: the log already has events; not loading the demo's data again")
        return sign_in
    brokerage = ids.brokerage_id(BROKERAGE)
    owned: dict[str, Any] = {"brokerage_id": brokerage, "agent_id": agent}
    email = app.create_template(**owned,
        name="Hot lead: first touch", channel="email",
        subject="{{ lead.first_name }}, homes that match what you asked for",
        body=("Hi {{ lead.first_name }},\n\nYou mentioned a "
              "{{ lead.preferences.property_type | default('home') }} in "
              "{{ lead.preferences.area | default('your area') }}"
              "{% if lead.timeline %} and moving {{ lead.timeline }}{% endif %}. "
              "I have a few listings that fit. When could we talk?\n"))
    sms = app.create_template(
        **owned, name="Hot lead: SMS nudge", channel="sms",
        body="Hi {{ lead.first_name }}, it's your agent. Free for a quick call about "
             "{{ lead.preferences.area | default('the listings') }} today?")
    in_app = app.create_template(
        **owned, name="Hot lead: in-app card", channel="in_app", subject="New matches for you",
        body="{{ lead.first_name }}, 3 new {{ lead.preferences.property_type | default('home') }}"
             " listings match your search.")
    steps = [{"channel": "email", "template_id": str(email), "delay_minutes": 0},
             {"channel": "sms", "template_id": str(sms), "delay_minutes": 1},
             {"channel": "in_app", "template_id": str(in_app), "delay_minutes": 2}]
    workflow = app.create_workflow(**owned, name="Hot lead follow-up", definition={
        "trigger": {"score_threshold": 80}, "steps": steps})
    app.publish_workflow(workflow)
    people = [("Ana Lima", "condo", "Downtown", "within 3 months", 85),
              ("Ben Okafor", "townhouse", "Riverside", "this summer", 92),
              ("Chloe Martin", "house", "Northside", None, 60)]
    for i, (name, kind, area, timeline, score) in enumerate(people):
        lead = app.register_lead(
            **owned, name=name, email=f"{name.split()[0].lower()}@example.com",
            phone=f"+1555000{i:04d}", timezone="America/New_York",
            preferences={"property_type": kind, "area": area}, timeline=timeline, score=40,
            external_ref=f"demo-{i}")
        app.change_score(lead, score, "demo: lead scoring update")
    log.info("demo loaded: workflow %s, %d leads", workflow, len(people))
    return sign_in
