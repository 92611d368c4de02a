"""Template and workflow use cases: drafts, versions, rollback, pause, and what a publish does
to leads and running executions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any
from uuid import UUID

from application.audit import acted
from application.core import Core, expect_version
from application.enrolment import live_groups, try_enrol
from application.errors import Invalid, NotFound, Refused
from application.holds import release_held
from application.templates import check_renders, rendered, revision_of
from application.workflow_views import (
    MoveBlocker,
    NotMoved,
    Preview,
    Problem,
    PublishPreview,
    PublishResult,
    TemplateView,
    VersionView,
    WorkflowView,
)
from domain.definition import execution_steps
from domain.errors import DomainError
from domain.execution import WorkflowExecution
from domain.ids import DEFAULT_BROKERAGE_ID
from domain.lead import Lead
from domain.personalisation import context_for, sample_context
from domain.template import Template
from domain.workflow import Workflow, check_runnable

MIGRATIONS = ("keep", "move")


def _detail(blocker: MoveBlocker) -> dict[str, Any]:
    """A blocker in a refusal's details (an error body: plain JSON, the API's names)."""
    return {"executionId": str(blocker.execution_id), "leadId": str(blocker.lead_id),
            "currentStep": blocker.current_step, "reason": blocker.reason}


def _channels(templates: dict[str, Template | None]) -> dict[str, str | None]:
    return {i: t.channel if t else None for i, t in templates.items()}


def _latest(templates: dict[str, Template | None]) -> dict[str, int]:
    """Each template's latest revision: what a publish pins."""
    return {i: t.latest.number for i, t in templates.items() if t}


