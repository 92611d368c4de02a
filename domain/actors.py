"""Who acted: the ``by`` that the events of a person's action carry.

``by`` is a principal's actor id (``user:<id>``, ``token:<id>``, or ``user:<id> via
token:<id>`` for a user's own token), never a name; ``None`` is the system (the trigger, the
sender, a stopping status's automatic pause) or an event stored before events named who acted.
"""

from __future__ import annotations

from typing import Any

#: The reason an agent's action records when they gave none (a pause, a status change).
NO_REASON = "agent"


def upcast_no_actor(state: dict[str, Any]) -> None:
    """The version before ``by``: it did not say who acted, so it reads as nobody named."""
    state["by"] = None
