"""A small demo: three templates, a published three-step workflow, leads whose scores cross it."""

from __future__ import annotations

import logging

from application.app import FollowUp

log = logging.getLogger(__name__)

AGENT = "demo-agent"


def load_demo(app: FollowUp) -> bool:
    """Load the demo into an empty log; returns False (and changes nothing) otherwise."""
    if app.recorder.max_notification_id():
        log.info("demo: the log already has events; not loading the demo again")
        return False
    email = app.create_template(
        name="Hot lead: first touch", channel="email",
        subject="{{ lead.first_name }}, homes that match what you asked for",
        body=("Hi {{ lead.first_name }},\n\nYou mentioned a "
              "{{ lead.preferences.property_type | default('home') }} in "
              "{{ lead.preferences.area | default('your area') }}"
              "{% if lead.timeline %} and moving {{ lead.timeline }}{% endif %}. "
              "I have a few listings that fit. When could we talk?\n"))
    sms = app.create_template(
        name="Hot lead: SMS nudge", channel="sms",
        body="Hi {{ lead.first_name }}, it's your agent. Free for a quick call about "
             "{{ lead.preferences.area | default('the listings') }} today?")
    in_app = app.create_template(
        name="Hot lead: in-app card", channel="in_app", subject="New matches for you",
        body="{{ lead.first_name }}, 3 new {{ lead.preferences.property_type | default('home') }}"
             " listings match your search.")
    steps = [{"channel": "email", "template_id": str(email), "delay_minutes": 0},
             {"channel": "sms", "template_id": str(sms), "delay_minutes": 1},
             {"channel": "in_app", "template_id": str(in_app), "delay_minutes": 2}]
    workflow = app.create_workflow(agent_id=AGENT, name="Hot lead follow-up", definition={
        "trigger": {"score_threshold": 80}, "steps": steps})
    app.publish_workflow(workflow)
    people = [("Ana Lima", "condo", "Downtown", "within 3 months", 85),
              ("Ben Okafor", "townhouse", "Riverside", "this summer", 92),
              ("Chloe Martin", "house", "Northside", None, 60)]
    for i, (name, kind, area, timeline, score) in enumerate(people):
        lead = app.register_lead(
            agent_id=AGENT, name=name, email=f"{name.split()[0].lower()}@example.com",
            phone=f"+1555000{i:04d}", timezone="America/New_York",
            preferences={"property_type": kind, "area": area}, timeline=timeline, score=40,
            external_ref=f"demo-{i}")
        app.change_score(lead, score, "demo: lead scoring update")
    log.info("demo loaded: workflow %s, %d leads", workflow, len(people))
    return True
