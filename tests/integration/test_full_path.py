"""The whole path in one process on real PostgreSQL, Redis, Dramatiq (Redis broker) and SMTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.bootstrap import Runtime
from adapters.settings import Settings
from tests.conftest import REDIS_URL, SmtpInbox
from tests.integration.helpers import executions_of, register_ana, three_step_workflow


def eventually(check: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture
def runtime(tmp_path: Path, pg_url: str, redis_prefix: str,
            smtp_server: tuple[SmtpInbox, int]) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path, database_url=pg_url, redis_url=REDIS_URL,
                        redis_prefix=redis_prefix, smtp_host="127.0.0.1",
                        smtp_port=smtp_server[1], worker_threads=2)
    rt = Runtime(settings)
    rt.start_projector()
    rt.start_scheduler()
    rt.start_worker()
    yield rt
    rt.stop()


def test_score_change_reaches_the_smtp_server_through_dramatiq(
        runtime: Runtime, smtp_server: tuple[SmtpInbox, int]) -> None:
    inbox, _ = smtp_server
    app = runtime.app
    three_step_workflow(app)
    lead = register_ana(app)
    app.change_score(lead, 85, "viewed a listing")
    [received] = inbox.wait_for(1)
    message = received["msg"]
    assert received["to"] == ["ana@example.com"]
    assert message["Subject"] == "Ana, new listings"  # type: ignore[index]
    assert "Ana Lima" in message.get_content()  # type: ignore[attr-defined]
    executions = eventually(lambda: [x for x in executions_of(app, lead)
                                     if x.steps[0].status == "sent"])
    [execution] = executions  # type: ignore[misc]
    message_id = execution.steps[0].message_id
    assert message["Message-ID"] == f"<{message_id}@followup.local>"  # type: ignore[index]
    # The index follows the log: the lease gives way to the next step's due time
    due = int(execution.steps[1].due_at.timestamp() * 1000)
    assert eventually(lambda: runtime.schedule.due_at(str(execution.id)) == due)
    # Lost: paused, and the index lets go of it
    app.change_status(lead, "lost", "bought elsewhere")
    assert eventually(lambda: runtime.schedule.due_at(str(execution.id)) is None)
    # A stray delivery of the step (a duplicate, a replay) sends nothing
    runtime.send_steps.send([str(execution.id)])
    time.sleep(1.0)
    assert len(inbox.messages) == 1
    history = eventually(lambda: [r for r in runtime.history.for_lead(str(lead))
                                  if r["kind"] == "WorkflowExecution.Paused"])
    assert history
