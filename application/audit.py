"""The log line of a person's action: who acted (the principal's actor id), what, and on which
ids; never a name, an address, a phone number or a free-text reason (those are people's data,
and the log is read by operators). One INFO line per action, once it is saved."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def acted(actor: str | None, action: str, **ids: object) -> None:
    """``action`` (``execution.pause``) by ``actor`` (None: nobody named, a caller of the
    application itself) on ``ids`` (``execution_id=…``), logged at INFO."""
    on = " ".join(f"{key}={value}" for key, value in ids.items())
    log.info("%s actor=%s %s", action, actor or "-", on)
