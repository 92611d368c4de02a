"""Data stored before accounts existed (leads, workflows, templates without a brokerage) is
read as the default brokerage's: an upcast of the stored events, nothing rewritten."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from domain.ids import DEFAULT_BROKERAGE_ID, brokerage_id
from domain.lead import Lead
from domain.template import Template
from domain.workflow import Workflow
from tests.conftest import api_client
from tests.integration.helpers import Harness, executions_of, register_ana


def as_before_accounts(h: Harness, aggregate: Any, *dropped: str) -> None:
    """Store the aggregate's creation as the code before accounts wrote it: version 1 of the
    event, without the fields accounts added."""
    app = h.rt.app
    [created] = aggregate.collect_events()
    stored = app.mapper.to_stored_event(created)
    state = app.mapper.transcoder.decode(stored.state)
    for name in (*dropped, "class_version"):
        state.pop(name, None)
    app.recorder.insert_events([StoredEvent(
        originator_id=stored.originator_id, originator_version=stored.originator_version,
        topic=stored.topic, state=app.mapper.transcoder.encode(state))])


def test_pre_accounts_data_belongs_to_the_default_brokerage(h: Harness) -> None:
    # Given a lead, a workflow and a template stored before accounts (in another brokerage's
    # code they would carry its id)
    acme = brokerage_id("acme")
    lead = Lead.register(lead_id=uuid4(), agent_id="agent-7", name="Old Lead", email=None,
                         phone=None, timezone="UTC", preferences={}, timeline=None,
                         brokerage_id=acme)
    template = Template.create(name="old", channel="sms", subject=None, body="Hi",
                               brokerage_id=acme, agent_id="agent-7")
    workflow = Workflow.create(agent_id="agent-7", name="Old", brokerage_id=acme, definition={
        "trigger": {"score_threshold": 50}, "steps": [
            {"channel": "sms", "template_id": str(template.id), "delay_minutes": 0}]})
    as_before_accounts(h, lead, "brokerage_id")
    as_before_accounts(h, template, "brokerage_id", "agent_id")
    as_before_accounts(h, workflow, "brokerage_id")
    # When they are read with today's code
    app = h.rt.app
    # Then they are the default brokerage's, the template the brokerage's own
    assert app.load(Lead, lead.id).brokerage_id == DEFAULT_BROKERAGE_ID
    assert app.load(Lead, lead.id).agent_id == "agent-7"
    assert app.load(Workflow, workflow.id).brokerage_id == DEFAULT_BROKERAGE_ID
    old = app.load(Template, template.id)
    assert (old.brokerage_id, old.agent_id) == (DEFAULT_BROKERAGE_ID, None)
    # And the default brokerage's integration reaches them, and the workflow can publish
    client = api_client(h.rt)
    assert client.get(f"/api/leads/{lead.id}").json()["name"] == "Old Lead"
    assert client.post(f"/api/workflows/{workflow.id}/publish").status_code == 200
    h.settle()
    rows = h.rt.directory.dead_letters(brokerage_id=DEFAULT_BROKERAGE_ID)
    assert rows == []  # the directory keeps the brokerage of the upcast lead (no error)


def test_a_workflow_of_another_brokerage_never_takes_a_lead_of_the_same_agent_id(
        h: Harness) -> None:
    # Given a published workflow of acme's agent "agent-1" and a lead of the default
    # brokerage's "agent-1" (a legacy agent id, as data from before accounts has)
    app = h.rt.app
    acme = brokerage_id("acme")
    template = app.create_template(name="e", channel="email", subject="Hi", body="Hello",
                                   brokerage_id=acme, agent_id="agent-1")
    workflow = app.create_workflow(agent_id="agent-1", name="acme's", brokerage_id=acme,
                                   definition={"trigger": {"score_threshold": 80}, "steps": [
                                       {"channel": "email", "template_id": str(template),
                                        "delay_minutes": 0}]})
    lead = register_ana(app, score=90)
    h.settle()
    # When it is published, and the lead's score crosses the threshold
    assert app.publish_preview(workflow).backfill_candidates == 0
    app.publish_workflow(workflow, backfill=True)
    app.change_score(lead, 50, "cooled")
    app.change_score(lead, 85, "viewed a listing")
    h.settle()
    # Then nothing starts: the workflow is none of the lead's business
    assert executions_of(app, lead) == []
    # While a lead of acme's agent-1 is taken
    own = app.register_lead(agent_id="agent-1", name="Ivo", email="ivo@example.com",
                            phone=None, timezone="UTC", preferences={}, timeline=None,
                            score=50, brokerage_id=acme)
    app.change_score(own, 85, "viewed a listing")
    h.settle()
    assert len(executions_of(app, own)) == 1
