"""WorkflowExecution: start, dispatch, record_sent, record_failure, pause, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import ids
from domain.errors import InvalidState
from domain.execution import MAX_SEND_ATTEMPTS, WorkflowExecution
from tests.unit.conftest import T0, given, state, then

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


def start(steps: list[dict[str, Any]] = STEPS, now: datetime = T0) -> WorkflowExecution:
    return WorkflowExecution.start(execution_id=EXECUTION_ID, lead_id=LEAD_ID,
                                   workflow_id=WORKFLOW_ID, workflow_version=1, steps=steps,
                                   trigger=TRIGGER, now=now)


def started(*commands: Command, steps: list[dict[str, Any]] = STEPS) -> list[Any]:
    """The events of an execution started at T0 and then driven by ``commands``."""
    execution = start(steps)
    for command in commands:
        command(execution)
    return list(execution.collect_events())


# Step 0 falls due at T0 + 30 min; sent then, step 1 falls due 60 min later.
DUE0 = T0 + minutes(30)


def scheduled(step: int, due: datetime, reason: str) -> tuple[str, dict[str, Any]]:
    return ("WorkflowExecution.StepScheduled", {"step_no": step, "due_at": due, "reason": reason})


# start -----------------------------------------------------------------------


def test_start_records_the_execution_and_schedules_step_0_after_its_delay() -> None:
    # Given no execution
    # When
    execution = start()
    # Then
    assert then(execution) == [
        ("WorkflowExecution.Created", {
            "lead_id": LEAD_ID, "workflow_id": WORKFLOW_ID, "workflow_version": 1,
            "steps": STEPS, "trigger": TRIGGER, "started_at": T0,
        }),
        scheduled(0, DUE0, "delay after start (30 min)"),
    ]
    assert execution.id == EXECUTION_ID
    assert execution.is_active and execution.is_live
    assert execution.current_step == 0
    assert execution.next_due_at() == DUE0
    assert [s["status"] for s in execution.steps] == ["scheduled", "pending", "pending"]
    assert all(s["attempts"] == 0 for s in execution.steps)


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
    assert then(execution)[1] == scheduled(0, T0, "delay after start (0 min)")
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
    assert execution.step(0)["status"] == "dispatched"
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
    # Then
    assert then(execution) == [
        ("WorkflowExecution.StepSent",
         {"step_no": 0, "message_id": MSG[0], "sent_at": DUE0 + minutes(2)}),
        scheduled(1, DUE0 + minutes(2 + 60), "delay after previous step (60 min)"),
    ]
    assert execution.current_step == 1
    assert execution.step(0)["status"] == "sent"
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
        ("WorkflowExecution.StepSent",
         {"step_no": 2, "message_id": MSG[2], "sent_at": due2 + minutes(1)}),
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
    assert then(execution) == [("WorkflowExecution.StepSent",
                                {"step_no": 0, "message_id": MSG[0],
                                 "sent_at": DUE0 + minutes(1)})]
    assert execution.status == "paused"
    assert execution.step(1)["status"] == "pending"


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
    assert execution.step(0)["attempts"] == 1


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
    assert execution.step(0)["attempts"] == 4
    # When it fails transiently too
    execution.record_failure(0, "busy", False, at)
    # Then a fifth attempt is scheduled, 30 s * 2**3 later
    assert then(execution) == [
        ("WorkflowExecution.StepFailed",
         {"step_no": 0, "reason": "busy", "permanent": False, "at": at}),
        scheduled(0, at + timedelta(seconds=240), "retry 5 after a transient failure"),
    ]


def test_after_the_last_attempt_a_transient_failure_gives_the_step_up() -> None:
    # Given attempt MAX_SEND_ATTEMPTS dispatched
    commands, at = transient_attempts(MAX_SEND_ATTEMPTS)
    execution = given(*started(*commands))
    assert execution.step(0)["attempts"] == MAX_SEND_ATTEMPTS
    # When it fails transiently
    execution.record_failure(0, "busy", False, at + minutes(1))
    # Then the step is given up and the next step scheduled from now
    assert then(execution) == [
        ("WorkflowExecution.StepFailed",
         {"step_no": 0, "reason": "busy", "permanent": True, "at": at + minutes(1)}),
        scheduled(1, at + minutes(1 + 60), "delay after previous step (60 min)"),
    ]
    assert execution.step(0)["status"] == "failed"
    assert execution.current_step == 1


def test_a_permanent_failure_moves_on_to_the_next_step() -> None:
    # Given
    execution = given(*started(dispatched(0, DUE0)))
    # When
    execution.record_failure(0, "no such mailbox", True, DUE0 + minutes(1))
    # Then
    assert then(execution) == [
        ("WorkflowExecution.StepFailed", {"step_no": 0, "reason": "no such mailbox",
                                          "permanent": True, "at": DUE0 + minutes(1)}),
        scheduled(1, DUE0 + minutes(61), "delay after previous step (60 min)"),
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
    done = execution.pause("lead asked to wait", T0 + minutes(5))
    # Then
    assert done is True
    assert then(execution) == [("WorkflowExecution.Paused",
                                {"reason": "lead asked to wait", "at": T0 + minutes(5)})]
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


@pytest.mark.parametrize("history", [(), (paused(T0),), (dispatched(0, DUE0),)],
                         ids=["active", "paused", "in-flight"])
def test_cancel_records_why_and_when(history: tuple[Command, ...]) -> None:
    # Given a live execution
    execution = given(*started(*history))
    # When
    done = execution.cancel("lead closed", DUE0 + minutes(3))
    # Then
    assert done is True
    assert then(execution) == [("WorkflowExecution.Cancelled",
                                {"reason": "lead closed", "at": DUE0 + minutes(3)})]
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
    assert replayed.version == len(events) == 13


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
        scheduled(1, at + minutes(60), "delay after previous step (60 min)"),
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
