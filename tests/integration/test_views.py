"""What users and clients see: step numbers, the list of executions, refusals and holds in the
history, and the history's wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.main import create_app
from tests.conftest import FakeClock
from tests.integration.helpers import Harness, register_ana


@pytest.fixture
def hc(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Harness, TestClient]]:
    """A harness on the embedded store, and an HTTP client of its API."""
    harness = Harness(Settings(data_dir=tmp_path), clock)
    yield harness, TestClient(create_app(harness.rt))
    harness.rt.stop()


def one_step_workflow(h: Harness, **trigger: Any) -> UUID:
    app = h.rt.app
    email = app.create_template(name="e", channel="email", subject="Hi", body="Hello")
    workflow = app.create_workflow(agent_id="agent-1", name="Hot lead", definition={
        "trigger": {"score_threshold": 80, **trigger},
        "steps": [{"channel": "email", "template_id": str(email), "delay_minutes": 0}]})
    app.publish_workflow(workflow)
    return workflow


def test_step_numbers_count_from_one_in_every_response(hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given Ana crossed the threshold of a three-step workflow and got her email (step 1)
    lead = h.crossing()
    assert h.send_due() == ["sent"]
    # When a client reads her executions and the workflow
    [execution] = client.get(f"/api/leads/{lead}/executions").json()
    workflow = client.get(f"/api/workflows/{execution['workflowId']}").json()
    # Then every step number counts from 1: she is at step 2, the SMS
    assert [s["sequence"] for s in execution["steps"]] == [1, 2, 3]
    assert execution["currentStep"] == 2 and execution["steps"][1]["channel"] == "sms"
    assert [s["sequence"] for s in workflow["steps"]] == [1, 2, 3]


def test_skipping_a_step_of_a_cancelled_execution_gives_the_true_reason(
        hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given Ana's execution, cancelled by the agent
    lead = h.crossing()
    h.settle()
    [execution] = client.get(f"/api/leads/{lead}/executions").json()
    client.post(f"/api/executions/{execution['id']}/cancel", json={"reason": "called her"})
    before = h.rt.app.recorder.max_notification_id()
    # When the agent asks to skip its next step
    response = client.post(f"/api/executions/{execution['id']}/skip")
    # Then it is refused because the execution is cancelled, and nothing is recorded
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["msg"]) == (["body", "status"], "the execution is cancelled")
    assert h.rt.app.recorder.max_notification_id() == before


def test_every_execution_of_a_lead_is_listed_after_a_re_entry(
        hc: tuple[Harness, TestClient]) -> None:
    h, client = hc
    # Given a one-step workflow that may be entered again once a run has ended
    one_step_workflow(h)
    lead = register_ana(h.rt.app)
    h.rt.app.change_score(lead, 85, "up")
    assert h.send_due() == ["sent"]  # the first run completes
    # When her score falls and crosses the threshold again
    h.rt.app.change_score(lead, 60, "down")
    h.clock.advance(minutes=5)
    h.rt.app.change_score(lead, 90, "up again")
    h.settle()
    # Then both runs are listed, in the order they started
    runs = client.get(f"/api/leads/{lead}/executions").json()
    assert [r["status"] for r in runs] == ["completed", "active"]
    assert runs[0]["startedAt"] < runs[1]["startedAt"] and runs[0]["id"] != runs[1]["id"]


def history(h: Harness, lead: UUID) -> list[str]:
    h.settle()
    return [r["summary"] for r in h.rt.history.for_lead(str(lead))]


