"""What a template may say about a lead: the variables and their values."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

#: The variables a template may use, with a description an agent reads in the builder.
VARIABLES: dict[str, str] = {
    "lead.name": "full name",
    "lead.first_name": "first name",
    "lead.timeline": "when the lead wants to move, as they said it",
    "lead.preferences": "property preferences (type, area, bedrooms, budget ...)",
    "agent.id": "the agent's id",
}


def context_for(lead: Any) -> dict[str, Any]:
    """The template context of a lead (any object with the Lead aggregate's attributes)."""
    return {
        "lead": {
            "name": lead.name,
            "first_name": lead.first_name,
            "timeline": lead.timeline or "",
            "preferences": deepcopy(lead.preferences),
        },
        "agent": {"id": lead.agent_id},
    }


def sample_context() -> dict[str, Any]:
    """A context with every variable, for checking templates when they are saved."""
    return {
        "lead": {
            "name": "Sample Lead",
            "first_name": "Sample",
            "timeline": "within 3 months",
            "preferences": {"property_type": "condo", "area": "Downtown", "bedrooms": 2,
                            "max_price": 450000},
        },
        "agent": {"id": "agent"},
    }
