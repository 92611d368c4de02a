"""Lead use cases: register, score, status, consent."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from application.core import Core
from application.errors import Conflict
from domain import ids
from domain.execution import WorkflowExecution
from domain.lead import Lead


class LeadUseCases(Core):
    def register_lead(self, *, agent_id: str, name: str, email: str | None, phone: str | None,
                      timezone: str, preferences: dict[str, Any], timeline: str | None,
                      score: int = 0, external_ref: str | None = None,
                      source: str | None = None, move_by: date | None = None) -> UUID:
        lead_id = ids.lead_id(agent_id, external_ref) if external_ref else uuid4()
        if external_ref and self.exists(lead_id):
            return lead_id

        def command() -> UUID:
            lead = Lead.register(lead_id=lead_id, agent_id=agent_id, name=name, email=email,
                                 phone=phone, timezone=timezone, preferences=preferences,
                                 timeline=timeline, score=score, source=source, move_by=move_by)
            self.save(lead)
            return lead_id

        try:
            return self.retrying(command)
        except Conflict:
            return lead_id  # registered concurrently with the same external reference

    def change_score(self, lead_id: UUID, score: int, reason: str) -> dict[str, Any]:
        def command() -> dict[str, Any]:
            lead = self.load(Lead, lead_id)
            old = lead.score
            lead.change_score(score, reason, self.clock.now())
            self.save(lead)
            return {"leadId": str(lead_id), "old": old, "new": lead.score}

        return self.retrying(command)

    def change_status(self, lead_id: UUID, status: str, reason: str) -> dict[str, Any]:
        """Change the status. A stopping status pauses every active execution in the same
        commit; leaving one lists the executions it had paused, for the agent to resume."""

        def command() -> dict[str, Any]:
            lead = self.load(Lead, lead_id)
            was_stopped = lead.is_stopped
            lead.change_status(status, reason)
            executions = [self.load(WorkflowExecution, e) for e in lead.execution_ids()]
            paused = []
            if lead.is_stopped:
                now = self.clock.now()
                paused = [x for x in executions
                          if x.pause(f"lead status became {lead.status}: {reason}", now)]
            self.save(lead, *paused)
            resumable = [str(x.id) for x in executions if was_stopped and not lead.is_stopped
                         and x.status == "paused"]
            return {"leadId": str(lead_id), "status": lead.status,
                    "pausedExecutions": [str(e.id) for e in paused],
                    "resumableExecutions": resumable}

        return self.retrying(command)

    def set_consent(self, lead_id: UUID, channel: str, allowed: bool, reason: str) -> list[str]:
        """Opt a lead out of (or back into) a channel; returns the channels opted out of."""

        def command() -> list[str]:
            lead = self.load(Lead, lead_id)
            if allowed:
                lead.opt_in(channel, reason)
            else:
                lead.opt_out(channel, reason)
            self.save(lead)
            return list(lead.opted_out)

        return self.retrying(command)

    def lead(self, lead_id: UUID) -> Lead:
        return self.load(Lead, lead_id)

    def lead_executions(self, lead_id: UUID) -> list[WorkflowExecution]:
        """Every execution of the lead, earlier runs of a re-entered workflow included, in
        the order they started."""
        lead = self.load(Lead, lead_id)
        return [self.load(WorkflowExecution, e) for e in lead.all_execution_ids()]
