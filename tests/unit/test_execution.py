"""WorkflowExecution: start, dispatch, record_sent, record_failure, skip, send_now, pause,
resume, migrate, restart, cancel, and the resolution of a dispatch whose sender died."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain import ids
from domain.errors import InvalidState, InvalidValue
from domain.execution import MAX_SEND_ATTEMPTS, StepState, StepStatus, WorkflowExecution
from domain.priority import URGENT
from tests.unit.conftest import ANN, T0, given, names, state, then

LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")
WORKFLOW_ID = UUID("00000000-0000-4000-8000-0000000000a1")
EXECUTION_ID = ids.execution_id(LEAD_ID, WORKFLOW_ID, "score@2")
TRIGGER = {"kind": "score", "lead_version": 2, "old": 10, "new": 80, "score_threshold": 70}
STEPS = [
    {"channel": "email", "template_id": "00000000-0000-4000-8000-0000000000c1",
     "delay_minutes": 30},
    {"channel": "sms", "template_id": "00000000-0000-4000-8000-0000000000c2",
     "delay_minutes": 60},
    {"channel": "in_app", "template_id": "00000000-0000-4000-8000-0000000000c3",
     "delay_minutes": 1440},
]
MSG = [ids.message_id(EXECUTION_ID, n, 1) for n in range(len(STEPS))]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# Past commands, to build the history a test starts from ----------------------

Command = Callable[[WorkflowExecution], Any]


def dispatched(step: int, at: datetime) -> Command:
    return lambda e: e.dispatch(step, MSG[step], at)


def sent(step: int, at: datetime) -> Command:
    return lambda e: e.record_sent(step, MSG[step], at)


def failed(step: int, at: datetime, permanent: bool = False) -> Command:
    return lambda e: e.record_failure(step, "busy", permanent, at)


def paused(at: datetime) -> Command:
    return lambda e: e.pause("lead asked to wait", at)


def cancelled(at: datetime) -> Command:
    return lambda e: e.cancel("lead closed", at)


def start(steps: list[dict[str, Any]] = STEPS, now: datetime = T0, timezone: str = "UTC",
          first_delay_minutes: int = 0) -> WorkflowExecution:
    return WorkflowExecution.start(execution_id=EXECUTION_ID, lead_id=LEAD_ID,
                                   workflow_id=WORKFLOW_ID, workflow_version=1, steps=steps,
                                   trigger=TRIGGER, timezone=timezone, now=now,
                                   first_delay_minutes=first_delay_minutes)


def started(*commands: Command, steps: list[dict[str, Any]] = STEPS) -> list[Any]:
    """The events of an execution started at T0 and then driven by ``commands``."""
    execution = start(steps)
    for command in commands:
        command(execution)
    return list(execution.collect_events())


# Step 0 falls due at T0 + 30 min; sent then, step 1 falls due 60 min later.
DUE0 = T0 + minutes(30)


def scheduled(step: int, due: datetime, reason: str, priority: int = 80,
              by: str | None = None) -> tuple[str, dict[str, Any]]:
    """A StepScheduled payload; the priority is the lead's score (80 at the trigger) unless
    the step is a live crossing's first touch (URGENT); ``by`` only for a send-now."""
    return ("WorkflowExecution.StepScheduled",
            {"step_no": step, "due_at": due, "reason": reason, "priority": priority, "by": by})


def step_sent(step: int, at: datetime,
              next_: tuple[str, dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]]:
    """A StepSent payload; ``next_`` is the next step's schedule it carries (a ``scheduled``
    payload), or ``None`` when nothing follows."""
    plan = next_[1] if next_ else {}
    return ("WorkflowExecution.StepSent",
            {"step_no": step, "message_id": MSG[step], "sent_at": at,
             "next_step": plan.get("step_no"), "next_due_at": plan.get("due_at"),
             "next_reason": plan.get("reason"), "next_priority": plan.get("priority")})


def first_touch(due: datetime, reason: str) -> tuple[str, dict[str, Any]]:
    """Step 0 of an execution a live score crossing started: urgent, whatever the score."""
    return scheduled(0, due, reason, URGENT)


# start -----------------------------------------------------------------------


def test_start_records_the_execution_and_schedules_step_0_after_its_delay() -> None:
    # Given no execution
    # When
    execution = start()
    # Then
    assert then(execution) == [
        ("WorkflowExecution.Created", {
            "lead_id": LEAD_ID, "workflow_id": WORKFLOW_ID, "workflow_version": 1,
            "steps": STEPS, "trigger": TRIGGER, "timezone": "UTC", "started_at": T0,
        }),
        first_touch( DUE0, "30 min after the start"),
    ]
    assert execution.id == EXECUTION_ID
    assert execution.is_active and execution.is_live
    assert execution.current_step == 0
    assert execution.next_due_at() == DUE0
    assert [s.status for s in execution.steps] == ["scheduled", "pending", "pending"]
    assert all(s.attempts == 0 for s in execution.steps)


def test_start_does_not_change_the_steps_it_was_given() -> None:
    # Given the version's steps
    steps = [dict(s) for s in STEPS]
    # When
    start(steps)
    # Then
    assert steps == STEPS


def test_start_with_a_zero_delay_is_due_at_once() -> None:
    # When
    execution = start([dict(STEPS[0], delay_minutes=0)])
    # Then
    assert then(execution)[1] == first_touch( T0, "right after the start")
    assert execution.due_step(T0) == 0


def test_start_refuses_a_version_without_steps() -> None:
    # When / Then
    with pytest.raises(InvalidState) as refused:
        start([])
    assert refused.value.field == "steps"


# due_step ------------------------------------------------------------------------


def test_the_step_is_due_from_its_due_time_on() -> None:
    # Given step 0 scheduled for DUE0
    execution = given(*started())
    # When / Then
    assert execution.due_step(DUE0 - timedelta(microseconds=1)) is None
    assert execution.due_step(DUE0) == 0
    assert execution.due_step(DUE0 + timedelta(days=3)) == 0


# dispatch ------------------------------------------------------------------------


def test_dispatch_claims_the_due_step_as_attempt_1() -> None:
    # Given
    execution = given(*started())
    # When
    attempt = execution.dispatch(0, MSG[0], DUE0 + minutes(1))
    # Then
    assert attempt == 1
    assert then(execution) == [("WorkflowExecution.StepDispatched", {
        "step_no": 0, "message_id": MSG[0], "attempt": 1, "at": DUE0 + minutes(1)})]
    assert execution.step(0).status == "dispatched"
    assert execution.due_step(DUE0 + minutes(2)) is None
    assert execution.next_due_at() is None


def test_dispatch_refuses_a_step_not_yet_due() -> None:
    # Given
    execution = given(*started())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.dispatch(0, MSG[0], DUE0 - minutes(1))
    assert refused.value.field == "step"
    assert then(execution) == []


@pytest.mark.parametrize("step", [1, 2])
def test_dispatch_refuses_a_step_that_is_not_the_due_one(step: int) -> None:
    # Given step 0 due
    execution = given(*started())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.dispatch(step, MSG[step], DUE0 + timedelta(days=5))
    assert refused.value.field == "step"
    assert then(execution) == []


