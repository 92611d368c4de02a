"""What a template may say about a lead: the variables and their values."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

#: The variables a template may use, with a description an agent reads in the builder
#: (``GET /api/templates/variables``); a use of any other is refused when a template is saved.
VARIABLES: dict[str, str] = {
    "lead.name": "the lead's full name",
    "lead.first_name": "the lead's first name",
    "lead.timeline": "when the lead wants to move, as they said it (empty if they did not say)",
    "lead.preferences.<key>": (
        "one of the lead's property preferences, any key (property_type, area, bedrooms, "
        "max_price, ...): leads differ in the keys they have, so give a fallback, as in "
        "{{ lead.preferences.area | default('your area') }}. A preference the lead lacks is "
        "false in {% if %} and empty in {% for %}; printed without a default, the step is "
        "skipped for that lead, with the reason"),
    "agent.id": "the agent's id",
}

#: Mappings whose keys vary from lead to lead, by path, with what one key is called: a template
#: may ask for any key, and a lead without it has a missing value (see VARIABLES).
OPEN_MAPPINGS: dict[tuple[str, ...], str] = {("lead", "preferences"): "preference"}


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
