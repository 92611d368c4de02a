"""What stands between a draft and a version that can run: every problem, each naming its field
(``steps[1].templateId``) as the API does. Publishing refuses the first of them
(``workflow.check_runnable``); the builder shows them all on the cards that are wrong."""

from __future__ import annotations

from typing import Any

from domain.definition import check_definition
from domain.errors import DomainError, InvalidState


def problems(definition: dict[str, Any],
             template_channels: dict[str, str | None]) -> list[DomainError]:
    """Every reason the definition cannot run, in the order of its fields; none: it can.
    ``template_channels`` gives each usable template's channel (None: no such template)."""
    try:
        check_definition(definition)  # a draft saved under older rules meets today's
    except DomainError as e:
        return [e]
    if not definition["steps"]:
        return [InvalidState("steps", "a workflow needs at least one step")]
    return [p for i, step in enumerate(definition["steps"])
            if (p := _template_problem(i, step, template_channels)) is not None]


def _template_problem(index: int, step: dict[str, Any],
                      template_channels: dict[str, str | None]) -> DomainError | None:
    field = f"steps[{index}].templateId"
    if step.get("template_id") is None:
        return InvalidState(field, "a step needs a template")
    found = template_channels.get(step["template_id"])
    if found is None:
        return InvalidState(field, "no such template")
    if found != step["channel"]:
        return InvalidState(field, f"template is for {found}, step is {step['channel']}")
    return None