def test_dispatch_refuses_a_step_already_dispatched() -> None:
    # Given
    execution = given(*started(dispatched(0, DUE0)))
    # When / Then
    with pytest.raises(InvalidState):
        execution.dispatch(0, MSG[0], DUE0 + minutes(1))
    assert then(execution) == []


@pytest.mark.parametrize("stop", [paused(T0 + minutes(1)), cancelled(T0 + minutes(1))])
def test_dispatch_refuses_when_the_execution_is_not_active(stop: Command) -> None:
    # Given step 0 scheduled, then the execution stopped
    execution = given(*started(stop))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.dispatch(0, MSG[0], DUE0)
    assert refused.value.field == "step"
    assert then(execution) == []
    assert execution.due_step(DUE0) is None
    assert execution.next_due_at() is None


# record_sent -----------------------------------------------------------------------


def test_record_sent_schedules_the_next_step_from_the_send_time() -> None:
    # Given step 0 dispatched
    execution = given(*started(dispatched(0, DUE0)))
    # When it is sent 2 minutes later
    execution.record_sent(0, MSG[0], DUE0 + minutes(2))
    # Then the next step's schedule rides on the StepSent: one event, not two
    assert then(execution) == [
        step_sent(0, DUE0 + minutes(2),
                  scheduled(1, DUE0 + minutes(2 + 60), "1 hour after the previous step")),
    ]
    assert execution.current_step == 1
    assert execution.step(0).status == "sent"
    assert execution.next_due_at() == DUE0 + minutes(62)


def test_record_sent_of_the_last_step_completes_the_execution() -> None:
    # Given steps 0 and 1 sent, step 2 dispatched
    sent1 = DUE0 + minutes(60)
    due2 = sent1 + minutes(1440)
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0),
                               dispatched(1, sent1), sent(1, sent1), dispatched(2, due2)))
    # When
    execution.record_sent(2, MSG[2], due2 + minutes(1))
    # Then
    assert then(execution) == [
        step_sent(2, due2 + minutes(1)),
        ("WorkflowExecution.Completed", {"at": due2 + minutes(1)}),
    ]
    assert execution.status == "completed"
    assert execution.completed_at == due2 + minutes(1)
    assert execution.current_step == 2
    assert not execution.is_live
    assert execution.due_step(due2 + timedelta(days=9)) is None


@pytest.mark.parametrize("history", [(), (dispatched(0, DUE0), sent(0, DUE0))],
                         ids=["scheduled", "already-sent"])
def test_record_sent_refuses_a_step_not_dispatched(history: tuple[Command, ...]) -> None:
    # Given
    execution = given(*started(*history))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.record_sent(0, MSG[0], DUE0 + minutes(5))
    assert refused.value.field == "step"
    assert then(execution) == []


def test_a_send_in_flight_when_paused_is_recorded_but_nothing_more_is_scheduled() -> None:
    # Given step 0 dispatched, then the execution paused
    execution = given(*started(dispatched(0, DUE0), paused(DUE0)))
    # When the provider's answer arrives
    execution.record_sent(0, MSG[0], DUE0 + minutes(1))
    # Then the send is a fact; the paused execution goes no further
    assert then(execution) == [step_sent(0, DUE0 + minutes(1))]
    assert execution.status == "paused"
    assert execution.step(1).status == "pending"


# record_failure --------------------------------------------------------------------


def test_a_transient_failure_schedules_a_retry_after_a_backoff() -> None:
    # Given step 0 dispatched (attempt 1)
    execution = given(*started(dispatched(0, DUE0)))
    # When
    execution.record_failure(0, "provider busy", False, DUE0 + minutes(1))
    # Then
    assert then(execution) == [
        ("WorkflowExecution.StepFailed", {"step_no": 0, "reason": "provider busy",
                                          "permanent": False, "at": DUE0 + minutes(1)}),
        scheduled(0, DUE0 + minutes(1) + timedelta(seconds=30),
                  "retry 2 after a transient failure"),
    ]
    assert execution.current_step == 0
    assert execution.step(0).attempts == 1


def test_the_retry_is_dispatched_as_the_next_attempt() -> None:
    # Given a transient failure of attempt 1, retry due 30 s later
    retry_due = DUE0 + minutes(1) + timedelta(seconds=30)
    execution = given(*started(dispatched(0, DUE0), failed(0, DUE0 + minutes(1))))
    assert execution.due_step(retry_due - timedelta(seconds=1)) is None
    # When
    attempt = execution.dispatch(0, MSG[0], retry_due)
    # Then
    assert attempt == 2
    assert then(execution) == [("WorkflowExecution.StepDispatched", {
        "step_no": 0, "message_id": MSG[0], "attempt": 2, "at": retry_due})]


def transient_attempts(count: int) -> tuple[list[Command], datetime]:
    """Dispatch step 0 ``count`` times, each but the last failing transiently."""
    commands: list[Command] = []
    at = DUE0
    for attempt in range(1, count + 1):
        commands.append(dispatched(0, at))
        if attempt < count:
            commands.append(failed(0, at))
            at += timedelta(hours=2)  # past any backoff
    return commands, at


def test_the_backoff_grows_with_the_attempts() -> None:
    # Given attempt 4 dispatched after three transient failures
    commands, at = transient_attempts(4)
    execution = given(*started(*commands))
    assert execution.step(0).attempts == 4
    # When it fails transiently too
    execution.record_failure(0, "busy", False, at)
    # Then a fifth attempt is scheduled, 30 s * 2**3 later
    assert then(execution) == [
        ("WorkflowExecution.StepFailed",
         {"step_no": 0, "reason": "busy", "permanent": False, "at": at}),
        scheduled(0, at + timedelta(seconds=240), "retry 5 after a transient failure"),
    ]


def test_after_the_last_attempt_a_transient_failure_dead_letters_the_step() -> None:
    # Given attempt MAX_SEND_ATTEMPTS dispatched
    commands, at = transient_attempts(MAX_SEND_ATTEMPTS)
    execution = given(*started(*commands))
    assert execution.step(0).attempts == MAX_SEND_ATTEMPTS
    # When it fails transiently
    execution.record_failure(0, "busy", False, at + minutes(1))
    # Then the step is dead-lettered and the execution holds there: nothing else is scheduled
    assert then(execution) == [
        ("WorkflowExecution.StepFailed",
         {"step_no": 0, "reason": "busy", "permanent": False, "at": at + minutes(1)}),
        ("WorkflowExecution.StepDeadLettered",
         {"step_no": 0, "reason": "busy", "attempts": MAX_SEND_ATTEMPTS, "at": at + minutes(1)}),
    ]
    assert execution.status == "paused"
    assert execution.dead_letter == 0
    assert execution.status_reason == (f"step 1 dead-lettered after {MAX_SEND_ATTEMPTS} "
                                       "attempts: busy")
    assert execution.due_step(at + timedelta(days=30)) is None
    assert execution.next_due_at() is None


def dead_lettered() -> tuple[list[Command], datetime]:
    commands, at = transient_attempts(MAX_SEND_ATTEMPTS)
    return [*commands, failed(0, at)], at


