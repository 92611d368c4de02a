"""Workflow: the draft's own history. Undo goes back through the drafts each change replaced,
redo forward again, a new change clears what was undone; all of it rebuilt from the events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from domain.errors import DomainError, InvalidState
from domain.workflow import Workflow
from tests.unit.conftest import T0, given, state, then
from tests.unit.test_workflow import (
    DEFINITION,
    OTHER,
    OTHER_RAW,
    REVISIONS,
    SMS_T,
    TEMPLATES,
    create,
    raw,
)

THIRD_RAW = raw(steps=[{"channel": "sms", "template_id": SMS_T, "delay_minutes": 30}])
THIRD = dict(DEFINITION, steps=[{"channel": "sms", "template_id": SMS_T, "delay_minutes": 30,
                                 "conditions": []}])


def publish(workflow: Workflow, at: Any = T0) -> int:
    return workflow.publish(template_channels=TEMPLATES, template_revisions=REVISIONS, now=at)


def draft(workflow: Workflow) -> tuple[str, dict[str, Any]]:
    return workflow.name, workflow.draft


def fresh(*edits: tuple[str, dict[str, Any]]) -> Workflow:
    """A workflow created, then edited to each (name, definition), its events saved."""
    workflow = create()
    for name, definition in edits:
        workflow.edit(name=name, definition=definition)
    return given(*workflow.collect_events())


# undo ------------------------------------------------------------------------


def test_undo_goes_back_to_the_draft_before_the_last_edit() -> None:
    # Given a draft edited once
    workflow = fresh(("Warm leads", OTHER_RAW))
    # When
    workflow.undo()
    # Then
    assert then(workflow) == [("Workflow.DraftUndone",
                               {"name": "Hot leads", "definition": DEFINITION, "by": None})]
    assert draft(workflow) == ("Hot leads", DEFINITION)
    assert (workflow.can_undo, workflow.can_redo) == (False, True)


def test_undo_twice_goes_back_two_edits() -> None:
    # Given two edits
    workflow = fresh(("Hot leads", OTHER_RAW), ("Hot leads", THIRD_RAW))
    # When
    workflow.undo()
    workflow.undo()
    # Then
    assert [p["definition"] for _, p in then(workflow)] == [OTHER, DEFINITION]
    assert workflow.draft == DEFINITION


@pytest.mark.parametrize("history", [(), (("Hot leads", raw()),)],
                         ids=["created", "edit-that-changed-nothing"])
def test_undo_with_no_change_to_undo_is_refused(history: tuple[Any, ...]) -> None:
    # Given a draft never changed
    workflow = fresh(*history)
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.undo()
    assert refused.value.field == "draft"
    assert then(workflow) == []


def test_publishing_is_no_change_of_the_draft() -> None:
    # Given a draft published as version 1
    workflow = fresh()
    publish(workflow)
    # When / Then: nothing to undo
    with pytest.raises(InvalidState):
        workflow.undo()


def test_undo_after_a_rollback_brings_back_the_draft_it_replaced() -> None:
    # Given version 1, version 2, then a draft edited further and rolled back to version 1
    workflow = fresh()
    publish(workflow)
    workflow.edit(name="Hot leads", definition=OTHER_RAW)
    publish(workflow, T0 + timedelta(hours=1))
    workflow.edit(name="Hot leads", definition=THIRD_RAW)
    workflow.rollback(1, T0 + timedelta(hours=2))
    assert workflow.draft == DEFINITION
    # When
    workflow.undo()
    # Then the agent's draft is back, the versions untouched
    assert workflow.draft == THIRD
    assert [v["number"] for v in workflow.versions] == [1, 2, 3]
    assert workflow.draft_differs is True


def test_undo_reaches_back_as_far_as_the_depth() -> None:
    # Given more edits than undo can reach
    workflow = create()
    for delay in range(Workflow.UNDO_DEPTH + 5):
        workflow.edit(name="Hot leads", definition=raw(steps=[
            {"channel": "email", "template_id": DEFINITION["steps"][0]["template_id"],
             "delay_minutes": delay}]))
    # When every reachable edit is undone
    for _ in range(Workflow.UNDO_DEPTH):
        workflow.undo()
    # Then the oldest draft reached is the one UNDO_DEPTH edits back, and no further
    assert workflow.draft["steps"][0]["delay_minutes"] == 4
    with pytest.raises(InvalidState):
        workflow.undo()


# redo ------------------------------------------------------------------------


def test_redo_goes_forward_to_the_draft_the_undo_left() -> None:
    # Given an edit undone
    workflow = fresh(("Warm leads", OTHER_RAW))
    workflow.undo()
    workflow.collect_events()
    # When
    workflow.redo(by="user:ann")
    # Then
    assert then(workflow) == [("Workflow.DraftRedone",
                               {"name": "Warm leads", "definition": OTHER, "by": "user:ann"})]
    assert draft(workflow) == ("Warm leads", OTHER)
    assert (workflow.can_undo, workflow.can_redo) == (True, False)


def test_redo_with_nothing_undone_is_refused() -> None:
    # Given an edit never undone
    workflow = fresh(("Warm leads", OTHER_RAW))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        workflow.redo()
    assert refused.value.field == "draft"
    assert then(workflow) == []


def test_a_new_edit_clears_what_was_undone() -> None:
    # Given an edit undone
    workflow = fresh(("Hot leads", OTHER_RAW))
    workflow.undo()
    # When another edit is made
    workflow.edit(name="Hot leads", definition=THIRD_RAW)
    # Then the undone edit cannot come back, and undo goes back to the draft before the edit
    assert workflow.can_redo is False
    with pytest.raises(InvalidState):
        workflow.redo()
    workflow.undo()
    assert workflow.draft == DEFINITION


# replay ----------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_history() -> None:
    # Given edits, undos, a redo and a rollback
    workflow = create()
    publish(workflow)
    workflow.edit(name="Warm", definition=OTHER_RAW)
    workflow.edit(name="Warm", definition=THIRD_RAW)
    workflow.undo()
    workflow.undo()
    workflow.redo()
    publish(workflow, T0 + timedelta(hours=1))
    workflow.rollback(1, T0 + timedelta(hours=2))
    events = workflow.collect_events()
    # When
    replayed = given(*events)
    # Then
    assert state(replayed) == state(workflow)
    assert replayed.earlier_drafts == workflow.earlier_drafts
    assert replayed.undone_drafts == workflow.undone_drafts


# The property: any sequence of commands gives what a plain pair of stacks gives ----

DEFINITIONS = [(raw(), DEFINITION), (OTHER_RAW, OTHER), (THIRD_RAW, THIRD)]
COMMANDS = st.lists(st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(["A", "B"]), st.integers(0, 2)),
    st.tuples(st.just("undo")), st.tuples(st.just("redo")), st.tuples(st.just("publish")),
    st.tuples(st.just("rollback"), st.integers(1, 4)),
), max_size=40)


@dataclass
class Stacks:
    """The model: the current draft, what undo goes back to and what redo goes forward to."""

    current: tuple[str, dict[str, Any]]
    depth: int
    past: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    future: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)

    def change(self, new: tuple[str, dict[str, Any]]) -> None:
        if new != self.current:
            self.past = [*self.past, self.current][-self.depth:]
            self.future = []
            self.current = new

    def undo(self) -> bool:
        if not self.past:
            return False
        self.future.append(self.current)
        self.current = self.past.pop()
        return True

    def redo(self) -> bool:
        if not self.future:
            return False
        self.past = [*self.past, self.current][-self.depth:]
        self.current = self.future.pop()
        return True

    def rollback(self, number: int) -> bool:
        if not 1 <= number < len(self.versions):
            return False  # none such, or the newest already
        self.versions.append(self.versions[number - 1])
        self.change((self.current[0], self.versions[-1]))
        return True


def refused(command: Any) -> bool:
    try:
        command()
    except DomainError:  # InvalidState or InvalidValue: nothing recorded
        return True
    return False


def run(workflow: Workflow, model: Stacks, command: tuple[Any, ...]) -> None:
    kind = command[0]
    if kind == "edit":
        sent, normalised = DEFINITIONS[command[2]]
        workflow.edit(name=command[1], definition=sent)
        model.change((command[1], normalised))
    elif kind == "undo":
        assert refused(workflow.undo) is not model.undo()
    elif kind == "redo":
        assert refused(workflow.redo) is not model.redo()
    elif kind == "publish":
        publish(workflow)
        model.versions.append(model.current[1])
    else:
        assert refused(lambda: workflow.rollback(command[1], T0)) is not model.rollback(
            command[1])


@contextmanager
def depth(value: int) -> Iterator[None]:
    with patch.object(Workflow, "UNDO_DEPTH", value):
        yield


@settings(max_examples=300, deadline=None)
@hypothesis_given(commands=COMMANDS, undo_depth=st.sampled_from([2, 3, Workflow.UNDO_DEPTH]))
def test_any_commands_give_the_draft_a_pair_of_stacks_gives(commands: list[tuple[Any, ...]],
                                                            undo_depth: int) -> None:
    with depth(undo_depth):
        # Given a new workflow and the model at its draft
        workflow = create(name="A")
        model = Stacks(current=("A", DEFINITION), depth=undo_depth)
        # When each command runs on both
        for command in commands:
            run(workflow, model, command)
            # Then the draft and what undo and redo can reach are the model's, each time
            assert draft(workflow) == model.current
            assert (workflow.can_undo, workflow.can_redo) == (bool(model.past),
                                                              bool(model.future))
        # And the events rebuild the same workflow, history included
        assert state(given(*workflow.collect_events())) == state(workflow)
