"""Who acted: each event of a person's action carries ``by``; the same event stored before it
did (the version before) reads as today's with ``by`` None, and still folds."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain.execution import WorkflowExecution as X
from domain.lead import Lead
from domain.workflow import Workflow
from tests.unit.conftest import ANN, T0, given
from tests.unit.test_event_coverage import events_of
from tests.unit.test_execution import DUE0, dead_lettered, minutes, started
from tests.unit.test_lead import registered
from tests.unit.test_workflow import REVISIONS, TEMPLATES, created, edited, published, raw

#: Events made with ``by`` in their first version: nothing stored lacks it.
BORN_WITH_BY = {Lead.ProfileEdited, Workflow.DraftUndone, Workflow.DraftRedone}

#: Every event that gained ``by`` (its version 2, or 3 for ``Published``, whose version 2 added
#: template revisions); the account events had it from the start.
NAMED = {Lead.StatusChanged, Lead.OptedOut, Lead.OptedIn,
         X.StepScheduled, X.StepSkipped, X.DeadLetterReplayed, X.Paused, X.Resumed,
         X.Restarted, X.Cancelled,
         Workflow.DraftEdited, Workflow.Published, Workflow.Paused, Workflow.Resumed}


def acted() -> dict[type, list[Any]]:
    """Each named event as a person's action records it (``by`` ANN), with the events of its
    aggregate that came before it."""
    dead, at = dead_lettered()
    histories = [
        registered(lambda le: le.change_status("contacted", "call", by=ANN),
                   lambda le: le.opt_out("sms", "asked", by=ANN),
                   lambda le: le.opt_in("sms", "asked again", by=ANN)),
        started(lambda x: x.send_now(T0, by=ANN),
                lambda x: x.skip(0, "called instead", T0, by=ANN),
                lambda x: x.pause("wait", T0, by=ANN),
                lambda x: x.resume("shift", T0, by=ANN),
                lambda x: x.cancel("done", T0, by=ANN)),
        started(lambda x: x.restart("again", T0, by=ANN)),
        started(*dead, lambda x: x.replay(at + minutes(1), by=ANN)),
        created(lambda w: w.edit(name="Hot", definition=raw(), by=ANN),
                lambda w: w.publish(template_channels=TEMPLATES, template_revisions=REVISIONS,
                                    now=T0, by=ANN),
                edited(raw(steps=raw()["steps"][:1])), published(T0),
                lambda w: w.rollback(1, T0, by=ANN),
                lambda w: w.pause("holiday", T0, by=ANN),
                lambda w: w.resume(T0, by=ANN)),
    ]
    found: dict[type, list[Any]] = {}
    for events in histories:
        for i, e in enumerate(events):
            if type(e) in NAMED and e.by == ANN:
                found.setdefault(type(e), events[:i + 1])
    return found


ACTED = acted()


def test_every_event_that_gained_by_is_covered_here() -> None:
    # Given every event of the aggregates a person acts on that has a ``by`` and a version
    with_by = {e for a in (Lead, X, Workflow) for e in events_of(a)
               if "by" in {f.name for f in fields(e)}}
    # Then each is listed, and each is recorded with who acted by its command
    assert with_by - BORN_WITH_BY == NAMED
    assert set(ACTED) == NAMED
    assert all(e.class_version >= 2 for e in NAMED)


def as_before_by(event: Any) -> StoredEvent:
    """``event`` stored as the code before ``by`` wrote it: no ``by``, the version before."""
    mapper = Application[UUID]().mapper
    stored = mapper.to_stored_event(event)
    state = mapper.transcoder.decode(stored.state)
    del state["by"]
    state["class_version"] -= 1
    return StoredEvent(originator_id=stored.originator_id,
                       originator_version=stored.originator_version, topic=stored.topic,
                       state=mapper.transcoder.encode(state))


@pytest.mark.parametrize("kind", sorted(NAMED, key=lambda k: k.__qualname__),
                         ids=lambda k: k.__qualname__)
def test_an_event_stored_before_by_reads_as_nobody_named_and_still_folds(kind: type) -> None:
    # Given the event stored as the version before ``by``, after the events before it
    *before, event = ACTED[kind]
    mapper = Application[UUID]().mapper
    # When it is read with today's code
    old = mapper.to_domain_event(as_before_by(event))
    # Then it is today's event, saying nobody, and otherwise the same
    assert type(old) is kind and old.by is None
    assert {**vars(old), "by": ANN} == vars(event)
    # And it folds into the same state as the event that named who acted
    assert vars(old.mutate(given(*before))) == vars(event.mutate(given(*before)))


def test_an_event_a_person_did_not_cause_says_nobody() -> None:
    # Given an execution whose steps the system schedules and skips
    events = started(lambda x: x.skip(0, "opted out of email", DUE0),
                     lambda x: x.pause("lead status became closed: sold", DUE0))
    # Then none of them names anybody
    named = [e for e in events if type(e) in NAMED]
    assert [type(e).__qualname__ for e in named] == [
        "WorkflowExecution.StepScheduled", "WorkflowExecution.StepSkipped",
        "WorkflowExecution.StepScheduled", "WorkflowExecution.Paused"]
    assert all(e.by is None for e in named)