def test_replay_sends_the_dead_lettered_step_again_with_fresh_attempts() -> None:
    # Given step 0 dead-lettered
    commands, at = dead_lettered()
    execution = given(*started(*commands))
    # When the agent replays it
    replayed = execution.replay(at + minutes(30), by=ANN)
    # Then it is due now, active again, and may fail transiently MAX_SEND_ATTEMPTS more times;
    # the replay names who asked for it
    assert replayed == 0
    assert then(execution) == [
        ("WorkflowExecution.DeadLetterReplayed", {"step_no": 0, "at": at + minutes(30),
                                                  "by": ANN}),
        scheduled(0, at + minutes(30), "replayed from the dead-letter list"),
    ]
    assert execution.is_active and execution.dead_letter is None
    execution.dispatch(0, MSG[0], at + minutes(30))
    execution.record_failure(0, "busy", False, at + minutes(31))
    assert execution.dead_letter is None and execution.is_active  # a retry, not a dead letter
    assert execution.next_due_at() == at + minutes(31) + timedelta(seconds=30)


def test_replay_then_success_moves_on() -> None:
    commands, at = dead_lettered()
    execution = given(*started(*commands, lambda e: e.replay(at), dispatched(0, at)))
    execution.record_sent(0, MSG[0], at + minutes(1))
    assert execution.step(0).status == "sent"
    assert execution.current_step == 1
    assert execution.next_due_at() == at + minutes(61)


@pytest.mark.parametrize("history", [(), (paused(T0),)], ids=["active", "paused"])
def test_replay_without_a_dead_letter_is_refused(history: tuple[Command, ...]) -> None:
    execution = given(*started(*history))
    before = state(execution)
    with pytest.raises(InvalidState, match="no dead-lettered step"):
        execution.replay(T0 + minutes(5))
    assert state(execution) == before and then(execution) == []


def test_resume_of_a_dead_lettered_execution_points_to_replay() -> None:
    commands, at = dead_lettered()
    execution = given(*started(*commands))
    with pytest.raises(InvalidState, match="step 1 is dead-lettered: replay it"):
        execution.resume("shift", at + minutes(5))
    assert then(execution) == []


@pytest.mark.parametrize("end", ["cancel", "restart"])
def test_cancel_or_restart_clears_the_dead_letter(end: str) -> None:
    commands, at = dead_lettered()
    execution = given(*started(*commands))
    if end == "cancel":
        assert execution.cancel("agent gave up", at + minutes(5))
    else:
        execution.restart("try again", at + minutes(5))
        assert execution.is_active and execution.next_due_at() is not None
    assert execution.dead_letter is None
    with pytest.raises(InvalidState):
        execution.replay(at + minutes(6))


def test_exhausted_retries_of_a_cancelled_execution_dead_letter_nothing() -> None:
    commands, at = transient_attempts(MAX_SEND_ATTEMPTS)
    execution = given(*started(*commands, cancelled(at)))
    execution.record_failure(0, "busy", False, at + minutes(1))
    assert names(execution.collect_events()) == ["WorkflowExecution.StepFailed"]
    assert execution.dead_letter is None


def test_a_permanent_failure_moves_on_to_the_next_step() -> None:
    # Given
    execution = given(*started(dispatched(0, DUE0)))
    # When
    execution.record_failure(0, "no such mailbox", True, DUE0 + minutes(1))
    # Then
    assert then(execution) == [
        ("WorkflowExecution.StepFailed", {"step_no": 0, "reason": "no such mailbox",
                                          "permanent": True, "at": DUE0 + minutes(1)}),
        scheduled(1, DUE0 + minutes(61), "1 hour after the previous step"),
    ]


def test_a_permanent_failure_of_the_last_step_completes_the_execution() -> None:
    # Given a one-step execution, its step dispatched
    execution = given(*started(dispatched(0, DUE0), steps=STEPS[:1]))
    # When
    execution.record_failure(0, "blocked", True, DUE0)
    # Then
    assert then(execution) == [
        ("WorkflowExecution.StepFailed",
         {"step_no": 0, "reason": "blocked", "permanent": True, "at": DUE0}),
        ("WorkflowExecution.Completed", {"at": DUE0}),
    ]
    assert execution.status == "completed"


def test_record_failure_refuses_a_step_not_dispatched() -> None:
    # Given step 0 only scheduled
    execution = given(*started())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.record_failure(0, "busy", False, DUE0)
    assert refused.value.field == "step"
    assert then(execution) == []


@pytest.mark.parametrize("permanent", [False, True])
def test_a_failure_in_flight_when_paused_schedules_nothing(permanent: bool) -> None:
    # Given step 0 dispatched, then the execution paused
    execution = given(*started(dispatched(0, DUE0), paused(DUE0)))
    # When the provider's answer is a failure
    execution.record_failure(0, "busy", permanent, DUE0 + minutes(1))
    # Then it is recorded, and neither a retry nor the next step is scheduled
    assert then(execution) == [("WorkflowExecution.StepFailed", {
        "step_no": 0, "reason": "busy", "permanent": permanent, "at": DUE0 + minutes(1)})]
    assert execution.status == "paused"


# pause / cancel ------------------------------------------------------------------


def test_pause_records_why_and_when() -> None:
    # Given
    execution = given(*started())
    # When
    done = execution.pause("lead asked to wait", T0 + minutes(5), by=ANN)
    # Then
    assert done is True
    assert then(execution) == [("WorkflowExecution.Paused",
                                {"reason": "lead asked to wait", "at": T0 + minutes(5),
                                 "by": ANN})]
    assert execution.status == "paused"
    assert execution.status_reason == "lead asked to wait"
    assert execution.is_live and not execution.is_active


@pytest.mark.parametrize("history", [
    (paused(T0),),
    (cancelled(T0),),
    (dispatched(0, DUE0), sent(0, DUE0), dispatched(1, DUE0 + minutes(60)),
     sent(1, DUE0 + minutes(60)), dispatched(2, DUE0 + minutes(1500)),
     sent(2, DUE0 + minutes(1500))),
], ids=["paused", "cancelled", "completed"])
def test_pause_when_not_active_records_nothing(history: tuple[Command, ...]) -> None:
    # Given
    execution = given(*started(*history))
    before = state(execution)
    # When
    done = execution.pause("again", T0 + timedelta(days=9))
    # Then
    assert done is False
    assert then(execution) == []
    assert state(execution) == before


@pytest.mark.parametrize(("history", "in_flight"),
                         [((), None), ((paused(T0),), None), ((dispatched(0, DUE0),), 0)],
                         ids=["active", "paused", "in-flight"])
def test_cancel_records_why_and_when(history: tuple[Command, ...], in_flight: int | None) -> None:
    # Given a live execution
    execution = given(*started(*history))
    # When
    done = execution.cancel("lead closed", DUE0 + minutes(3), by=ANN)
    # Then it says which step, if any, was in flight (its outcome may still follow), and who
    assert done is True
    assert then(execution) == [("WorkflowExecution.Cancelled",
                                {"reason": "lead closed", "at": DUE0 + minutes(3),
                                 "in_flight": in_flight, "by": ANN})]
    assert execution.status == "cancelled"
    assert execution.status_reason == "lead closed"
    assert execution.completed_at == DUE0 + minutes(3)
    assert not execution.is_live


