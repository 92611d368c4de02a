"""Property tests: the execution state machine, timing, scoring and the template sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from adapters.templating import JinjaRenderer
from application.errors import Invalid
from domain import ids
from domain.errors import InvalidState
from domain.execution import StepState, WorkflowExecution
from domain.lead import Lead
from domain.personalisation import context_for, sample_context
from domain.scoring import MAX_SCORE, MIN_SCORE, crossed_upward
from domain.timing import MAX_DELAY_MINUTES, due_at
from tests.unit import conftest
from tests.unit.conftest import T0, names, state

MODERATE = settings(max_examples=200, deadline=None)

LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")
WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a1")
EXECUTION_ID = ids.execution_id(LEAD_ID, WORKFLOW_ID, "score@2")
TEMPLATE_ID = "00000000-0000-4000-8000-0000000000c1"

STOPS = ("WorkflowExecution.Paused", "WorkflowExecution.Cancelled",
         "WorkflowExecution.StepDeadLettered")


# WorkflowExecution as a state machine ------------------------------------------

DONE_STATUSES = ("sent", "failed", "skipped", "unknown")
RESUMES = ("WorkflowExecution.Resumed", "WorkflowExecution.Restarted",
           "WorkflowExecution.DeadLetterReplayed")
OUTCOMES = ("WorkflowExecution.StepSent", "WorkflowExecution.StepFailed",
            "WorkflowExecution.StepOutcomeUnknown")
TIMEOUT = timedelta(minutes=5)


def scheduling(e: object) -> tuple[int, datetime, str] | None:
    """(step, due, reason) if ``e`` schedules a step: a StepScheduled, a StepReleased, or a
    StepSent carrying the next step's schedule."""
    name = type(e).__qualname__
    if name in ("WorkflowExecution.StepScheduled", "WorkflowExecution.StepReleased"):
        return e.step_no, e.due_at, e.reason  # type: ignore[attr-defined]
    if name == "WorkflowExecution.StepSent" and e.next_step is not None:  # type: ignore[attr-defined]
        return e.next_step, e.next_due_at, e.next_reason  # type: ignore[attr-defined]
    return None


