"""Template revisions: each save that changes a text is the next numbered revision, checked
as at creation; the earlier revisions stay as they were."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.errors import InvalidValue
from domain.template import MAX_BODY, Template
from tests.unit.conftest import given, state, then


def email_template() -> Template:
    """Given an email template, saved (its events collected)."""
    template = Template.create(name="Welcome", channel="email", subject="Hi", body="Hello")
    template.collect_events()
    return template


def test_a_save_is_the_next_revision_and_says_who_saved_it() -> None:
    template = email_template()
    # When
    number = template.revise(name=" Welcome 2 ", subject="Hi there", body="Hello again",
                             by="agent-7")
    # Then
    assert number == 2
    assert then(template) == [("Template.Revised", {
        "name": "Welcome 2", "subject": "Hi there", "body": "Hello again", "by": "agent-7"})]
    assert (template.name, template.subject, template.body) == ("Welcome 2", "Hi there",
                                                                "Hello again")
    first = template.revision(1)
    assert (first.number, first.name, first.subject, first.body, first.by) == (
        1, "Welcome", "Hi", "Hello", None)


def test_a_save_that_changes_nothing_records_nothing() -> None:
    template = email_template()
    # When the same texts are saved (the name with spaces around it)
    number = template.revise(name=" Welcome", subject="Hi", body="Hello")
    # Then
    assert number == 1 and then(template) == []


@pytest.mark.parametrize(("name", "subject", "body", "field"), [
    (" ", "Hi", "Hello", "name"),
    ("W", None, "Hello", "subject"),
    ("W", "  ", "Hello", "subject"),
    ("W", "Hi", " \n", "body"),
    ("W", "Hi", "x" * (MAX_BODY + 1), "body"),
])
def test_a_revision_is_checked_as_a_new_template_is(name: str, subject: str | None, body: str,
                                                     field: str) -> None:
    template = email_template()
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        template.revise(name=name, subject=subject, body=body)
    assert refused.value.field == field
    assert then(template) == [] and template.latest.number == 1


def test_an_sms_revision_drops_a_blank_subject() -> None:
    template = Template.create(name="Ping", channel="sms", subject=None, body="Hi")
    # When
    template.revise(name="Ping", subject="  ", body="Hi!")
    # Then
    assert template.latest.subject is None


@pytest.mark.parametrize("number", [0, 2, -1])
def test_a_revision_that_does_not_exist_is_refused(number: int) -> None:
    with pytest.raises(InvalidValue) as refused:
        email_template().revision(number)
    assert refused.value.field == "revision"


TEXTS = st.text(alphabet="ab {}\n", max_size=6)


class TemplateEdits(RuleBasedStateMachine):
    """Any sequence of saves, valid or not: revisions are numbered 1..n, each the texts saved
    (what a refused save left alone stays), and the events rebuild the same template."""

    def __init__(self) -> None:
        super().__init__()
        self.template = Template.create(name="T", channel="email", subject="S", body="B")
        self.events = list(self.template.collect_events())
        self.saved = [("T", "S", "B")]

    @rule(name=TEXTS, subject=st.none() | TEXTS, body=TEXTS, by=st.none() | st.just("a1"))
    def save(self, name: str, subject: str | None, body: str, by: str | None) -> None:
        try:
            number = self.template.revise(name=name, subject=subject, body=body, by=by)
        except InvalidValue:
            assert not self.template.collect_events()
            return
        new = self.template.collect_events()
        self.events += new
        texts = (name.strip(), subject, body)
        if new:
            assert texts != self.saved[-1]
            self.saved.append(texts)
        else:
            assert texts == self.saved[-1]
        assert number == len(self.saved)

    @invariant()
    def revisions_are_numbered_from_one_and_keep_what_was_saved(self) -> None:
        revisions = self.template.revisions
        assert [r.number for r in revisions] == list(range(1, len(self.saved) + 1))
        assert [(r.name, r.subject, r.body) for r in revisions] == self.saved
        assert self.template.version == len(self.saved)

    @invariant()
    def replay_gives_the_same_template(self) -> None:
        assert state(given(*self.events)) == state(self.template)


TemplateEdits.TestCase.settings = settings(max_examples=100, stateful_step_count=20,
                                           deadline=None)
TestTemplateEdits = TemplateEdits.TestCase