@pytest.mark.parametrize("history", [
    (cancelled(T0),),
    (paused(T0), cancelled(T0)),
    (dispatched(0, DUE0), failed(0, DUE0, permanent=True)),
], ids=["cancelled", "paused-then-cancelled", "completed"])
def test_cancel_when_not_live_records_nothing(history: tuple[Command, ...]) -> None:
    # Given
    execution = given(*started(*history, steps=STEPS[:1]))
    before = state(execution)
    # When
    done = execution.cancel("again", T0 + timedelta(days=9))
    # Then
    assert done is False
    assert then(execution) == []
    assert state(execution) == before


# hold / release (a paused workflow) ------------------------------------------------


def held(step: int, at: datetime) -> Command:
    return lambda e: e.hold(step, "the workflow is paused", at)


def test_hold_records_once_that_the_due_step_waits_for_its_workflow() -> None:
    # Given step 0 due at DUE0, its workflow paused
    execution = given(*started())
    # When the sender finds it due, and again when the index offers it after its lease
    first = execution.hold(0, "the workflow is paused", DUE0)
    again = execution.hold(0, "the workflow is paused", DUE0 + minutes(2))
    # Then the hold is recorded once
    assert (first, again) == (True, False)
    assert then(execution) == [("WorkflowExecution.StepHeld", {
        "step_no": 0, "reason": "the workflow is paused", "at": DUE0})]
    assert execution.held_step == 0 and execution.due_step(DUE0) == 0


def test_hold_refuses_a_step_not_due() -> None:
    # Given step 0 due at DUE0
    execution = given(*started())
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.hold(0, "the workflow is paused", T0)
    assert refused.value.reason == "step 1 is not due"
    assert then(execution) == []


def test_release_makes_the_held_step_due_now() -> None:
    # Given step 0 held since DUE0
    execution = given(*started(held(0, DUE0)))
    at = DUE0 + minutes(45)
    # When the workflow resumes
    released = execution.release(at)
    # Then the step is due at once, at the lead's score
    assert released is True
    assert then(execution) == [("WorkflowExecution.StepReleased", {
        "step_no": 0, "due_at": at, "reason": "the workflow resumed", "priority": 80})]
    assert execution.held_step is None and execution.next_due_at() == at


def test_release_waits_for_the_steps_send_window() -> None:
    # Given step 0 (08:00-21:00 only) held; the workflow resumes at 22:00 UTC
    execution = given(*started(held(0, DUE0), steps=[dict(STEPS[0], window=DAYTIME)]))
    at = datetime(2026, 1, 5, 22, 0, tzinfo=T0.tzinfo)
    # When
    execution.release(at)
    # Then it is due at the window's next opening
    [(_, fields)] = then(execution)
    assert fields["due_at"] == datetime(2026, 1, 6, 8, 0, tzinfo=T0.tzinfo)
    assert fields["reason"] == "the workflow resumed, moved to its send window"


@pytest.mark.parametrize("history", [
    (), (held(0, DUE0), dispatched(0, DUE0 + minutes(2))), (held(0, DUE0), paused(DUE0)),
    (held(0, DUE0), cancelled(DUE0)),
], ids=["never-held", "dispatched-since", "paused-since", "cancelled-since"])
def test_release_without_a_held_step_records_nothing(history: tuple[Command, ...]) -> None:
    # Given
    execution = given(*started(*history))
    # When / Then
    assert execution.release(DUE0 + minutes(5)) is False
    assert then(execution) == []


def test_a_step_held_again_after_a_new_schedule_is_recorded_again() -> None:
    # Given step 0 held, then brought forward by the agent (send now) during the pause
    execution = given(*started(held(0, DUE0), lambda e: e.send_now(DUE0 + minutes(1))))
    # When the sender finds it due again
    recorded = execution.hold(0, "the workflow is paused", DUE0 + minutes(1))
    # Then that is a new hold, on the record
    assert recorded is True
    assert [name for name, _ in then(execution)] == ["WorkflowExecution.StepHeld"]


def test_replaying_a_hold_and_its_release_rebuilds_the_same_execution() -> None:
    # Given an execution held, released and held again
    execution = start()
    execution.hold(0, "the workflow is paused", DUE0)
    execution.release(DUE0 + minutes(5))
    execution.hold(0, "the workflow is paused", DUE0 + minutes(6))
    events = execution.collect_events()
    # When / Then
    assert state(given(*events)) == state(execution)


# replay ----------------------------------------------------------------------------


def test_replaying_an_executions_events_rebuilds_the_same_execution() -> None:
    # Given an execution that sent, retried, gave up and was cancelled
    execution = start()
    execution.dispatch(0, MSG[0], DUE0)
    execution.record_failure(0, "busy", False, DUE0)
    execution.dispatch(0, MSG[0], DUE0 + minutes(1))
    execution.record_sent(0, MSG[0], DUE0 + minutes(2))
    execution.dispatch(1, MSG[1], DUE0 + minutes(62))
    execution.record_failure(1, "bad number", True, DUE0 + minutes(63))
    execution.pause("wait", DUE0 + minutes(64))
    execution.cancel("closed", DUE0 + minutes(65))
    events = execution.collect_events()
    # When
    replayed = given(*events)
    # Then
    assert state(replayed) == state(execution)
    assert replayed.version == len(events) == 12


def test_a_step_sent_stored_before_it_carried_the_next_schedule_reads_as_carrying_none() -> None:
    # Given a StepSent as version 1 stored it (no next_* fields, no class_version)
    mapper = Application[UUID]().mapper  # the library's transcoder, as the app's is
    state_v1 = {"step_no": 0, "message_id": MSG[0], "sent_at": DUE0, "timestamp": DUE0,
                "originator_topic": "followup.execution"}
    stored = StoredEvent(originator_id=EXECUTION_ID, originator_version=4,
                         topic="followup.execution.step_sent",
                         state=mapper.transcoder.encode(state_v1))
    # When it is read
    event = mapper.to_domain_event(stored)
    # Then it is today's StepSent with nothing scheduled, and it still folds
    assert isinstance(event, WorkflowExecution.StepSent)
    assert (event.next_step, event.next_due_at, event.next_reason, event.next_priority) == (
        None, None, None, None)
    execution = given(*started(dispatched(0, DUE0)))
    event.mutate(execution)
    assert execution.step(0).status == "sent" and execution.step(1).status == "pending"


def test_the_step_state_is_typed_and_built_from_the_steps_as_stored() -> None:
    # Given an execution's first events as they are stored (the steps as plain data, a
    # step with no conditions or window keys, as older versions froze them)
    mapper = Application[UUID]().mapper
    steps = [{"channel": "email", "template_id": STEPS[0]["template_id"], "delay_minutes": 30},
             {**STEPS[1], "conditions": [{"kind": "score_at_least", "value": 50}],
              "window": {"start": "09:00", "end": "17:00"}}]
    events = started(dispatched(0, DUE0), steps=steps)
    stored = [mapper.to_stored_event(e) for e in events]
    # When they are read back and replayed
    decoded = [mapper.to_domain_event(s) for s in stored]
    execution = given(*decoded)
    # Then the started event still carries the steps as dicts, and the execution holds each
    # step as a typed value with its status as an enum
    assert decoded[0].steps == steps
    first, second = execution.steps
    assert isinstance(first, StepState) and first.status is StepStatus.DISPATCHED
    assert (first.attempts, first.message_id, first.dispatched_at) == (1, MSG[0], DUE0)
    assert (first.conditions, first.window) == ([], None)
    assert second.status is StepStatus.PENDING and second.spec() == steps[1]


