"""A score change becomes a sent, personalised follow-up: every process real, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SmtpInbox
from tests.e2e.conftest import Processes
from tests.e2e.scenario import (
    check_email_and_schedule,
    check_history,
    lose_lead,
    ok,
    publish_three_step_workflow,
    register_lead,
    walk,
)

ALL = ("api", "scheduler", "worker", "projector")


def smtp_emails(inbox: SmtpInbox) -> Any:
    def emails() -> list[dict[str, Any]]:
        return [{"to": ",".join(m["to"]), "subject": m["msg"]["Subject"],  # type: ignore[index, arg-type]
                 "body": m["msg"].get_content()} for m in list(inbox.messages)]  # type: ignore[attr-defined]

    return emails


def outbox_emails(folder: Path) -> Any:
    def emails() -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]

    return emails


def test_on_postgres_redis_dramatiq_and_smtp(servers: Processes,
                                             smtp_server: tuple[SmtpInbox, int]) -> None:
    servers.start(*ALL)
    health = ok(servers.http.get("/health"))
    assert set(health["checks"]) == {"eventStore", "readModels", "redis", "broker", "followers",
                                     "channels"}
    # The API process runs no follower; it reports where their stored positions stand (the
    # projector's own read models once it has created them)
    followers = health["checks"]["followers"]
    assert followers["running"] == []
    assert {"trigger", "due_feeder", "directory"} <= {s["name"] for s in followers["stored"]}
    walk(servers.http, smtp_emails(smtp_server[0]))


def test_embedded(embedded: Processes, tmp_path: Path) -> None:
    embedded.start("run")
    walk(embedded.http, outbox_emails(tmp_path / "data" / "outbox" / "email"))


def test_killing_and_restarting_processes_changes_nothing(
        servers: Processes, smtp_server: tuple[SmtpInbox, int]) -> None:
    http, emails = servers.http, smtp_emails(smtp_server[0])
    servers.start(*ALL)
    publish_three_step_workflow(http)
    # Crash everything behind the API after publishing, then bring it back
    servers.kill("scheduler", "worker", "projector")
    servers.start("scheduler", "worker", "projector")
    lead = register_lead(http)
    ok(http.post(f"/api/leads/{lead}/score", json={"score": 85, "reason": "viewed two listings"}))
    # Crash the scheduler and the worker right after the score change, while they work on it
    servers.kill("scheduler", "worker")
    servers.start("worker", "scheduler")
    check_email_and_schedule(http, lead, emails)
    # Crash the projector and the worker; the lead is lost while they are down
    servers.kill("projector", "worker")
    lose_lead(http, lead)
    servers.start("worker", "projector")
    check_history(http, lead, emails)
    servers.kill("api")
    servers.start("api")
    assert len(ok(http.get(f"/api/leads/{lead}/executions"))) == 1
