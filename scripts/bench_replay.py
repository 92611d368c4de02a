"""Replaying executions: the CPU time to rebuild 1,000 executions of 5 steps from their events.

Each execution is started, its steps dispatched and sent in turn, with one transient failure
and its retry on the third step (16 events each); the events are made once, in memory, and
the measure is applying them (``mutate``), which is what every load of an execution pays
after reading and decoding its events. CPU time of the thread, best of ``--repeat``.

    uv run python scripts/bench_replay.py
    uv run python scripts/bench_replay.py --executions 1000 --repeat 7
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from domain import ids
from domain.execution import WorkflowExecution

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STEPS = [{"channel": "email", "template_id": str(uuid4()), "delay_minutes": 30 * (i + 1),
          "conditions": [], "window": None} for i in range(5)]


def history() -> list[Any]:
    """The events of one execution driven through its five steps."""
    x = WorkflowExecution.start(execution_id=uuid4(), lead_id=uuid4(), workflow_id=uuid4(),
                                workflow_version=1, steps=STEPS, trigger={"kind": "score"},
                                timezone="UTC", now=T0)
    for step_no in range(len(STEPS)):
        message_id = ids.message_id(x.id, step_no, 1)
        due = x.next_due_at()
        assert due is not None
        x.dispatch(step_no, message_id, due)
        if step_no == 2:
            x.record_failure(step_no, "busy", False, due)
            due = x.next_due_at()
            assert due is not None
            x.dispatch(step_no, message_id, due)
        x.record_sent(step_no, message_id, due + timedelta(seconds=1))
    return list(x.collect_events())


def replay(histories: list[list[Any]]) -> None:
    for events in histories:
        aggregate = None
        for event in events:
            aggregate = event.mutate(aggregate)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    histories = [history() for _ in range(args.executions)]
    events = sum(len(h) for h in histories)
    best = float("inf")
    for _ in range(args.repeat):
        began = time.thread_time()
        replay(histories)
        best = min(best, time.thread_time() - began)
    print(f"{args.executions} executions, {events} events: best {best * 1000:.1f} ms CPU "
          f"({best / events * 1e6:.2f} µs an event)")


if __name__ == "__main__":
    main()
