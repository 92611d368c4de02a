"""The due-step feeder: keeps the due index in step with the log, and restores a lost one."""

from __future__ import annotations

import logging
from collections.abc import Callable

from eventsourcing.utils import get_topic

from application.follower import Consumer, Item, PositionMoved
from application.ports import DueChange, DueSchedule, DueSnapshot
from domain.execution import WorkflowExecution as X
from domain.priority import LANES, URGENT_LANE, lane

log = logging.getLogger(__name__)

# A step's outcome removes it; when the execution goes on, the next step's schedule rides on a
# StepSent, or a StepScheduled or Completed follows in the same commit and has the last word.
REMOVING = (X.Paused, X.StepDeadLettered, X.Completed, X.StepSent, X.StepFailed,
            X.StepOutcomeUnknown)
# Offered to the senders at once: a resumed execution (usually a StepScheduled follows and
# replaces it, but a step dispatched before the pause whose sender died has nothing else to bring
# it back), and a cancelled one with a step in flight (its sender may have died). The sender
# settles a stale dispatch (unknown outcome, or a safe resend), and the outcome removes it.
OFFERED = (X.Resumed, X.Cancelled)


def epoch_ms(when: object) -> int:
    return int(when.timestamp() * 1000)  # type: ignore[attr-defined]


# A schedule sets the member: a step scheduled, or a held step released by its workflow's resume
SCHEDULING = (X.StepScheduled, X.StepReleased)
DUE_TOPICS = tuple(get_topic(c) for c in (*SCHEDULING, *REMOVING, *OFFERED))


def due_change(event: object) -> DueChange:
    """What one of the ``DUE_TOPICS`` events does to the index: set (member, due, lane) or
    remove (member, None, 0)."""
    member = str(event.originator_id)  # type: ignore[attr-defined]
    if isinstance(event, SCHEDULING):
        return member, epoch_ms(event.due_at), lane(event.priority)
    if isinstance(event, X.StepSent) and event.next_due_at is not None:
        return member, epoch_ms(event.next_due_at), lane(event.next_priority or 0)
    if isinstance(event, X.Resumed) or (isinstance(event, X.Cancelled)
                                        and event.in_flight is not None):
        return member, epoch_ms(event.at), LANES - 1
    return member, None, 0


def urgent(change: DueChange) -> bool:
    """Whether a change indexes an urgent step (a live crossing's first touch): the only kind the
    trigger offers to the index ahead of the feeder."""
    return change[1] is not None and change[2] == URGENT_LANE


class DueFeeder(Consumer):
    """With a ``snapshot`` (the ``due_steps`` read model), an index found empty at position 0
    while the snapshot is further on, as after a FLUSHALL or a Redis restart without data, is
    restored from it in one read and followed from its position, not rebuilt by replaying the
    whole log."""

    name = "due_feeder"
    topics = DUE_TOPICS

    def __init__(self, schedule: DueSchedule, snapshot: DueSnapshot | None = None,
                 on_urgent: Callable[[], None] | None = None) -> None:
        """``on_urgent`` is called once a batch that indexed an urgent step (a live crossing's
        first touch) is applied: the claim loop of this process takes it at once instead of at
        its next poll."""
        self.schedule = schedule
        self.snapshot = snapshot
        self.on_urgent = on_urgent
        self._expected = 0

    def position(self) -> int:
        found = self.schedule.position()
        if found == 0 and self.snapshot is not None:
            found = self._restore(self.snapshot)
        self._expected = found
        return found

    def _restore(self, snapshot: DueSnapshot) -> int:
        position, chunks = snapshot.snapshot()
        if not position:
            for _ in chunks:  # nothing to restore; reading to the end closes the snapshot
                pass
            return 0
        restored = 0
        try:
            for changes in chunks:  # members first, the position stays 0: a crash starts over
                self.schedule.apply(changes, 0, 0)
                restored += len(changes)
            self.schedule.apply([], 0, position)
        except PositionMoved:  # another feeder restored it first
            return self.schedule.position()
        # Worth a warning only where the index should have kept its data
        level = logging.WARNING if self.schedule.lost_when_empty else logging.INFO
        log.log(level, "due index found empty: restored %d members from the due_steps read "
                "model at log position %d; following the log from there", restored, position)
        return position

    def apply(self, items: list[Item], last_position: int) -> None:
        changes = [due_change(item.event) for item in items]
        # Only an urgent change may have been offered: only those are checked against the offers
        at = [item.position if urgent(change) else None
              for item, change in zip(items, changes, strict=True)]
        self.schedule.apply(changes, self._expected, last_position, at)
        self._expected = last_position
        if self.on_urgent is not None and any(p is not None for p in at):
            self.on_urgent()
