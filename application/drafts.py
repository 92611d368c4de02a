"""Draft use cases the builder needs: undo and redo of the draft's changes, the problems that
stand between the draft and a version (the checks publishing makes), and a copy of a workflow."""

from __future__ import annotations

from collections.abc import Callable, Collection
from uuid import UUID

from application.core import expect_version
from application.workflow_views import Problem, WorkflowView
from application.workflows import WorkflowUseCases
from domain.problems import problems
from domain.workflow import Workflow

#: What a copy of a workflow is called, unless the caller names it.
COPY_OF = "Copy of {name}"


class DraftUseCases(WorkflowUseCases):
    def undo_draft(self, workflow_id: UUID, *,
                   if_match: Collection[int] | None = None) -> WorkflowView:
        """Bring back the draft before its last change (an edit, a redo, a rollback).
        ``if_match``: as for ``edit_workflow``."""
        return self._change_draft(workflow_id, Workflow.undo, if_match)

    def redo_draft(self, workflow_id: UUID, *,
                   if_match: Collection[int] | None = None) -> WorkflowView:
        """Bring back the draft the last undo replaced."""
        return self._change_draft(workflow_id, Workflow.redo, if_match)

    def _change_draft(self, workflow_id: UUID, change: Callable[[Workflow], None],
                      if_match: Collection[int] | None) -> WorkflowView:
        def command() -> WorkflowView:
            workflow = self.load(Workflow, workflow_id)
            expect_version(workflow, if_match)
            change(workflow)
            self.save(workflow)
            return WorkflowView.of(workflow)

        return self.retrying(command)

    def draft_problems(self, workflow_id: UUID) -> list[Problem]:
        """Every reason the draft cannot be published now, each naming its field; none: it
        can. The same checks publishing makes (its refusal is the first of these)."""
        workflow = self.load(Workflow, workflow_id)
        found = problems(workflow.draft, self._template_channels(workflow))
        return [Problem(field=p.field, reason=p.reason) for p in found]

    def duplicate_workflow(self, workflow_id: UUID, name: str | None = None) -> UUID:
        """A new draft with the workflow's draft (its steps, trigger and windows), for the same
        agent; it has no versions and nothing runs on it."""
        original = self.load(Workflow, workflow_id)
        return self.create_workflow(agent_id=original.agent_id,
                                    name=name or COPY_OF.format(name=original.name)[:200],
                                    definition=original.draft,
                                    brokerage_id=original.brokerage_id)
