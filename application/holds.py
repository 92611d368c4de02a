"""A paused workflow's due steps: held while it is paused, released at once when it resumes."""

from __future__ import annotations

from uuid import UUID

from application.core import Core
from domain.execution import WorkflowExecution


def release_held(app: Core, workflow_id: UUID) -> int:
    """Let the steps that fell due while the workflow was paused go at once (each its own
    command); returns how many. One the directory does not list yet (it follows the log) goes
    when its lease in the due index ends, as every held step did before."""
    if app.directory is None:
        return 0
    released = 0
    for execution_id in app.directory.held_executions(workflow_id):
        def command(execution_id: UUID = execution_id) -> int:
            execution = app.load(WorkflowExecution, execution_id)
            changed = execution.release(app.clock.now())
            if changed:
                app.save(execution)
            return int(changed)

        released += app.retrying(command)
    return released