def test_a_restart_rebuilds_each_step_from_its_spec_alone() -> None:
    # Given step 0 sent and step 1 failed for good
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0 + minutes(1))))
    execution.dispatch(1, MSG[1], DUE0 + minutes(61))
    execution.record_failure(1, "bad number", True, DUE0 + minutes(62))
    # When it restarts
    execution.restart("agent asked", DUE0 + minutes(63))
    # Then every step is as its version defined it, with nothing sent, step 0 scheduled
    assert [s.spec() for s in execution.steps] == [
        {**{"conditions": [], "window": None}, **s} for s in STEPS]
    assert [s.status for s in execution.steps] == ["scheduled", "pending", "pending"]
    assert all(s.attempts == 0 and s.failure is None and s.message_id is None
               for s in execution.steps)


# A sender that died during the provider call ------------------------------------

TIMEOUT = minutes(2)


def test_a_dispatch_is_stale_only_after_the_timeout() -> None:
    execution = given(*started(dispatched(0, DUE0)))
    assert execution.stale_dispatch(DUE0 + minutes(1), TIMEOUT) is None
    assert execution.stale_dispatch(DUE0 + TIMEOUT, TIMEOUT) == 0


def test_an_unknown_outcome_is_recorded_and_the_execution_moves_on() -> None:
    # Given step 0 dispatched at its due time, with no outcome since
    execution = given(*started(dispatched(0, DUE0)))
    at = DUE0 + minutes(3)
    # When the stale dispatch is given up
    execution.record_unknown_outcome(0, "sender died", at, TIMEOUT)
    # Then it says so, and step 1 is scheduled from then
    assert then(execution) == [
        ("WorkflowExecution.StepOutcomeUnknown", {"step_no": 0, "reason": "sender died", "at": at}),
        scheduled(1, at + minutes(60), "1 hour after the previous step"),
    ]


def test_a_fresh_dispatch_cannot_be_given_up_or_redispatched() -> None:
    execution = given(*started(dispatched(0, DUE0)))
    with pytest.raises(InvalidState):
        execution.record_unknown_outcome(0, "x", DUE0 + minutes(1), TIMEOUT)
    with pytest.raises(InvalidState):
        execution.redispatch(0, DUE0 + minutes(1), TIMEOUT)
    assert then(execution) == []


def test_a_stale_dispatch_is_redispatched_as_the_next_attempt_with_the_same_message() -> None:
    execution = given(*started(dispatched(0, DUE0)))
    at = DUE0 + minutes(5)
    assert execution.redispatch(0, at, TIMEOUT) == 2
    assert then(execution) == [("WorkflowExecution.StepDispatched",
                                {"step_no": 0, "message_id": MSG[0], "attempt": 2, "at": at})]


def test_a_paused_execution_is_not_redispatched() -> None:
    execution = given(*started(dispatched(0, DUE0), paused(DUE0)))
    with pytest.raises(InvalidState):
        execution.redispatch(0, DUE0 + minutes(5), TIMEOUT)


# Send windows and delayed triggers ------------------------------------------------

NY = "America/New_York"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYTIME = {"start": "08:00", "end": "21:00", "weekdays": EVERY_DAY}


def in_window(step: dict[str, Any], window: dict[str, Any] = DAYTIME) -> dict[str, Any]:
    return dict(step, window=window)


def test_a_due_time_outside_the_window_moves_to_its_next_opening_in_the_leads_zone() -> None:
    # Given T0 is Monday 04:00 in New York; step 0 is due 30 min later, before 08:00
    # When
    execution = start([in_window(STEPS[0])], timezone=NY)
    # Then
    assert then(execution)[1] == first_touch(
        datetime(2026, 1, 5, 13, 0, tzinfo=T0.tzinfo),
        "30 min after the start, moved to the send window opening Mon 08:00 "
        "America/New_York (outside 08:00-21:00)")


def test_a_window_on_some_weekdays_says_so() -> None:
    # Given a window on Saturdays only
    window = dict(DAYTIME, weekdays=["sat"])
    # When
    execution = start([in_window(STEPS[0], window)], timezone=NY)
    # Then the step waits for Saturday 08:00 in New York
    assert then(execution)[1] == first_touch(
        datetime(2026, 1, 10, 13, 0, tzinfo=T0.tzinfo),
        "30 min after the start, moved to the send window opening Sat 08:00 "
        "America/New_York (outside 08:00-21:00 on allowed days)")


def test_a_due_time_inside_the_window_stays() -> None:
    # Given T0 is 09:00 in Lisbon (UTC in winter)
    # When
    execution = start([in_window(STEPS[0])], timezone="Europe/Lisbon")
    # Then
    assert then(execution)[1] == first_touch( DUE0, "30 min after the start")


def test_a_delayed_trigger_adds_its_delay_to_the_first_step() -> None:
    # When
    execution = start(first_delay_minutes=90)
    # Then
    assert then(execution)[1] == first_touch( T0 + minutes(120),
                                           "delayed trigger, 2 hours after the start")


def test_a_delayed_trigger_then_the_window() -> None:
    # Given T0 is 04:00 in New York; with a 60 min trigger delay step 0 is due at 05:30
    # When
    execution = start([in_window(STEPS[0])], timezone=NY, first_delay_minutes=60)
    # Then
    assert then(execution)[1] == first_touch(
        datetime(2026, 1, 5, 13, 0, tzinfo=T0.tzinfo),
        "delayed trigger, 90 min after the start, moved to the send window opening "
        "Mon 08:00 America/New_York (outside 08:00-21:00)")


def test_the_next_step_is_moved_into_its_window_too() -> None:
    # Given step 0 sent at 20:30 in New York (01:30 UTC the next day)
    steps = [STEPS[0], in_window(STEPS[1])]
    sent_at = datetime(2026, 1, 6, 1, 30, tzinfo=T0.tzinfo)
    execution = start(steps, timezone=NY)
    execution.dispatch(0, MSG[0], sent_at)
    execution = given(*execution.collect_events())
    # When
    execution.record_sent(0, MSG[0], sent_at)
    # Then step 1, due an hour later at 21:30, waits for 08:00
    assert then(execution) == [step_sent(0, sent_at, scheduled(
        1, datetime(2026, 1, 6, 13, 0, tzinfo=T0.tzinfo),
        "1 hour after the previous step, moved to the send window opening Tue 08:00 "
        "America/New_York (outside 08:00-21:00)"))]


def test_the_delay_counts_elapsed_time_across_a_daylight_saving_change() -> None:
    # Given a start on Saturday 7 March 2026 at 12:00 in New York (17:00 UTC); clocks go
    # forward on Sunday
    at = datetime(2026, 3, 7, 17, 0, tzinfo=T0.tzinfo)
    # When step 0 is due a day later
    execution = start([dict(STEPS[0], delay_minutes=1440)], now=at, timezone=NY)
    # Then it is due 24 hours later (13:00 local), not at 12:00 local
    assert then(execution)[1] == first_touch( at + timedelta(days=1),
                                           "1 day after the start")


# skip ------------------------------------------------------------------------------