class WorkflowUseCases(Core):
    # Templates -------------------------------------------------------------

    def create_template(self, *, name: str, channel: str, body: str,
                        subject: str | None = None,
                        brokerage_id: UUID = DEFAULT_BROKERAGE_ID,
                        agent_id: str | None = None) -> UUID:
        def command() -> UUID:
            template = Template.create(name=name, channel=channel, subject=subject, body=body,
                                       brokerage_id=brokerage_id, agent_id=agent_id)
            check_renders(self.renderer, template)
            self.save(template)
            return template.id

        return self.retrying(command)

    def template(self, template_id: UUID) -> TemplateView:
        return TemplateView.of(self.load(Template, template_id))

    def preview(self, template_id: UUID, lead_id: UUID | None = None,
                revision: int | None = None) -> Preview:
        """The template (at ``revision``, else its latest) rendered for the lead (the sample
        lead without one); if the lead lacks a value the template prints without a default,
        no text but why the step is skipped."""
        texts = revision_of(self.load(Template, template_id), revision)
        ctx = context_for(self.load(Lead, lead_id)) if lead_id else sample_context()
        return rendered(self.renderer, texts.subject, texts.body, ctx)

    # Definitions -----------------------------------------------------------

    def create_workflow(self, *, agent_id: str, name: str, definition: dict[str, Any],
                        brokerage_id: UUID = DEFAULT_BROKERAGE_ID) -> UUID:
        def command() -> UUID:
            workflow = Workflow.create(agent_id=agent_id, name=name, definition=definition,
                                       brokerage_id=brokerage_id)
            self.save(workflow)
            return workflow.id

        return self.retrying(command)

    def edit_workflow(self, workflow_id: UUID, *, name: str, definition: dict[str, Any],
                      if_match: Collection[int] | None = None,
                      actor: str | None = None) -> WorkflowView:
        """Change the draft. ``if_match``: the versions the caller may have read
        (``StaleVersion`` when the workflow is at another; None: no such condition)."""
        def command() -> WorkflowView:
            workflow = self.load(Workflow, workflow_id)
            expect_version(workflow, if_match)
            workflow.edit(name=name, definition=definition, by=actor)
            self.save(workflow)
            return WorkflowView.of(workflow)

        view = self.retrying(command)
        acted(actor, "workflow.edit", workflow_id=workflow_id)
        return view

    def workflow(self, workflow_id: UUID) -> WorkflowView:
        return WorkflowView.of(self.load(Workflow, workflow_id))

    def workflow_version(self, workflow_id: UUID, number: int) -> VersionView:
        """One published version, as frozen."""
        workflow = self.load(Workflow, workflow_id)
        if not 1 <= number <= len(workflow.versions):
            raise NotFound(f"Workflow {workflow_id} version", str(number))
        return VersionView.of(workflow.frozen(number))

    def _templates(self, workflow: Workflow) -> dict[str, Template | None]:
        """The templates of the draft's steps, by id (None for one that does not exist, or
        that the workflow's agent may not use: another agent's, another brokerage's)."""
        picked = [s["template_id"] for s in workflow.draft["steps"]
                  if s["template_id"] is not None]  # a step not given one yet: no template
        found = self.load_many(Template, [UUID(i) for i in picked])
        usable = {i: t for i, t in found.items() if t.brokerage_id == workflow.brokerage_id
                  and t.agent_id in (None, workflow.agent_id)}
        return {i: usable.get(UUID(i)) for i in picked}

    def _template_channels(self, workflow: Workflow) -> dict[str, str | None]:
        return _channels(self._templates(workflow))

    # Publishing ------------------------------------------------------------

    def publish_preview(self, workflow_id: UUID) -> PublishPreview:
        """What publishing the draft now would do, before the agent confirms."""
        workflow = self.load(Workflow, workflow_id)
        problem = None
        try:
            check_runnable(workflow.draft, self._template_channels(workflow))
        except DomainError as e:
            problem = Problem(field=e.field, reason=e.reason)
        running = self._running(workflow_id)
        number = len(workflow.versions) + 1
        return PublishPreview(
            next_version=number, draft_changed=workflow.draft_differs, problem=problem,
            backfill_candidates=len(self._backfill_candidates(workflow)),
            running_executions={str(v): n for v, n in sorted(Counter(running.values()).items())},
            move_blocked_by=self._move_blockers(workflow_id, number,
                                                execution_steps(workflow.draft)))

    def publish_workflow(self, workflow_id: UUID, *, backfill: bool = False,
                         migrate: str = "keep", actor: str | None = None) -> PublishResult:
        """Freeze the draft as a numbered version and list it in the live catalogue, atomically;
        then, if asked, start it for leads already above the threshold and move running
        executions onto it from their next step.

        A move is all or nothing: when a running execution has reached a step the new version
        does not have, the publish is refused (``Refused``, naming them) and nothing changes.
        One that moves on to such a step between that check and its own move stays on its
        version, and the result lists it under ``notMoved`` with the reason."""
        return self._go_live(workflow_id, None, backfill, migrate, actor)

    def rollback_workflow(self, workflow_id: UUID, number: int, *,
                          migrate: str = "keep", actor: str | None = None) -> PublishResult:
        """Publish an earlier version again as the newest."""
        return self._go_live(workflow_id, number, False, migrate, actor)

    def _go_live(self, workflow_id: UUID, restore: int | None, backfill: bool,
                 migrate: str, actor: str | None) -> PublishResult:
        if migrate not in MIGRATIONS:
            raise Invalid("migrate", f"use one of {', '.join(MIGRATIONS)}")

        def command() -> int:
            workflow = self.load(Workflow, workflow_id)
            now = self.clock.now()
            if restore is None:
                templates = self._templates(workflow)
                number = workflow.publish(template_channels=_channels(templates),
                                          template_revisions=_latest(templates), now=now,
                                          by=actor)
            else:
                number = workflow.rollback(restore, now, by=actor)
            if migrate == "move":
                self._refuse_blocked_moves(workflow, number)
            catalog = self.catalog_to_change()
            catalog.list_version(workflow.id, number,
                                 workflow.frozen(number)["definition"]["trigger"], now)
            self.save(workflow, catalog)
            return number

        number = self.retrying(command)
        acted(actor, "workflow.publish" if restore is None else "workflow.rollback",
              workflow_id=workflow_id, version=number)
        workflow = self.load(Workflow, workflow_id)
        started = self._backfill(workflow, number) if backfill else 0
        moved, not_moved = self._migrate(workflow, number) if migrate == "move" else (0, [])
        return PublishResult(workflow_id=workflow_id, version=number, backfilled=started,
                             migrated=moved, not_moved=not_moved)

    def _refuse_blocked_moves(self, workflow: Workflow, number: int) -> None:
        steps = execution_steps(workflow.frozen(number)["definition"])
        blocked = self._move_blockers(workflow.id, number, steps)
        if blocked:
            raise Refused(f"{len(blocked)} running execution(s) have reached a step version "
                          f"{number} does not have, so they cannot move to it; nothing was "
                          "published (publish with migrate: keep, or cancel those executions)",
                          moveBlockedBy=[_detail(b) for b in blocked])

    def _move_blockers(self, workflow_id: UUID, number: int,
                       steps: list[dict[str, Any]]) -> list[MoveBlocker]:
        """The running executions on older versions that could not follow ``steps``."""
        older = [e for e, version in self._running(workflow_id).items() if version < number]
        blocked = []
        for x in self.load_many(WorkflowExecution, older).values():
            reason = x.move_blocked(steps) if x.is_live and x.workflow_version < number else None
            if reason is not None:
                blocked.append(MoveBlocker(execution_id=x.id, lead_id=x.lead_id,
                                           current_step=x.current_step + 1, reason=reason))
        return blocked

    def _running(self, workflow_id: UUID) -> dict[UUID, int]:
        if self.directory is None:
            return {}
        return dict(self.directory.live_executions(workflow_id))

    def _backfill_candidates(self, workflow: Workflow) -> list[UUID]:
        if self.directory is None:
            return []
        threshold = workflow.draft["trigger"]["score_threshold"]
        return self.directory.leads_at_or_above(workflow.brokerage_id, workflow.agent_id,
                                                threshold)

    def _backfill(self, workflow: Workflow, number: int) -> int:
        threshold = workflow.frozen(number)["definition"]["trigger"]["score_threshold"]
        started = 0
        for lead_id in self._backfill_candidates(workflow):
            def command(lead_id: UUID = lead_id) -> int:
                lead = self.load(Lead, lead_id)
                if lead.score < threshold:
                    return 0
                version = lead.version
                execution = try_enrol(self, lead, workflow, number, f"backfill@v{number}",
                                      {"kind": "backfill", "new": lead.score},
                                      live_groups(self, lead), self.clock.now(),
                                      held=self.catalog().is_held(workflow.id))
                if lead.version != version:  # started, or the refusal recorded
                    self.save(lead, *([execution] if execution else []))
                return int(execution is not None)

            started += self.retrying(command)
        return started

    def _migrate(self, workflow: Workflow, number: int) -> tuple[int, list[NotMoved]]:
        """Move each running execution of an older version; one that moved on since the check
        to a step the version lacks stays where it is, listed with the reason."""
        steps = execution_steps(workflow.frozen(number)["definition"])
        moved, not_moved = 0, list[NotMoved]()
        for execution_id, version in self._running(workflow.id).items():
            if version >= number:
                continue

            def command(execution_id: UUID = execution_id) -> int:
                execution = self.load(WorkflowExecution, execution_id)
                changed = execution.migrate(number, steps, self.clock.now())
                self.save(execution)
                return int(changed)

            try:
                moved += self.retrying(command)
            except Invalid as e:
                not_moved.append(NotMoved(execution_id=execution_id, reason=e.reason))
        return moved, not_moved

    # Pausing ---------------------------------------------------------------

    def hold_workflow(self, workflow_id: UUID, held: bool, reason: str, *,
                      actor: str | None = None) -> WorkflowView:
        """Pause (no new entries, no sends) or resume a whole workflow."""

        def command() -> Workflow:
            workflow = self.load(Workflow, workflow_id)
            now = self.clock.now()
            changed = (workflow.pause(reason, now, by=actor) if held
                       else workflow.resume(now, by=actor))
            catalog = self.catalog_to_change()
            catalog.hold(workflow.id, held)
            if changed:
                self.save(workflow, catalog)
            return workflow

        workflow = self.retrying(command)
        acted(actor, "workflow.pause" if held else "workflow.resume", workflow_id=workflow_id)
        if not held:
            release_held(self, workflow_id)
        return WorkflowView.of(workflow)