class ExecutionMachine(RuleBasedStateMachine):
    """Random sequences of clock moves and commands on one execution.

    Every event is kept with the clock reading when it was recorded, so the
    invariants can look at the whole history after each step. The lead's zone is UTC
    and the steps are emails with no send window (a text always has one: the SMS hours),
    so every delay is exact.
    """

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.execution: WorkflowExecution
        self.history: list[tuple[Any, datetime]] = []
        self.stop_after = 0
        self.flaky = False
        self.cancels = False
        self.overrides = False

    def collect(self) -> list[Any]:
        new = list(self.execution.collect_events())
        self.history.extend((e, self.now) for e in new)
        return new

    def current(self) -> StepState:
        return self.execution.step(self.execution.current_step)

    def message_id(self, step_no: int) -> UUID:
        return ids.message_id(EXECUTION_ID, step_no, 1, self.execution.round)

    def rounds(self) -> list[list[tuple[Any, datetime]]]:
        """The history cut at each restart."""
        found: list[list[tuple[Any, datetime]]] = [[]]
        for e, at in self.history:
            if type(e).__qualname__ == "WorkflowExecution.Restarted":
                found.append([])
            found[-1].append((e, at))
        return found

    # A pause, cancel or restart changes what a run can explore, so each run draws how many
    # events to record first (0: at once; a large number: never). Some runs have a flaky
    # provider that only ever fails transiently, to reach the last attempt; only some runs
    # cancel (else a cancel would cut most pauses short), and only some have an agent who
    # skips steps or sends them at once (else few steps would be sent).
    @initialize(delays=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=4),
                stop_after=st.integers(0, 40), flaky=st.booleans(), cancels=st.booleans(),
                overrides=st.booleans())
    def start(self, delays: list[int], stop_after: int, flaky: bool, cancels: bool,
              overrides: bool) -> None:
        self.stop_after = stop_after
        self.flaky = flaky
        self.cancels = cancels
        self.overrides = overrides
        steps = [{"channel": "email", "template_id": TEMPLATE_ID, "delay_minutes": d}
                 for d in delays]
        self.execution = WorkflowExecution.start(
            execution_id=EXECUTION_ID, lead_id=LEAD_ID, workflow_id=WORKFLOW_ID,
            workflow_version=1, steps=steps, trigger={"kind": "test"}, timezone="UTC",
            now=self.now)
        self.collect()

    @rule(minutes=st.integers(0, 2 * 24 * 60))
    def advance_the_clock(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: self.execution.next_due_at() is not None)
    @rule(late=st.integers(0, 90))
    def advance_to_the_next_due_time(self, late: int) -> None:
        due = self.execution.next_due_at()
        assert due is not None
        self.now = max(self.now, due + timedelta(minutes=late))

    @precondition(lambda self: self.execution.due_step(self.now) is not None)
    @rule()
    def dispatch_the_due_step(self) -> None:
        step_no = self.execution.due_step(self.now)
        assert step_no is not None
        before = self.execution.step(step_no).attempts
        attempt = self.execution.dispatch(step_no, self.message_id(step_no), self.now)
        assert attempt == before + 1
        assert attempt <= self.execution.step(step_no).attempt_limit
        assert names(self.collect()) == ["WorkflowExecution.StepDispatched"]

    @precondition(lambda self: self.current().status == "dispatched" and not self.flaky)
    @rule()
    def record_sent(self) -> None:
        step_no = self.execution.current_step
        self.execution.record_sent(step_no, self.message_id(step_no), self.now)
        assert names(self.collect())[0] == "WorkflowExecution.StepSent"

    @precondition(lambda self: self.current().status == "dispatched")
    @rule(permanent=st.booleans())
    def record_failure(self, permanent: bool) -> None:
        permanent = permanent and not self.flaky
        step_no = self.execution.current_step
        step = self.execution.step(step_no)
        exhausted = step.attempts >= step.attempt_limit
        live = self.execution.is_live
        self.execution.record_failure(step_no, "boom", permanent, self.now)
        new = self.collect()
        assert names(new)[0] == "WorkflowExecution.StepFailed"
        assert new[0].permanent is permanent
        dead = not permanent and exhausted and live
        assert ("WorkflowExecution.StepDeadLettered" in names(new)) is dead
        assert (self.execution.dead_letter == step_no) is dead
        if dead:
            assert self.execution.status == "paused" and self.execution.next_due_at() is None

    @precondition(lambda self: self.execution.dead_letter is not None)
    @rule()
    def replay(self) -> None:
        step_no = self.execution.dead_letter
        assert self.execution.replay(self.now) == step_no
        assert names(self.collect()) == ["WorkflowExecution.DeadLetterReplayed",
                                         "WorkflowExecution.StepScheduled"]
        assert self.execution.is_active and self.execution.current_step == step_no

    @precondition(lambda self: self.execution.stale_dispatch(self.now, TIMEOUT) is not None)
    @rule(again=st.booleans())
    def resolve_a_stale_dispatch(self, again: bool) -> None:
        step_no = self.execution.current_step
        if again and self.execution.is_active:
            attempt = self.execution.redispatch(step_no, self.now, TIMEOUT)
            assert attempt == self.execution.step(step_no).attempts
            assert names(self.collect()) == ["WorkflowExecution.StepDispatched"]
        else:
            self.execution.record_unknown_outcome(step_no, "sender died", self.now, TIMEOUT)
            assert names(self.collect())[0] == "WorkflowExecution.StepOutcomeUnknown"

    @precondition(lambda self: self.overrides and self.execution.is_live
                  and self.current().status == "scheduled")
    @rule()
    def skip(self) -> None:
        step_no = self.execution.current_step
        self.execution.skip(step_no, "agent's choice", self.now)
        new = self.collect()
        assert names(new)[0] == "WorkflowExecution.StepSkipped"
        assert self.execution.step(step_no).status == "skipped"

    @precondition(lambda self: self.overrides and self.execution.is_active
                  and self.current().status == "scheduled")
    @rule()
    def send_now(self) -> None:
        assert self.execution.send_now(self.now) == self.execution.current_step
        assert names(self.collect()) == ["WorkflowExecution.StepScheduled"]
        assert self.execution.due_step(self.now) == self.execution.current_step

    @precondition(lambda self: self.overrides
                  and self.execution.due_step(self.now) is not None)
    @rule()
    def hold_for_a_paused_workflow(self) -> None:
        step_no = self.execution.due_step(self.now)
        assert step_no is not None
        first = self.execution.hold(step_no, "the workflow is paused", self.now)
        again = self.execution.hold(step_no, "the workflow is paused", self.now)
        assert again is False  # once per hold, however often the index offers it
        assert names(self.collect()) == (["WorkflowExecution.StepHeld"] if first else [])

    @precondition(lambda self: self.execution.held_step is not None)
    @rule()
    def release_at_the_resume(self) -> None:
        released = self.execution.release(self.now)
        assert released is self.execution.is_active
        assert names(self.collect()) == (["WorkflowExecution.StepReleased"] if released else [])
        if released:
            assert self.execution.due_step(self.now) == self.execution.current_step

    def may_stop(self) -> bool:
        return len(self.history) >= self.stop_after

    @precondition(lambda self: self.may_stop() and self.execution.is_active)
    @rule()
    def pause(self) -> None:
        assert self.execution.pause("pause", self.now) is True
        assert names(self.collect()) == ["WorkflowExecution.Paused"]

    @precondition(lambda self: self.execution.status == "paused"
                  and self.execution.dead_letter is None)
    @rule(policy=st.sampled_from(["shift", "skip_overdue"]))
    def resume(self, policy: str) -> None:
        self.execution.resume(policy, self.now)
        assert names(self.collect())[0] == "WorkflowExecution.Resumed"
        assert self.execution.status in ("active", "completed")

    @precondition(lambda self: self.cancels and self.may_stop())
    @rule()
    def cancel(self) -> None:
        was_live = self.execution.is_live
        in_flight = self.current().status == "dispatched"
        step_no = self.execution.current_step
        assert self.execution.cancel("cancel", self.now) is was_live
        new = self.collect()
        assert names(new) == (["WorkflowExecution.Cancelled"] if was_live else [])
        if was_live:  # the step whose outcome may still come is named, and only that one
            assert new[0].in_flight == (step_no if in_flight else None)

    @precondition(lambda self: self.may_stop() and not self.execution.is_live)
    @rule()
    def restart(self) -> None:
        before = self.execution.round
        self.execution.restart("again", self.now)
        assert names(self.collect()) == ["WorkflowExecution.Restarted",
                                         "WorkflowExecution.StepScheduled"]
        assert self.execution.round == before + 1

    # Invariants ---------------------------------------------------------------

    @invariant()
    def nothing_is_dispatched_or_scheduled_while_paused_or_cancelled(self) -> None:
        """(a) once paused or cancelled, until resumed or restarted, no step is dispatched
        and nothing is scheduled; a send already in flight may still be recorded.
        """
        stopped = False
        in_flight: set[int] = set()
        for e, _ in self.history:
            name = type(e).__qualname__
            if name in STOPS:
                stopped = True
            elif name in RESUMES:
                stopped = False
                if name == "WorkflowExecution.Restarted":
                    in_flight.clear()
            elif name == "WorkflowExecution.StepDispatched":
                assert not stopped, "a step was dispatched while paused or cancelled"
                in_flight.add(e.step_no)
            elif name in OUTCOMES:
                assert e.step_no in in_flight, "an outcome for a step not in flight"
                in_flight.discard(e.step_no)
            if name == "WorkflowExecution.Completed" or scheduling(e) is not None:
                assert not stopped, f"{name} while paused or cancelled"

    @invariant()
    def due_times_never_go_backwards_within_a_round(self) -> None:
        """(b) each due time is at or after the clock when it was scheduled, and at or after
        the previous due time of the round, unless the agent overrode it since (send now
        brings a step forward to now; skipping moves on from now)."""
        for one_round in self.rounds():
            floor: datetime | None = None
            for e, recorded_at in one_round:
                name = type(e).__qualname__
                if name == "WorkflowExecution.StepSkipped" and e.reason == "agent's choice":
                    floor = recorded_at
                plan = scheduling(e)
                if plan is None:
                    continue
                _, due_at, reason = plan
                assert due_at >= recorded_at
                if reason == "sent now by the agent":
                    assert due_at == recorded_at
                elif floor is not None:
                    assert due_at >= floor, (reason, due_at, floor)
                floor = due_at

    @invariant()
    def steps_are_scheduled_in_order_within_a_round(self) -> None:
        for one_round in self.rounds():
            plans = [scheduling(e) for e, _ in one_round]
            numbers = [plan[0] for plan in plans if plan is not None]
            assert numbers == sorted(numbers)
            assert all(b - a <= 1 for a, b in pairwise(numbers))
            assert not numbers or numbers[0] == 0

    @invariant()
    def the_round_counts_the_restarts(self) -> None:
        assert self.execution.round == len(self.rounds())

    @invariant()
    def replay_rebuilds_the_live_state(self) -> None:
        """(c) folding every event so far gives the live aggregate's state."""
        replayed = conftest.given(*(e for e, _ in self.history))
        assert state(replayed) == state(self.execution)

    @invariant()
    def commands_out_of_turn_are_refused(self) -> None:
        """Dispatching a step that is not due, recording the outcome of a step not in
        flight, skipping a step that is not the scheduled one, sending now without a
        scheduled step, or resuming what is not paused is refused and records nothing."""
        execution = self.execution
        due = execution.due_step(self.now)
        current = execution.current_step
        for step_no, step in enumerate(execution.steps):
            if step_no != due:
                with pytest.raises(InvalidState):
                    execution.dispatch(step_no, self.message_id(step_no), self.now)
            if step.status != "dispatched":
                with pytest.raises(InvalidState):
                    execution.record_sent(step_no, self.message_id(step_no), self.now)
                with pytest.raises(InvalidState):
                    execution.record_failure(step_no, "boom", False, self.now)
            if not (step_no == current and step.status == "scheduled" and execution.is_live):
                with pytest.raises(InvalidState):
                    execution.skip(step_no, "no", self.now)
        if not (execution.is_active and self.current().status == "scheduled"):
            with pytest.raises(InvalidState):
                execution.send_now(self.now)
        if execution.status != "paused":
            with pytest.raises(InvalidState):
                execution.resume("shift", self.now)
        if not execution.is_active:
            assert execution.pause("again", self.now) is False
        if not execution.is_live:
            assert execution.cancel("again", self.now) is False
        assert execution.collect_events() == []

    @invariant()
    def paused_or_ended_executions_have_nothing_due(self) -> None:
        if not self.execution.is_active:
            assert self.execution.due_step(self.now) is None
            assert self.execution.next_due_at() is None

    @invariant()
    def completed_only_after_the_last_step(self) -> None:
        if self.execution.status == "completed":
            assert self.execution.current_step == len(self.execution.steps) - 1
            assert all(s.status in DONE_STATUSES for s in self.execution.steps)


ExecutionMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50,
                                              deadline=None)
TestExecutionMachine = ExecutionMachine.TestCase


# timing.due_at -----------------------------------------------------------------

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)),
                         timezone(timedelta(hours=5, minutes=30))])
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                        timezones=ZONES)
DELAYS = st.integers(0, MAX_DELAY_MINUTES)


@MODERATE
@given(previous=INSTANTS, delay=DELAYS)
def test_due_at_is_never_earlier_than_previous_plus_delay(previous: datetime, delay: int) -> None:
    due = due_at(previous, delay)
    assert due >= previous + timedelta(minutes=delay)
    assert due >= previous
    assert due.tzinfo is not None


@MODERATE
@given(a=INSTANTS, b=INSTANTS, delay=DELAYS)
def test_due_at_is_monotone_in_the_previous_time(a: datetime, b: datetime, delay: int) -> None:
    early, late = sorted([a, b])
    assert due_at(early, delay) <= due_at(late, delay)


@MODERATE
@given(previous=INSTANTS, d1=DELAYS, d2=DELAYS)
def test_due_at_is_monotone_in_the_delay(previous: datetime, d1: int, d2: int) -> None:
    short, long = sorted([d1, d2])
    assert due_at(previous, short) <= due_at(previous, long)


@MODERATE
@given(previous=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       delay=DELAYS)
def test_due_at_refuses_a_naive_time(previous: datetime, delay: int) -> None:
    with pytest.raises(ValueError):
        due_at(previous, delay)