def skipped(step: int, at: datetime, reason: str,
            by: str | None = None) -> tuple[str, dict[str, Any]]:
    return ("WorkflowExecution.StepSkipped",
            {"step_no": step, "reason": reason, "at": at, "by": by})


def test_skip_records_why_and_schedules_the_next_step() -> None:
    # Given step 0 scheduled for DUE0
    execution = given(*started())
    at = T0 + minutes(5)
    # When the agent skips it before it is due
    execution.skip(0, "agent called instead", at, by=ANN)
    # Then step 1 is scheduled from the skip
    assert then(execution) == [skipped(0, at, "agent called instead", by=ANN),
                               scheduled(1, at + minutes(60), "1 hour after the previous step")]
    assert execution.step(0).status == "skipped"
    assert execution.step(0).failure == "agent called instead"
    assert execution.current_step == 1


def test_skip_of_the_last_step_completes_the_execution() -> None:
    # Given a one-step execution
    execution = given(*started(steps=STEPS[:1]))
    # When
    execution.skip(0, "lead opted out of email", DUE0)
    # Then
    assert then(execution) == [skipped(0, DUE0, "lead opted out of email"),
                               ("WorkflowExecution.Completed", {"at": DUE0})]
    assert execution.status == "completed"
    assert execution.completed_at == DUE0


def test_skip_while_paused_records_it_and_schedules_nothing() -> None:
    # Given a paused execution, step 0 scheduled
    execution = given(*started(paused(T0)))
    # When
    execution.skip(0, "agent's choice", T0 + minutes(1))
    # Then
    assert then(execution) == [skipped(0, T0 + minutes(1), "agent's choice")]
    assert execution.status == "paused"
    assert execution.step(1).status == "pending"


@pytest.mark.parametrize(("history", "step", "error", "says"), [
    ((), 1, InvalidState, "step 2 is pending, not scheduled"),
    ((dispatched(0, DUE0),), 0, InvalidState, "step 1 is dispatched, not scheduled"),
    ((), 3, InvalidValue, "no step 4"),
    ((), -1, InvalidValue, "no step 0"),
], ids=["pending", "dispatched", "past-the-last", "negative"])
def test_skip_refuses_what_is_not_the_scheduled_step(history: tuple[Command, ...], step: int,
                                                     error: type[Exception], says: str) -> None:
    # Given
    execution = given(*started(*history))
    # When / Then: the step is named as the agent counts it, from 1
    with pytest.raises(error) as refused:
        execution.skip(step, "no", DUE0)
    assert refused.value.field == "step"  # type: ignore[attr-defined]
    assert refused.value.reason == says  # type: ignore[attr-defined]
    assert then(execution) == []


@pytest.mark.parametrize(("history", "status"), [
    ((cancelled(T0),), "cancelled"),
    ((dispatched(0, DUE0), sent(0, DUE0), dispatched(1, DUE0 + minutes(60)),
      sent(1, DUE0 + minutes(60)), dispatched(2, DUE0 + minutes(1500)),
      sent(2, DUE0 + minutes(1500))), "completed"),
], ids=["cancelled", "completed"])
def test_skip_of_an_ended_execution_says_it_has_ended(history: tuple[Command, ...],
                                                      status: str) -> None:
    # Given an execution that has ended
    execution = given(*started(*history))
    assert execution.status == status
    # When the agent skips its current step / Then the reason is the execution's status
    with pytest.raises(InvalidState) as refused:
        execution.skip(execution.current_step, "no", DUE0 + minutes(2000))
    assert (refused.value.field, refused.value.reason) == ("status",
                                                           f"the execution is {status}")
    assert then(execution) == []


# send_now --------------------------------------------------------------------------


def test_send_now_brings_the_scheduled_step_forward() -> None:
    # Given step 0 scheduled for DUE0
    execution = given(*started())
    at = T0 + minutes(1)
    # When
    step = execution.send_now(at, by=ANN)
    # Then the schedule names who brought it forward
    assert step == 0
    assert then(execution) == [scheduled(0, at, "sent now by the agent", by=ANN)]
    assert execution.due_step(at) == 0


def test_send_now_overrides_the_window() -> None:
    # Given step 0 waiting for the window to open at 08:00 in New York
    execution = start([in_window(STEPS[0])], timezone=NY)
    execution = given(*execution.collect_events())
    # When
    execution.send_now(T0)
    # Then: it goes now, and the log says it bypassed the window
    assert then(execution) == [scheduled(
        0, T0, "sent now by the agent, bypassing its send window 08:00-21:00")]


@pytest.mark.parametrize(("history", "field"), [
    ((paused(T0),), "status"),
    ((cancelled(T0),), "status"),
    ((dispatched(0, DUE0), sent(0, DUE0)), "status"),
    ((dispatched(0, DUE0),), "step"),
], ids=["paused", "cancelled", "completed", "in-flight"])
def test_send_now_refuses_without_a_scheduled_step_of_an_active_execution(
        history: tuple[Command, ...], field: str) -> None:
    # Given a one-step execution
    execution = given(*started(*history, steps=STEPS[:1]))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.send_now(DUE0 + minutes(1))
    assert refused.value.field == field
    assert then(execution) == []


# resume ----------------------------------------------------------------------------


def resumed(policy: str, at: datetime, by: str | None = None) -> tuple[str, dict[str, Any]]:
    return ("WorkflowExecution.Resumed", {"policy": policy, "at": at, "by": by})


@pytest.mark.parametrize("policy", ["", "later", "SHIFT"])
def test_resume_refuses_an_unknown_policy(policy: str) -> None:
    # Given a paused execution
    execution = given(*started(paused(T0)))
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        execution.resume(policy, T0)
    assert refused.value.field == "policy"
    assert then(execution) == []


@pytest.mark.parametrize("history", [
    (), (cancelled(T0),), (paused(T0), cancelled(T0)),
    (dispatched(0, DUE0), sent(0, DUE0)),
], ids=["active", "cancelled", "paused-then-cancelled", "completed"])
def test_resume_refuses_what_is_not_paused(history: tuple[Command, ...]) -> None:
    # Given a one-step execution
    execution = given(*started(*history, steps=STEPS[:1]))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.resume("shift", DUE0)
    assert refused.value.field == "status"
    assert then(execution) == []


def test_resume_with_shift_moves_the_step_by_the_time_spent_paused() -> None:
    # Given step 0 due at DUE0, paused 5 min after the start
    execution = given(*started(paused(T0 + minutes(5))))
    at = T0 + minutes(65)
    # When resumed an hour later
    execution.resume("shift", at)
    # Then
    assert then(execution) == [resumed("shift", at),
                               scheduled(0, DUE0 + minutes(60), "shifted by 1 hour spent paused")]
    assert execution.status == "active"
    assert execution.status_reason is None
    assert execution.paused_at is None
    assert execution.next_due_at() == DUE0 + minutes(60)


def test_resume_with_shift_says_how_long_the_pause_was() -> None:
    # Given
    execution = given(*started(paused(T0)))
    span = timedelta(days=2, hours=3, minutes=4)
    # When
    execution.resume("shift", T0 + span)
    # Then
    assert then(execution)[1] == scheduled(0, DUE0 + span,
                                           "shifted by 2 days 3 hours 4 min spent paused")


