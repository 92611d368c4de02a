"""Draft use cases the builder needs: undo and redo of the draft's changes, the problems that
stand between the draft and a version (the checks publishing makes), and a copy of a workflow."""

from __future__ import annotations

from collections.abc import Callable, Collection
from uuid import UUID

from eventsourcing.utils import get_topic

from application.audit import acted
from application.core import expect_version
from application.workflow_views import Problem, TemplateView, WorkflowView
from application.workflows import WorkflowUseCases
from domain.problems import problems
from domain.template import Template
from domain.workflow import Workflow

#: Template creations read from the log at a time, to list the templates a workflow may use.
TEMPLATE_PAGE = 1000
#: What a copy of a workflow is called, unless the caller names it.
COPY_OF = "Copy of {name}"


class DraftUseCases(WorkflowUseCases):
    def undo_draft(self, workflow_id: UUID, *, if_match: Collection[int] | None = None,
                   actor: str | None = None) -> WorkflowView:
        """Bring back the draft before its last change (an edit, a redo, a rollback).
        ``if_match`` and ``actor``: as for ``edit_workflow``."""
        return self._change_draft(workflow_id, Workflow.undo, "workflow.undo", if_match, actor)

    def redo_draft(self, workflow_id: UUID, *, if_match: Collection[int] | None = None,
                   actor: str | None = None) -> WorkflowView:
        """Bring back the draft the last undo replaced."""
        return self._change_draft(workflow_id, Workflow.redo, "workflow.redo", if_match, actor)

    def _change_draft(self, workflow_id: UUID, change: Callable[[Workflow, str | None], None],
                      action: str, if_match: Collection[int] | None,
                      actor: str | None) -> WorkflowView:
        def command() -> WorkflowView:
            workflow = self.load(Workflow, workflow_id)
            expect_version(workflow, if_match)
            change(workflow, actor)
            self.save(workflow)
            return WorkflowView.of(workflow)

        view = self.retrying(command)
        acted(actor, action, workflow_id=workflow_id)
        return view

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

    def usable_templates(self, workflow_id: UUID) -> list[TemplateView]:
        """The templates a step of the workflow may use (its agent's own and its brokerage's
        own), by name: the builder's picker. Read from the log's template creations, so it
        is never behind; a read model's list would spare the reads."""
        workflow = self.load(Workflow, workflow_id)
        found = self.load_many(Template, self._template_ids())
        usable = [t for t in found.values() if t.brokerage_id == workflow.brokerage_id
                  and t.agent_id in (None, workflow.agent_id)]
        return [TemplateView.of(t) for t in sorted(usable, key=lambda t: (t.name.casefold(),
                                                                          str(t.id)))]

    def _template_ids(self) -> list[UUID]:
        ids: list[UUID] = []
        start = 1
        while True:
            found = self.recorder.select_notifications(start, TEMPLATE_PAGE,
                                                       topics=[get_topic(Template.Created)])
            ids += [UUID(str(n.originator_id)) for n in found]
            if len(found) < TEMPLATE_PAGE:
                return ids
            start = found[-1].id + 1
