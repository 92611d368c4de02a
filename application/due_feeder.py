"""The due-step feeder: keeps the due index in step with the log."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from application.follower import Consumer, Item
from application.ports import DueChange, DueSchedule
from domain.execution import WorkflowExecution as X
from domain.priority import LANES, lane

REMOVING = (X.Paused, X.StepDeadLettered, X.Cancelled, X.Completed)
# A resumed execution is offered at once: usually a StepScheduled follows and replaces it, but a
# step dispatched before the pause whose sender died has nothing else to bring it back; offered,
# the sender resolves it once the dispatch is stale (unknown outcome, or a safe resend).
OFFERED = (X.Resumed,)


def epoch_ms(when: object) -> int:
    return int(when.timestamp() * 1000)  # type: ignore[attr-defined]


class DueFeeder(Consumer):
    name = "due_feeder"
    topics = tuple(get_topic(c) for c in (X.StepScheduled, *REMOVING, *OFFERED))

    def __init__(self, schedule: DueSchedule) -> None:
        self.schedule = schedule
        self._expected = 0

    def position(self) -> int:
        self._expected = self.schedule.position()
        return self._expected

    def apply(self, items: list[Item], last_position: int) -> None:
        changes: list[DueChange] = []
        for item in items:
            member = str(item.event.originator_id)
            if isinstance(item.event, X.StepScheduled):
                changes.append((member, epoch_ms(item.event.due_at), lane(item.event.priority)))
            elif isinstance(item.event, OFFERED):
                changes.append((member, epoch_ms(item.event.at), LANES - 1))
            else:
                changes.append((member, None, 0))
        self.schedule.apply(changes, self._expected, last_position)
        self._expected = last_position
