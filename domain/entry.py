"""Who may enter a workflow: the trigger's rules, as one pure function."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.conditions import unmet_lead_condition


def entry_refusal(trigger: dict[str, Any], workflow_id: UUID, lead: Any,
                  previous: Any | None, now: datetime) -> str | None:
    """Why the lead may not enter now (a reason for the log), or None when it may.

    ``previous`` is the lead's latest execution of this workflow, if any.
    """
    if lead.is_stopped:
        return f"the lead is {lead.status}"
    if previous is not None:
        if previous.is_live:
            return "the lead is already in this workflow"
        reentry = trigger["reentry"]
        if reentry["mode"] == "never":
            return "this workflow does not allow re-entry"
        ended = previous.completed_at
        if reentry["mode"] == "after_days" and ended + timedelta(days=reentry["days"]) > now:
            return f"re-entry only {reentry['days']} days after the previous run ended"
    if not lead.rearmed(workflow_id, trigger["score_threshold"], trigger["hysteresis"]):
        return (f"the score has not fallen below {trigger['score_threshold']} - "
                f"{trigger['hysteresis']} since the last entry")
    unmet = unmet_lead_condition(trigger["conditions"], lead, now)
    if unmet is not None:
        return f"condition not met: {unmet['field']} {unmet['op']} {unmet['value']!r}"
    return None
