"""Conditions: on lead fields (who may enter a workflow) and on engagement (whether a step goes).

Pure functions over plain facts; the application gathers the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


def _value(lead: Any, name: str, today: date) -> Any:
    if name.startswith("preferences."):
        return lead.preferences.get(name.split(".", 1)[1])
    if name == "move_within_days":
        move_by = getattr(lead, "move_by", None)
        return None if move_by is None else (date.fromisoformat(move_by) - today).days
    return getattr(lead, name, None)


def _holds(op: str, actual: Any, expected: Any) -> bool:
    if actual is None:
        return op == "ne"
    try:
        return {
            "eq": lambda: actual == expected,
            "ne": lambda: actual != expected,
            "in": lambda: actual in expected,
            "gte": lambda: actual >= expected,
            "lte": lambda: actual <= expected,
        }[op]()
    except TypeError:
        return False  # a preference of another type than the condition's value


def unmet_lead_condition(conditions: list[dict[str, Any]], lead: Any,
                         now: datetime) -> dict[str, Any] | None:
    """The first condition the lead does not meet, or None when it meets them all."""
    for condition in conditions:
        actual = _value(lead, condition["field"], now.date())
        if not _holds(condition["op"], actual, condition["value"]):
            return condition
    return None


@dataclass(frozen=True)
class Engagement:
    """What is known, at send time, of the lead's engagement with earlier messages."""

    score: int
    previous_email_opened: bool | None = None  # None: no earlier email was sent
    in_app_read: bool | None = None
    opted_out: frozenset[str] = field(default_factory=frozenset)


def skip_reason(step: dict[str, Any], facts: Engagement) -> str | None:
    """Why the step must not go (an event's reason), or None when it goes."""
    if step["channel"] in facts.opted_out:
        return f"lead opted out of {step['channel']}"
    for condition in step.get("conditions") or []:
        kind = condition["kind"]
        if kind == "score_at_least" and facts.score < condition["value"]:
            return f"score {facts.score} is below {condition['value']}"
        if kind == "previous_email_not_opened" and facts.previous_email_opened:
            return "the previous email was opened"
        if kind == "in_app_not_read" and facts.in_app_read:
            return "the in-app message was read"
    return None
