"""Lead use cases: register, score, status, consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from application.audit import acted
from application.core import Core
from application.errors import Refused
from application.views import ExecutionView, LeadView, ScoreResult, StatusResult
from domain import ids
from domain.execution import WorkflowExecution
from domain.ids import DEFAULT_BROKERAGE_ID
from domain.lead import Lead

#: What a registration sets, by its name in the API.
REGISTERED_FIELDS = {"name": "name", "email": "email", "phone": "phone", "timezone": "timezone",
                     "preferences": "preferences", "timeline": "timeline", "score": "score",
                     "source": "source", "move_by": "moveBy"}


#: How a pause by a stopping status begins its reason: what leaving the status may resume.
STATUS_PAUSE = "lead status became "


def _paused_by_status(execution: WorkflowExecution) -> bool:
    return (execution.status == "paused" and execution.dead_letter is None
            and (execution.status_reason or "").startswith(STATUS_PAUSE))


class LeadUseCases(Core):
    def register_lead(self, *, agent_id: str, name: str, email: str | None, phone: str | None,
                      timezone: str, preferences: dict[str, Any], timeline: str | None,
                      score: int = 0, external_ref: str | None = None,
                      source: str | None = None, move_by: date | None = None,
                      brokerage_id: UUID = DEFAULT_BROKERAGE_ID) -> UUID:
        return self.register(agent_id=agent_id, name=name, email=email, phone=phone,
                             timezone=timezone, preferences=preferences, timeline=timeline,
                             score=score, external_ref=external_ref, source=source,
                             move_by=move_by, brokerage_id=brokerage_id)[0]

    def register(self, *, agent_id: str, name: str, email: str | None, phone: str | None,
                 timezone: str, preferences: dict[str, Any], timeline: str | None,
                 score: int = 0, external_ref: str | None = None, source: str | None = None,
                 move_by: date | None = None,
                 brokerage_id: UUID = DEFAULT_BROKERAGE_ID) -> tuple[UUID, bool]:
        """Register a lead; returns its id and whether it is new. The CRM's ``external_ref``
        registered again with the same data is a retry (the existing lead); with other data it
        is refused, naming the fields that differ, and nothing changes."""
        lead_id = ids.lead_id(agent_id, external_ref) if external_ref else uuid4()

        def command() -> tuple[UUID, bool]:
            lead = Lead.register(lead_id=lead_id, agent_id=agent_id, name=name, email=email,
                                 phone=phone, timezone=timezone, preferences=preferences,
                                 timeline=timeline, score=score, source=source, move_by=move_by,
                                 brokerage_id=brokerage_id)
            if external_ref and self.exists(lead_id):
                self._refuse_other_data(lead, external_ref)
                return lead_id, False
            self.save(lead)  # registered concurrently: the retry finds it and compares
            return lead_id, True

        return self.retrying(command)

    def _refuse_other_data(self, candidate: Lead, external_ref: str) -> None:
        registered = next(iter(self.events.get(candidate.id, lte=1)))
        differing = [REGISTERED_FIELDS[f] for f in REGISTERED_FIELDS
                     if getattr(candidate, f) != getattr(registered, f)]
        if differing:
            raise Refused(f"externalId {external_ref!r} is already registered with other "
                          f"{', '.join(differing)}; nothing was changed (to change a lead, edit "
                          "its profile; to register another lead, give another externalId)",
                          leadId=str(candidate.id), differingFields=differing)

    def change_score(self, lead_id: UUID, score: int, reason: str, *,
                     event_id: str | None = None,
                     occurred_at: datetime | None = None) -> ScoreResult:
        """Apply a scoring update; the answer says whether it was applied, and if not why (a
        repeated ``event_id``, an update older than the last applied, the same score)."""
        def command() -> ScoreResult:
            lead = self.load(Lead, lead_id)
            old = lead.score
            why = lead.change_score(score, reason, self.clock.now(), event_id=event_id,
                                    occurred_at=occurred_at)
            if lead.pending_events:
                self.save(lead)
            return ScoreResult(lead_id=lead_id, old=old, new=lead.score, applied=why is None,
                               reason=why)

        return self.retrying(command)

    def change_status(self, lead_id: UUID, status: str, reason: str, *, resume: bool = False,
                      policy: str = "shift", actor: str | None = None) -> StatusResult:
        """Change the status (``actor``: who acted). A stopping status pauses every active
        execution in the same commit (the system's pause: nobody named). Leaving one lists the
        executions it had paused, as resumable; with ``resume`` they are resumed in the same
        commit (``policy`` for their overdue steps), by the actor."""

        def command() -> StatusResult:
            lead = self.load(Lead, lead_id)
            was_stopped = lead.is_stopped
            lead.change_status(status, reason, by=actor)
            executions = [self.load(WorkflowExecution, e) for e in lead.execution_ids()]
            now = self.clock.now()
            paused = [x for x in executions if lead.is_stopped
                      and x.pause(f"{STATUS_PAUSE}{lead.status}: {reason}", now)]
            held = [x for x in executions if was_stopped and not lead.is_stopped
                    and _paused_by_status(x)]
            for x in held if resume else []:
                x.resume(policy, now, by=actor)
            self.save(lead, *paused, *held)
            held_ids = [x.id for x in held]
            return StatusResult(lead_id=lead_id, status=lead.status,
                                paused_executions=[x.id for x in paused],
                                resumable_executions=[] if resume else held_ids,
                                resumed_executions=held_ids if resume else [])

        result = self.retrying(command)
        acted(actor, "lead.status", lead_id=lead_id, status=result.status,
              paused=len(result.paused_executions), resumed=len(result.resumed_executions))
        return result

    def edit_lead(self, lead_id: UUID, changes: dict[str, Any], *,
                  actor: str | None = None) -> LeadView:
        """Edit the lead's profile (``domain.lead.PROFILE``; nothing is recorded when nothing
        changes); ``actor``: who acted. A new time zone is followed by the lead's live
        executions in the same commit, so their later steps are planned in it."""

        def command() -> LeadView:
            lead = self.load(Lead, lead_id)
            changed = lead.edit_profile(changes, by=actor)
            live = (self.load_many(WorkflowExecution, lead.execution_ids())
                    if "timezone" in changed else {})
            now = self.clock.now()
            moved = [x for x in live.values() if x.follow_zone(lead.timezone, now)]
            if changed:
                self.save(lead, *moved)
            return LeadView.of(lead)

        view = self.retrying(command)
        acted(actor, "lead.edit", lead_id=lead_id)
        return view

    def set_consent(self, lead_id: UUID, channel: str, allowed: bool, reason: str, *,
                    actor: str | None = None) -> list[str]:
        """Opt a lead out of (or back into) a channel; returns the channels opted out of."""

        def command() -> list[str]:
            lead = self.load(Lead, lead_id)
            if allowed:
                lead.opt_in(channel, reason, by=actor)
            else:
                lead.opt_out(channel, reason, by=actor)
            self.save(lead)
            return list(lead.opted_out)

        opted_out = self.retrying(command)
        acted(actor, "lead.opt_in" if allowed else "lead.opt_out", lead_id=lead_id,
              channel=channel)
        return opted_out

    def lead(self, lead_id: UUID) -> LeadView:
        return LeadView.of(self.load(Lead, lead_id))

    def lead_executions(self, lead_id: UUID) -> list[ExecutionView]:
        """Every execution of the lead, earlier runs of a re-entered workflow included, in
        the order they started."""
        lead = self.load(Lead, lead_id)
        return [ExecutionView.of(self.load(WorkflowExecution, e))
                for e in lead.all_execution_ids()]
