"""Deterministic identities: a retry lands on the same aggregate or message."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2b1e-5a4d-4a39-9c1e-1b7f0f6b9a10")


def lead_id(agent_id: str, external_ref: str) -> UUID:
    return uuid5(NAMESPACE, f"lead/{agent_id}/{external_ref}")


def execution_id(lead_id: UUID, workflow_id: UUID, trigger_ref: str) -> UUID:
    return uuid5(NAMESPACE, f"execution/{lead_id}/{workflow_id}/{trigger_ref}")


def message_id(execution_id: UUID, step_no: int, workflow_version: int, round_no: int = 1) -> UUID:
    """One message per step of a version, per round (a restart begins a new round)."""
    suffix = f"/{round_no}" if round_no > 1 else ""
    return uuid5(NAMESPACE, f"message/{execution_id}/{step_no}/{workflow_version}{suffix}")


CATALOG_ID = uuid5(NAMESPACE, "catalog/published-workflows")


def brokerage_id(slug: str) -> UUID:
    """A brokerage by its short name (``default``, ``demo-realty``): case does not matter."""
    return uuid5(NAMESPACE, f"brokerage/{slug.strip().casefold()}")


def user_id(email: str) -> UUID:
    """One account per email address, whatever its case: a second registration finds the
    first."""
    return uuid5(NAMESPACE, f"user/{email.strip().casefold()}")


#: The brokerage that data stored before accounts existed belongs to (an upcast puts it there).
DEFAULT_BROKERAGE_ID = brokerage_id("default")