@MODERATE
@given(previous=INSTANTS,
       delay=st.integers(max_value=-1) | st.integers(min_value=MAX_DELAY_MINUTES + 1))
def test_due_at_refuses_a_delay_out_of_range(previous: datetime, delay: int) -> None:
    with pytest.raises(ValueError):
        due_at(previous, delay)


# scoring.crossed_upward ----------------------------------------------------------

SCORES = st.integers(MIN_SCORE, MAX_SCORE)


@MODERATE
@given(old=st.none() | SCORES, new=SCORES, threshold=st.integers(MIN_SCORE + 1, MAX_SCORE))
def test_crossed_upward_iff_old_below_and_new_at_or_above(
        old: int | None, new: int, threshold: int) -> None:
    below = -1 if old is None else old  # no score counts as below any threshold
    assert crossed_upward(old, new, threshold) is (below < threshold <= new)


@MODERATE
@given(score=SCORES, threshold=st.integers(MIN_SCORE + 1, MAX_SCORE))
def test_staying_put_never_crosses(score: int, threshold: int) -> None:
    assert not crossed_upward(score, score, threshold)


@MODERATE
@given(old=st.none() | SCORES, new=SCORES, threshold=st.integers(MIN_SCORE + 1, MAX_SCORE))
def test_a_drop_never_crosses(old: int | None, new: int, threshold: int) -> None:
    if old is not None and new <= old:
        assert not crossed_upward(old, new, threshold)