def test_a_pause_of_seconds_reads_as_under_a_minute() -> None:
    execution = given(*started(paused(T0)))
    execution.resume("shift", T0 + timedelta(seconds=40))
    assert then(execution)[1] == scheduled(0, DUE0 + timedelta(seconds=40),
                                           "shifted by under a minute spent paused")


def test_resume_with_shift_never_schedules_before_now() -> None:
    # Given step 0 already 10 min overdue when paused
    execution = given(*started(paused(DUE0 + minutes(10))))
    at = DUE0 + minutes(70)
    # When resumed an hour later (the shift alone would give DUE0 + 60 min)
    execution.resume("shift", at)
    # Then
    assert then(execution) == [resumed("shift", at),
                               scheduled(0, at, "shifted by 1 hour spent paused")]


@pytest.mark.parametrize("late", [minutes(0), minutes(1), timedelta(days=3)])
def test_resume_with_skip_overdue_skips_a_step_due_by_now(late: timedelta) -> None:
    # Given step 0 due at DUE0, paused before
    execution = given(*started(paused(T0 + minutes(5))))
    at = DUE0 + late
    # When the agent resumes it
    execution.resume("skip_overdue", at, by=ANN)
    # Then the resume names them; the skip and the schedule that follow are the execution's
    assert then(execution) == [resumed("skip_overdue", at, by=ANN),
                               skipped(0, at, "overdue when resumed", by=None),
                               scheduled(1, at + minutes(60), "1 hour after the previous step")]


def test_resume_with_skip_overdue_keeps_a_step_not_yet_due() -> None:
    # Given
    execution = given(*started(paused(T0 + minutes(5))))
    at = DUE0 - minutes(1)
    # When
    execution.resume("skip_overdue", at)
    # Then
    assert then(execution) == [resumed("skip_overdue", at)]
    assert execution.next_due_at() == DUE0


def test_resume_with_skip_overdue_of_the_last_step_completes() -> None:
    # Given a one-step execution paused
    execution = given(*started(paused(T0), steps=STEPS[:1]))
    # When
    execution.resume("skip_overdue", DUE0)
    # Then
    assert then(execution) == [resumed("skip_overdue", DUE0),
                               skipped(0, DUE0, "overdue when resumed"),
                               ("WorkflowExecution.Completed", {"at": DUE0})]


def skip(step: int, at: datetime) -> Command:
    return lambda e: e.skip(step, "agent's choice", at)


@pytest.mark.parametrize("policy", ["shift", "skip_overdue"])
@pytest.mark.parametrize("history", [
    (dispatched(0, DUE0), paused(DUE0), sent(0, DUE0 + minutes(1))),
    (dispatched(0, DUE0), paused(DUE0), failed(0, DUE0 + minutes(1), permanent=True)),
    (paused(DUE0), skip(0, DUE0 + minutes(1))),
], ids=["sent", "failed", "skipped"])
def test_resume_after_the_step_finished_while_paused_schedules_the_next(
        policy: str, history: tuple[Command, ...]) -> None:
    # Given step 0 finished while the execution was paused
    execution = given(*started(*history))
    at = DUE0 + minutes(90)
    # When
    execution.resume(policy, at)
    # Then the next step is scheduled from the resume
    assert then(execution) == [resumed(policy, at),
                               scheduled(1, at + minutes(60), "1 hour after the previous step")]


@pytest.mark.parametrize("policy", ["shift", "skip_overdue"])
def test_resume_after_the_last_step_was_sent_while_paused_completes(policy: str) -> None:
    # Given a one-step execution whose send was recorded while paused
    execution = given(*started(dispatched(0, DUE0), paused(DUE0), sent(0, DUE0 + minutes(1)),
                               steps=STEPS[:1]))
    at = DUE0 + minutes(5)
    # When
    execution.resume(policy, at)
    # Then
    assert then(execution) == [resumed(policy, at), ("WorkflowExecution.Completed", {"at": at})]
    assert execution.status == "completed"


@pytest.mark.parametrize("policy", ["shift", "skip_overdue"])
def test_resume_with_a_send_in_flight_waits_for_its_outcome(policy: str) -> None:
    # Given step 0 dispatched, then paused
    execution = given(*started(dispatched(0, DUE0), paused(DUE0)))
    # When
    execution.resume(policy, DUE0 + minutes(5))
    # Then nothing is scheduled until the outcome arrives
    assert then(execution) == [resumed(policy, DUE0 + minutes(5))]
    execution.record_sent(0, MSG[0], DUE0 + minutes(6))
    assert then(execution) == [step_sent(0, DUE0 + minutes(6), scheduled(
        1, DUE0 + minutes(66), "1 hour after the previous step"))]


# migrate ---------------------------------------------------------------------------

NEW_STEPS = [
    dict(STEPS[0], delay_minutes=5),
    dict(STEPS[1], delay_minutes=120),
    STEPS[2],
    {"channel": "email", "template_id": "00000000-0000-4000-8000-0000000000c4",
     "delay_minutes": 10},
]


def migrated(version: int, steps: list[dict[str, Any]], at: datetime) -> Command:
    return lambda e: e.migrate(version, steps, at)


def test_migrate_replaces_the_steps_after_the_current_one() -> None:
    # Given step 0 scheduled for DUE0
    execution = given(*started())
    at = T0 + minutes(1)
    # When
    done = execution.migrate(2, NEW_STEPS, at)
    # Then
    assert done is True
    assert then(execution) == [("WorkflowExecution.Migrated",
                                {"workflow_version": 2, "steps": NEW_STEPS, "at": at})]
    assert execution.workflow_version == 2
    assert len(execution.steps) == 4
    # the current step is kept as it is (its old delay, its due time) ...
    assert execution.step(0).delay_minutes == 30
    assert execution.next_due_at() == DUE0
    # ... and the rest are the new version's, with nothing sent
    assert execution.step(1).delay_minutes == 120
    assert execution.step(3).status == "pending"


def test_after_a_migration_the_next_step_follows_the_new_version() -> None:
    # Given version 2 migrated to, step 0 dispatched
    execution = given(*started(migrated(2, NEW_STEPS, T0), dispatched(0, DUE0)))
    # When
    execution.record_sent(0, MSG[0], DUE0)
    # Then
    assert then(execution) == [step_sent(0, DUE0, scheduled(1, DUE0 + minutes(120),
                                                            "2 hours after the previous step"))]


def test_migrate_keeps_what_was_done_up_to_the_current_step() -> None:
    # Given step 0 sent and step 1 scheduled
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0)))
    # When
    execution.migrate(2, NEW_STEPS, DUE0 + minutes(1))
    # Then
    assert [s.status for s in execution.steps] == ["sent", "scheduled", "pending", "pending"]
    assert execution.step(1).delay_minutes == 60


def test_migrate_to_a_version_that_ends_at_the_current_step() -> None:
    # Given step 1 scheduled
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0)))
    # When migrated to a version of two steps, then step 1 is sent
    assert execution.migrate(2, NEW_STEPS[:2], DUE0) is True
    execution.dispatch(1, MSG[1], DUE0 + minutes(60))
    execution.collect_events()
    execution.record_sent(1, MSG[1], DUE0 + minutes(60))
    # Then the execution is complete
    assert names(execution.collect_events()) == ["WorkflowExecution.StepSent",
                                                 "WorkflowExecution.Completed"]


