"""Template revisions through the use cases, on SQLite and PostgreSQL: a published version
sends the revisions it pinned until the agent republishes; a rollback sends its old pins; the
usage lists what an edit leaves behind."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.errors import Invalid, NotFound, StaleVersion
from domain.template import Template
from tests.integration.helpers import Harness, executions_of, register_ana


def one_email_workflow(h: Harness) -> tuple[UUID, UUID]:
    """Given a published workflow (threshold 80) of one email step: its id and the template's."""
    app = h.rt.app
    template = app.create_template(name="first", channel="email", subject="Hello",
                                   body="Hi {{ lead.first_name }}, revision one")
    workflow = app.create_workflow(agent_id="agent-1", name="hot", definition={
        "trigger": {"score_threshold": 80},
        "steps": [{"channel": "email", "template_id": str(template), "delay_minutes": 0}]})
    app.publish_workflow(workflow)
    return workflow, template


def revise(h: Harness, template: UUID, body: str) -> int:
    return h.rt.app.revise_template(template, name="first", subject="Hello", body=body,
                                    actor="agent-1").revision


def crossing_sends(h: Harness) -> str:
    """A new lead crosses the threshold; the body of the email it is sent."""
    lead = register_ana(h.rt.app, score=50)
    h.rt.app.change_score(lead, 85, "viewed a listing")
    assert h.send_due() == ["sent"]
    return h.channel.sent[-1].body


def test_an_edit_changes_nothing_a_live_version_sends_until_it_is_republished(
        h: Harness) -> None:
    workflow, template = one_email_workflow(h)
    # When the template is edited
    assert revise(h, template, "Hi {{ lead.first_name }}, revision two") == 2
    # Then a crossing still gets revision 1 (what version 1 pinned)
    assert crossing_sends(h) == "Hi Ana, revision one"
    # And once republished, revision 2 (version 2 pins it)
    assert h.rt.app.publish_workflow(workflow).version == 2
    assert h.rt.app.workflow_version(workflow, 2).template_revisions == {str(template): 2}
    assert crossing_sends(h) == "Hi Ana, revision two"
    # And a rollback to version 1 sends revision 1 again
    h.rt.app.rollback_workflow(workflow, 1)
    assert crossing_sends(h) == "Hi Ana, revision one"


def test_a_running_execution_keeps_its_versions_revision_across_an_edit(h: Harness) -> None:
    # Given a workflow of two emails, a lead in it, the first sent
    app = h.rt.app
    template = app.create_template(name="t", channel="email", subject="S", body="one")
    workflow = app.create_workflow(agent_id="agent-1", name="w", definition={
        "trigger": {"score_threshold": 80},
        "steps": [{"channel": "email", "template_id": str(template), "delay_minutes": 0},
                  {"channel": "email", "template_id": str(template), "delay_minutes": 60}]})
    app.publish_workflow(workflow)
    lead = register_ana(app)
    app.change_score(lead, 85, "viewed")
    assert h.send_due() == ["sent"]
    # When the template is edited and the second step falls due (in a new worker process)
    app.revise_template(template, name="t", subject="S", body="two")
    h.restart()
    h.clock.advance(minutes=61)
    assert h.send_due() == ["sent"]
    # Then it sent revision 1, as its version pinned
    assert [m.body for m in h.channel.sent] == ["one", "one"]
    assert executions_of(h.rt.app, lead)[0].workflow_version == 1


def test_revisions_are_listed_and_read_back_and_the_preview_renders_any(h: Harness) -> None:
    app = h.rt.app
    _, template = one_email_workflow(h)
    revise(h, template, "Bye {{ lead.first_name }}")
    listed = app.template_revisions(template)
    assert [(r.number, r.by) for r in listed] == [(1, None), (2, "agent-1")]
    assert listed[0].saved_at <= listed[1].saved_at
    assert app.template_revision(template, 1).body == "Hi {{ lead.first_name }}, revision one"
    assert app.template(template).revision == 2
    assert app.preview(template).body == "Bye Sample"
    assert app.preview(template, revision=1).body == "Hi Sample, revision one"
    with pytest.raises(NotFound):
        app.template_revision(template, 3)
    with pytest.raises(NotFound):
        app.preview(template, revision=3)


def test_an_edit_is_checked_as_a_new_template_and_a_refused_one_stores_nothing(
        h: Harness) -> None:
    _, template = one_email_workflow(h)
    for body, field in (("{{ lead.nmae }}", "body"), ("{% if %}", "body"), (" ", "body")):
        with pytest.raises(Invalid) as refused:
            revise(h, template, body)
        assert refused.value.field == field
    assert h.rt.app.load(Template, template).version == 1


def test_a_stale_version_is_refused_and_stores_nothing(h: Harness) -> None:
    _, template = one_email_workflow(h)
    app = h.rt.app
    app.revise_template(template, name="first", subject="Hello", body="two", if_match={1})
    with pytest.raises(StaleVersion) as refused:
        app.revise_template(template, name="first", subject="Hello", body="three",
                            if_match={1})
    assert refused.value.current == 2
    assert app.template(template).body == "two"


def test_the_usage_lists_live_versions_on_older_revisions_and_drafts_with_it(
        h: Harness) -> None:
    app = h.rt.app
    workflow, template = one_email_workflow(h)
    other = app.create_workflow(agent_id="agent-1", name="draft only", definition={
        "trigger": {"score_threshold": 90},
        "steps": [{"channel": "email", "template_id": str(template), "delay_minutes": 0}]})
    h.settle()
    # Before an edit: nothing is outdated; both drafts use it
    usage = app.template_usage(template)
    assert (usage.latest_revision, usage.outdated) == (1, [])
    assert {(d.workflow_id, d.status) for d in usage.drafts} == {(workflow, "published"),
                                                                  (other, "draft")}
    # After one: the live version pins revision 1
    revise(h, template, "two")
    [pinned] = app.template_usage(template).outdated
    assert (pinned.workflow_id, pinned.name, pinned.live_version, pinned.pinned_revision) == (
        workflow, "hot", 1, 1)
    # Republished: nothing left behind
    app.publish_workflow(workflow)
    assert app.template_usage(template).outdated == []
