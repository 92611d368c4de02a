"""The lead page's live timeline: the history read model (written by the projector) polled
cheaply, one indexed query for the entries after the last one sent, every half second, for
as long as the browser listens (and at most ``LIFETIME``: its reconnection is authenticated
again)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any
from uuid import UUID

import anyio
from fastapi import Request

from api.deps import Runtime
from api.pages import env

POLL_SECONDS = 0.5
LIFETIME_SECONDS = 300.0
BATCH = 100
#: The browser waits this long before reconnecting a stream that ended.
RETRY_MS = 1000


async def new_entries(request: Request, app: Any, runtime: Runtime, lead_id: UUID,
                      after: int) -> AsyncIterator[dict[str, Any]]:
    zone = app.lead(lead_id).timezone
    deadline = time.monotonic() + LIFETIME_SECONDS
    while time.monotonic() < deadline and not await request.is_disconnected():
        rows = await anyio.to_thread.run_sync(
            partial(runtime.history.for_lead, str(lead_id), limit=BATCH, after=after))
        if not rows:
            await anyio.sleep(POLL_SECONDS)
            continue
        kinds = sorted({row["kind"] for row in rows})
        if "Lead.ProfileEdited" in kinds:  # perhaps a new time zone: later entries in it
            zone = (await anyio.to_thread.run_sync(app.lead, lead_id)).timezone
        after = rows[-1]["position"]
        yield {"event": "history", "id": str(after), "retry": RETRY_MS,
               "data": json.dumps({"html": entries_html(rows, zone), "kinds": kinds})}


def entries_html(rows: list[dict[str, Any]], zone: str) -> str:
    """The entries as the timeline shows them: newest first."""
    return env.get_template("lead/entries.html").render(entries=list(reversed(rows)),
                                                        zone=zone)
