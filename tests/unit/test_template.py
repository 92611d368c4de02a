"""Template: create, per channel."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValue
from domain.ids import DEFAULT_BROKERAGE_ID, brokerage_id
from domain.template import MAX_BODY, MAX_SUBJECT, Template
from tests.unit.conftest import given, state, then

BROKERAGE = brokerage_id("acme")


def test_create_an_email_template() -> None:
    # Given no template
    # When
    template = Template.create(name="  First touch ", channel="email",
                               subject="Hello {{ lead.first_name }}",
                               body="Hi {{ lead.first_name }},\nshall we talk?",
                               brokerage_id=BROKERAGE, agent_id="agent-1")
    # Then
    assert then(template) == [("Template.Created", {
        "brokerage_id": BROKERAGE, "agent_id": "agent-1",
        "name": "First touch", "channel": "email", "subject": "Hello {{ lead.first_name }}",
        "body": "Hi {{ lead.first_name }},\nshall we talk?",
    })]


@pytest.mark.parametrize("channel", ["sms", "in_app"])
def test_create_a_template_without_subject(channel: str) -> None:
    # Given no template
    # When
    template = Template.create(name="Ping", channel=channel, subject=None, body="Hi!")
    # Then
    assert then(template) == [("Template.Created", {
        "brokerage_id": DEFAULT_BROKERAGE_ID, "agent_id": None, "name": "Ping",
        "channel": channel, "subject": None, "body": "Hi!",
    })]


def test_a_blank_subject_on_an_sms_template_is_dropped() -> None:
    # When
    template = Template.create(name="Ping", channel="sms", subject="   ", body="Hi!")
    # Then
    [(_, fields)] = then(template)
    assert fields["subject"] is None


def test_a_subject_on_an_sms_template_is_kept_stripped() -> None:
    # When
    template = Template.create(name="Ping", channel="sms", subject="  News ", body="Hi!")
    # Then
    [(_, fields)] = then(template)
    assert fields["subject"] == "News"


@pytest.mark.parametrize("subject", [None, "", "   "])
def test_an_email_template_needs_a_subject(subject: str | None) -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        Template.create(name="Mail", channel="email", subject=subject, body="Hi")
    assert refused.value.field == "subject"


def test_an_email_subject_has_a_maximum_length() -> None:
    # When / Then: the maximum is accepted, one more refused
    Template.create(name="Mail", channel="email", subject="s" * MAX_SUBJECT, body="Hi")
    with pytest.raises(InvalidValue) as refused:
        Template.create(name="Mail", channel="email", subject="s" * (MAX_SUBJECT + 1), body="Hi")
    assert refused.value.field == "subject"


@pytest.mark.parametrize("channel", ["fax", "", "EMAIL", "e-mail"])
def test_an_unknown_channel_is_refused(channel: str) -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        Template.create(name="T", channel=channel, subject="s", body="b")
    assert refused.value.field == "channel"


@pytest.mark.parametrize(("name", "body", "field"), [
    ("  ", "body", "name"),
    ("T", "", "body"),
    ("T", " \n ", "body"),
    ("T", "x" * (MAX_BODY + 1), "body"),
])
def test_name_and_body_are_checked(name: str, body: str, field: str) -> None:
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        Template.create(name=name, channel="sms", subject=None, body=body)
    assert refused.value.field == field


def test_a_body_of_the_maximum_length_is_accepted() -> None:
    # When
    template = Template.create(name="T", channel="sms", subject=None, body="x" * MAX_BODY)
    # Then
    assert len(template.body) == MAX_BODY


def test_replaying_a_templates_events_rebuilds_the_same_template() -> None:
    # Given a template
    template = Template.create(name="T", channel="email", subject="S", body="B")
    # When its events are replayed
    replayed = given(*template.collect_events())
    # Then
    assert state(replayed) == state(template)
    assert (replayed.name, replayed.channel, replayed.subject, replayed.body) == (
        "T", "email", "S", "B")