# The template sandbox ------------------------------------------------------------

RENDERER = JinjaRenderer()
DELIMITERS = ("{{", "{%", "{#")


def plain(text: str) -> bool:
    return not any(d in text for d in DELIMITERS)


@MODERATE
@given(text=st.text(max_size=300).filter(plain).filter(
    # Jinja normalises newlines to \n and drops one trailing newline: see the report.
    lambda t: "\r" not in t and not t.endswith("\n")))
def test_text_without_jinja_delimiters_renders_unchanged(text: str) -> None:
    assert RENDERER.render(text, sample_context()) == text
    RENDERER.check(text, "body")


# Names a template may use without an error: the context, Jinja's globals and literals.
DEFINED = (set(sample_context()) | set(RENDERER.env.globals)
           | {"true", "false", "none", "self"})
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n not in DEFINED)
LEAD_KEYS = set(sample_context()["lead"]) | set(dir(dict))
FIELDS = st.text(min_size=1, max_size=30)


@MODERATE
@given(name=NAMES, form=st.sampled_from(["{{ %s }}", "Hi {{ %s }}!", "{%% if %s %%}x{%% endif %%}",
                                         "{{ %s | upper }}"]),
       field=FIELDS)
def test_check_refuses_an_undefined_variable(name: str, form: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        RENDERER.check(form % name, field)
    assert refused.value.field == field


@MODERATE
@given(attribute=NAMES.filter(lambda n: n not in LEAD_KEYS), field=FIELDS)
def test_check_refuses_an_undefined_attribute(attribute: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        RENDERER.check(f"Dear {{{{ lead.{attribute} }}}}", field)
    assert refused.value.field == field


NAME_TEXT = st.text(min_size=1, max_size=60).filter(lambda s: s.strip())


def lead_named(name: str) -> Lead:
    return Lead.register(lead_id=LEAD_ID, agent_id="agent-1", name=name, email=None,
                         phone=None, timezone="UTC", preferences={}, timeline=None)


@MODERATE
@given(name=NAME_TEXT)
def test_first_name_renders_as_the_leads_first_name(name: str) -> None:
    lead = lead_named(name)
    first = name.split()[0]
    assert lead.first_name == first
    assert RENDERER.render("{{ lead.first_name }}", context_for(lead)) == first
    assert RENDERER.render("Hi {{ lead.first_name }}!", context_for(lead)) == f"Hi {first}!"


def test_check_accepts_every_documented_variable() -> None:
    RENDERER.check("{{ lead.name }} {{ lead.first_name }} {{ lead.timeline }} "
                   "{{ lead.preferences.area }} {{ agent.id }}", "body")


def test_check_reports_a_syntax_error_on_the_field() -> None:
    with pytest.raises(Invalid) as refused:
        RENDERER.check("Hi {{ lead.first_name ", "subject")
    assert refused.value.field == "subject"


class Spy:
    """A context object that notes any call of its methods."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def public(self) -> str:
        self.calls.append("public")
        return "public"

    def _private(self) -> str:
        self.calls.append("_private")
        return "private"

    def __reduce_ex__(self, protocol: Any) -> Any:
        self.calls.append("__reduce_ex__")
        return super().__reduce_ex__(protocol)


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ lead.__class__ }}",
    "{{ lead.name.__len__() }}",
    "{{ lead.name | attr('__class__') }}",
    "{{ '{0.__class__}'.format(lead) }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self.__init__ }}",
    "{{ range(10 ** 9) | list | length }}",
    "{{ 'x' * 60000 }}",
]


@pytest.mark.parametrize("text", ESCAPES)
def test_sandbox_escapes_are_refused(text: str) -> None:
    with pytest.raises(Invalid) as refused:
        RENDERER.render(text, sample_context(), "body")
    assert refused.value.field == "body"
    with pytest.raises(Invalid) as refused:
        RENDERER.check(text, "subject")
    assert refused.value.field == "subject"


@pytest.mark.parametrize("text", [
    "{{ spy._private() }}",
    "{{ spy.__reduce_ex__(2) }}",
    "{{ spy.public.__func__(spy) }}",
    "{{ spy | attr('_private') }}",
])
def test_sandbox_escapes_never_run(text: str) -> None:
    spy = Spy()
    with pytest.raises(Invalid):
        RENDERER.render(text, {"spy": spy})
    assert spy.calls == []


def test_the_spy_notes_calls_but_a_template_cannot_call_an_object_that_is_not_data() -> None:
    # Only the methods of data (text, lists, mappings) and a few functions may be called
    spy = Spy()
    with pytest.raises(Invalid) as refused:
        RENDERER.render("{{ spy.public() }}", {"spy": spy})
    assert "the method 'public' cannot be called" in refused.value.reason
    assert spy.calls == []
    spy.public()
    assert spy.calls == ["public"], "the spy notes a call, so the tests above would see one"


@MODERATE
@given(target=st.sampled_from(["lead", "lead.name", "lead.preferences", "agent", "''", "[]",
                               "lead.preferences.items", "range", "cycler"]),
       attribute=st.from_regex(r"_[A-Za-z_]{0,15}", fullmatch=True))
def test_no_underscore_attribute_is_reachable(target: str, attribute: str) -> None:
    with pytest.raises(Invalid):
        RENDERER.render(f"{{{{ {target}.{attribute} }}}}", sample_context())
