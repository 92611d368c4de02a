"""The trigger policy: a score crossing a live workflow's threshold starts one execution."""

from __future__ import annotations

import contextlib

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from application.app import FollowUp
from application.enrolment import live_groups, try_enrol
from application.follower import Consumer, Item
from domain.lead import Lead
from domain.scoring import crossed_upward

TRIGGER_RETRIES = 8


class TriggerPolicy(Consumer):
    """Exactly once: the new events and this policy's position are written in one transaction."""

    name = "trigger"
    topics = (get_topic(Lead.ScoreChanged),)

    def __init__(self, app: FollowUp) -> None:
        self.app = app

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(self.name) or 0  # type: ignore[attr-defined]

    def apply(self, items: list[Item], last_position: int) -> None:
        for item in items:
            self._process(item.event, item.position)
        if not items or items[-1].position != last_position:
            self._track(last_position)

    def _process(self, event: DomainEventProtocol, position: int) -> None:
        assert isinstance(event, Lead.ScoreChanged)
        for _ in range(TRIGGER_RETRIES):
            started = self._decide(event)
            try:
                if started:
                    self.app.save(*started, tracking=Tracking(self.name, position))
                else:
                    self._track(position)
                return
            except IntegrityError:
                if self.position() >= position:
                    return  # another runner applied it
        raise RuntimeError(f"trigger could not apply event at {position}")

    def _decide(self, event: Lead.ScoreChanged) -> list[object]:
        """The lead (enrolled) and the executions to start; empty when nothing starts."""
        lead = self.app.lead(event.originator_id)
        if lead.is_stopped:
            return []
        taken = live_groups(self.app, lead)
        crossing = {"kind": "score", "lead_version": event.originator_version,
                    "old": event.old, "new": event.new}
        starts = []
        for workflow_id, live in self.app.catalog().live_at(event.at):
            if not crossed_upward(event.old, event.new, live["trigger"]["score_threshold"]):
                continue
            execution = try_enrol(self.app, lead, self.app.workflow(workflow_id), live["number"],
                                  f"score@{event.originator_version}", crossing, taken,
                                  self.app.clock.now())
            if execution is not None:
                starts.append(execution)
        return [lead, *starts] if starts else []

    def _track(self, position: int) -> None:
        with contextlib.suppress(IntegrityError):  # already at or past it
            self.app.recorder.insert_tracking(Tracking(self.name, position))  # type: ignore[attr-defined]
