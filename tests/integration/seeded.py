"""A runtime with one of everything, for tests that send arbitrary requests at real resources."""

from __future__ import annotations

from uuid import UUID

from domain.workflow import Workflow
from tests.integration.helpers import Harness, executions_of


def seed(h: Harness) -> dict[str, str]:
    """Given Ana crossing a published three-step workflow, and all three steps sent: the ids of
    a lead, a workflow, a template, an execution and an in-app message, by path parameter."""
    lead = h.crossing()
    h.send_due()
    h.clock.advance(minutes=61)
    h.send_due()
    h.clock.advance(days=1)
    h.send_due()
    [execution] = executions_of(h.rt.app, lead)
    workflow = h.rt.app.load(Workflow, execution.workflow_id)
    in_app = execution.steps[2].message_id
    assert in_app is not None, "the in-app step was sent"
    return {"lead_id": str(lead), "workflow_id": str(workflow.id),
            "template_id": workflow.draft["steps"][0]["template_id"],
            "execution_id": str(execution.id), "message_id": str(UUID(str(in_app)))}