def test_migrate_refuses_a_version_with_fewer_steps_than_reached() -> None:
    # Given step 1 scheduled
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0)))
    # When / Then
    with pytest.raises(InvalidState) as refused:
        execution.migrate(2, NEW_STEPS[:1], DUE0)
    assert refused.value.field == "steps"
    assert then(execution) == []
    assert execution.workflow_version == 1


@pytest.mark.parametrize(("history", "version"), [
    ((), 1), ((), 0), ((cancelled(T0),), 2),
    ((dispatched(0, DUE0), sent(0, DUE0)), 2),
], ids=["same-version", "older-version", "cancelled", "completed"])
def test_migrate_that_does_not_apply_records_nothing(history: tuple[Command, ...],
                                                    version: int) -> None:
    # Given a one-step execution of version 1
    execution = given(*started(*history, steps=STEPS[:1]))
    before = state(execution)
    # When
    done = execution.migrate(version, NEW_STEPS, DUE0)
    # Then
    assert done is False
    assert then(execution) == []
    assert state(execution) == before


def test_a_paused_execution_migrates() -> None:
    # Given
    execution = given(*started(paused(T0)))
    # When / Then
    assert execution.migrate(2, NEW_STEPS, T0) is True
    assert execution.status == "paused"


# restart ---------------------------------------------------------------------------


@pytest.mark.parametrize("history", [
    (dispatched(0, DUE0), sent(0, DUE0), dispatched(1, DUE0 + minutes(60)),
     failed(1, DUE0 + minutes(60), permanent=True), dispatched(2, DUE0 + minutes(1500)),
     sent(2, DUE0 + minutes(1500))),
    (cancelled(T0),),
    (paused(T0),),
    (dispatched(0, DUE0), sent(0, DUE0), dispatched(1, DUE0 + minutes(60))),
], ids=["completed", "cancelled", "paused", "in-flight"])
def test_restart_begins_a_new_round_from_step_0(history: tuple[Command, ...]) -> None:
    # Given
    execution = given(*started(*history))
    at = T0 + timedelta(days=5)
    # When
    execution.restart("lead came back", at, by=ANN)
    # Then
    assert then(execution) == [
        ("WorkflowExecution.Restarted", {"reason": "lead came back", "at": at, "by": ANN}),
        scheduled(0, at + minutes(30), "restarted, 30 min after the start"),
    ]
    assert execution.round == 2
    assert execution.status == "active"
    assert execution.status_reason is None
    assert execution.completed_at is None
    assert execution.paused_at is None
    assert execution.current_step == 0
    assert [s.status for s in execution.steps] == ["scheduled", "pending", "pending"]
    assert all(s.attempts == 0 for s in execution.steps)


def test_a_restarted_step_is_dispatched_as_attempt_1_of_the_new_round() -> None:
    # Given step 0 sent in round 1, then a restart
    execution = given(*started(dispatched(0, DUE0), sent(0, DUE0),
                               lambda e: e.restart("again", DUE0)))
    round_2 = ids.message_id(EXECUTION_ID, 0, 1, 2)
    # When
    attempt = execution.dispatch(0, round_2, DUE0 + minutes(30))
    # Then
    assert attempt == 1
    assert round_2 != MSG[0]


def test_each_restart_counts_a_round() -> None:
    # Given
    execution = given(*started(lambda e: e.restart("1", T0), lambda e: e.restart("2", T0)))
    # When / Then
    assert execution.round == 3


# earlier_message -------------------------------------------------------------------

MAILS = [dict(STEPS[0], delay_minutes=0), dict(STEPS[0], delay_minutes=0), STEPS[2]]


def test_earlier_message_is_the_nearest_earlier_send_on_the_channel() -> None:
    # Given two emails sent
    execution = given(*started(dispatched(0, T0), sent(0, T0), dispatched(1, T0), sent(1, T0),
                               steps=MAILS))
    # When / Then
    assert execution.earlier_message(2, "email") == MSG[1]
    assert execution.earlier_message(1, "email") == MSG[0]
    assert execution.earlier_message(0, "email") is None
    assert execution.earlier_message(2, "sms") is None


def test_earlier_message_passes_over_a_step_that_was_not_sent() -> None:
    # Given email 0 sent, email 1 failed
    execution = given(*started(dispatched(0, T0), sent(0, T0), dispatched(1, T0),
                               failed(1, T0, permanent=True), steps=MAILS))
    # When / Then
    assert execution.earlier_message(2, "email") == MSG[0]


def test_earlier_message_is_none_when_nothing_was_sent() -> None:
    # Given email 0 skipped
    execution = given(*started(skip(0, T0), steps=MAILS))
    # When / Then
    assert execution.earlier_message(1, "email") is None


# replay of the newer commands ----------------------------------------------------


def test_replaying_overrides_and_rounds_rebuilds_the_same_execution() -> None:
    # Given an execution through skip, send_now, pause/resume, migrate and restart
    execution = start([in_window(s) for s in STEPS], timezone=NY)
    execution.skip(0, "agent's choice", T0)
    execution.send_now(T0 + minutes(1))
    execution.pause("wait", T0 + minutes(2))
    execution.resume("shift", T0 + minutes(3))
    execution.pause("wait", T0 + minutes(4))
    execution.resume("skip_overdue", T0 + minutes(5))
    execution.migrate(2, NEW_STEPS, T0 + minutes(6))
    execution.restart("again", T0 + minutes(7))
    events = execution.collect_events()
    # When
    replayed = given(*events)
    # Then
    assert state(replayed) == state(execution)
    assert replayed.version == len(events)


# priority ----------------------------------------------------------------------


def test_a_backfilled_first_step_carries_the_leads_score_not_urgency() -> None:
    execution = WorkflowExecution.start(
        execution_id=EXECUTION_ID, lead_id=LEAD_ID, workflow_id=WORKFLOW_ID, workflow_version=1,
        steps=STEPS, trigger={"kind": "backfill", "new": 64}, timezone="UTC", now=T0)
    [_, first] = execution.collect_events()
    assert first.priority == 64


def test_the_next_step_carries_the_score_the_sender_saw_and_the_log_remembers_it() -> None:
    # Given step 0 dispatched
    execution = given(*started(dispatched(0, DUE0)))
    # When it is sent while the lead's score is 45
    execution.record_sent(0, MSG[0], DUE0, score=45)
    # Then step 1 carries 45; an override without a fresh score keeps it, even after a reload
    assert then(execution) == [
        step_sent(0, DUE0, scheduled(1, DUE0 + minutes(60), "1 hour after the previous step", 45)),
    ]
    reloaded = given(*started(dispatched(0, DUE0), lambda e: e.record_sent(0, MSG[0], DUE0,
                                                                             score=45)))
    reloaded.send_now(DUE0 + minutes(1))
    assert [e.priority for e in reloaded.collect_events()] == [45]


def test_a_retry_of_the_first_touch_is_no_longer_urgent() -> None:
    execution = given(*started(dispatched(0, DUE0)))
    execution.record_failure(0, "busy", False, DUE0)
    [_, retry] = execution.collect_events()
    assert retry.priority == 80  # the lead's score at the trigger
