"""The trigger policy: a score crossing a live workflow's threshold starts one execution."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Recording
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import get_topic

from application.app import FollowUp
from application.due_feeder import due_change, urgent
from application.enrolment import live_groups, try_enrol
from application.errors import TriggerNotApplied
from application.follower import Consumer, Item
from application.ports import DueSchedule
from application.retrying import retry_conflicts
from domain.definition import STORED_ON_REGISTRATION
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.scoring import crossed_upward
from domain.workflow import PublishedWorkflows, Workflow

TRIGGER_RETRIES = 8
log = logging.getLogger(__name__)


class TriggerPolicy(Consumer):
    """Exactly once: the new events and this policy's position are written in one transaction."""

    name = "trigger"
    topics = (get_topic(Lead.ScoreChanged), get_topic(Lead.Created))

    def __init__(self, app: FollowUp, schedule: DueSchedule | None = None,
                 wake: Callable[[], None] | None = None) -> None:
        """With ``schedule``, a started execution's urgent first step (a live crossing's first
        touch) is offered to the due index as soon as it is saved, ahead of the due feeder, which
        may be busy with a backlog; ``wake`` then wakes the claim loop."""
        self.app = app
        self.schedule = schedule
        self.wake = wake

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(self.name) or 0  # type: ignore[attr-defined]

    def apply(self, items: list[Item], last_position: int) -> None:
        """An event that starts or refuses something is saved with its own position; the
        position moves over the others once, at the end of the batch (a bulk import's
        registrations that start nothing cost no write each)."""
        written = None
        catalog = self.app.catalog()  # read once a batch: a read per event was most of a bulk
        for item in items:            # import's cost
            if self._process(item.event, item.position, catalog):
                written = item.position
        if written != last_position:
            self._track(last_position)

    def _process(self, event: DomainEventProtocol, position: int,
                 catalog: PublishedWorkflows) -> bool:
        """Whether anything was written for the event (with its position)."""
        assert isinstance(event, Lead.ScoreChanged | Lead.Created)
        return bool(retry_conflicts(
            lambda: self._process_once(event, position, catalog),
            lambda: TriggerNotApplied(f"trigger could not apply event at {position}"),
            tries=TRIGGER_RETRIES,
            settled=lambda: self.position() >= position))  # another runner applied it

    def _process_once(self, event: Lead.ScoreChanged | Lead.Created, position: int,
                      catalog: PublishedWorkflows) -> bool:
        started = (self._decide(event, catalog) if isinstance(event, Lead.ScoreChanged)
                   else self._decide_registration(event, catalog))
        if started:
            self._offer(self.app.save(*started, tracking=Tracking(self.name, position)))
        return bool(started)

    def _decide(self, event: Lead.ScoreChanged, catalog: PublishedWorkflows) -> list[object]:
        """The lead (enrolled, or with the refusals recorded) and the executions to start; empty
        when nothing is recorded. Every workflow of the lead's agent whose threshold the score
        crossed upward either starts or records why not, a paused one included."""
        lead = self.app.load(Lead, event.originator_id)
        version = lead.version
        taken = live_groups(self.app, lead)
        crossing = {"kind": "score", "lead_version": event.originator_version,
                    "old": event.old, "new": event.new}
        starts = []
        for workflow_id, live in catalog.live_at(event.at, include_held=True):
            if not crossed_upward(event.old, event.new, live["trigger"]["score_threshold"]):
                continue
            workflow = self.app.load(Workflow, workflow_id)
            execution = try_enrol(self.app, lead, workflow, live["number"],
                                  f"score@{event.originator_version}", crossing, taken,
                                  self.app.clock.now(), held=catalog.is_held(workflow_id))
            if execution is not None:
                starts.append(execution)
        return [lead, *starts] if lead.version != version else []

    def _decide_registration(self, event: Lead.Created,
                             catalog: PublishedWorkflows) -> list[object]:
        """A lead registered with a score at or above a live threshold counts as crossing it,
        for the workflows whose trigger says so (``on_registration: start``). The lead is read
        only when one does (most registrations start nothing)."""
        # Created carries no time of ours: its library timestamp (the system clock) says when
        # the lead was registered, so which versions were live then
        live = [(workflow_id, version) for workflow_id, version
                in catalog.live_at(event.timestamp, include_held=True)
                if _starts_on_registration(version["trigger"], event.score)]
        if not live:
            return []
        lead = self.app.load(Lead, event.originator_id)
        before = lead.version
        taken = live_groups(self.app, lead)
        crossing = {"kind": "registration", "lead_version": event.originator_version,
                    "new": event.score}
        starts = []
        for workflow_id, version in live:
            execution = try_enrol(self.app, lead, self.app.load(Workflow, workflow_id),
                                  version["number"], f"registered@{event.originator_version}",
                                  crossing, taken, self.app.clock.now(),
                                  held=catalog.is_held(workflow_id))
            if execution is not None:
                starts.append(execution)
        return [lead, *starts] if lead.version != before else []

    def _offer(self, recordings: list[Recording[UUID]]) -> None:
        if self.schedule is None:
            return
        offered = False
        for recording in recordings:
            event = recording.domain_event
            if not isinstance(event, WorkflowExecution.StepScheduled):
                continue
            change = due_change(event)  # what the feeder will make of it
            if not urgent(change):
                continue
            member, due, lane = change
            assert due is not None
            try:
                offered |= self.schedule.offer(member, due, lane, recording.notification.id)
            except Exception:  # the feeder brings it all the same
                log.warning("could not offer %s to the due index", member, exc_info=True)
        if offered and self.wake is not None:
            self.wake()

    def _track(self, position: int) -> None:
        with contextlib.suppress(IntegrityError):  # already at or past it
            self.app.recorder.insert_tracking(Tracking(self.name, position))  # type: ignore[attr-defined]


def _starts_on_registration(trigger: dict[str, Any], score: int) -> bool:
    """Whether a lead registered with ``score`` crosses this trigger by registering."""
    return (trigger.get("on_registration", STORED_ON_REGISTRATION) == "start"
            and score >= trigger["score_threshold"])
