"""Execution use cases: an agent's overrides on one lead's run through a workflow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.audit import acted
from application.core import Core
from application.errors import Invalid, NotFound
from application.views import ExecutionView, ReplayRefusal, ReplayReport
from domain.errors import InvalidState
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message


class ExecutionUseCases(Core):
    def execution(self, execution_id: UUID) -> ExecutionView:
        return ExecutionView.of(self.load(WorkflowExecution, execution_id))

    def _override(self, execution_id: UUID, action: str, actor: str | None,
                  change: Callable[[WorkflowExecution], Any]) -> ExecutionView:
        """Load, ``change``, save (retried on a conflict); then log ``action`` by ``actor``."""
        def command() -> ExecutionView:
            execution = self.load(WorkflowExecution, execution_id)
            change(execution)
            self.save(execution)
            return ExecutionView.of(execution)

        view = self.retrying(command)
        acted(actor, f"execution.{action}", execution_id=execution_id, lead_id=view.lead_id)
        return view

    def _reopened(self, execution: WorkflowExecution) -> WorkflowExecution:
        """The execution, refused while its lead is closed or lost."""
        lead = self.load(Lead, execution.lead_id)
        if lead.is_stopped:
            raise InvalidState("status", f"the lead is {lead.status}; reopen it first")
        return execution

    def pause_execution(self, execution_id: UUID, reason: str, *,
                        actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "pause", actor,
                              lambda x: x.pause(reason, self.clock.now(), by=actor))

    def resume_execution(self, execution_id: UUID, policy: str, *,
                         actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "resume", actor, lambda x: self._reopened(x).resume(
            policy, self.clock.now(), by=actor))

    def replay_dead_letter(self, execution_id: UUID, *,
                           actor: str | None = None) -> ExecutionView:
        """Send the execution's dead-lettered step again, with a fresh set of attempts."""
        return self._override(execution_id, "replay", actor, lambda x: self._reopened(x).replay(
            self.clock.now(), by=actor))

    def replay_dead_letters(self, *, agent_id: str | None = None,
                            workflow_id: UUID | None = None, limit: int = 1000,
                            brokerage_id: UUID | None = None,
                            actor: str | None = None) -> ReplayReport:
        """Replay what the dead-letter list holds (all, or one agent's or workflow's), oldest
        first. Each replay is its own command: one that is refused (the lead was closed since,
        say) is reported with its reason and the rest go on."""
        if self.directory is None:
            raise InvalidState("directory", "the dead-letter list needs the directory read model")
        replayed: list[UUID] = []
        refused: list[ReplayRefusal] = []
        for entry in self.directory.dead_letters(agent_id=agent_id, workflow_id=workflow_id,
                                                 limit=limit, brokerage_id=brokerage_id):
            execution_id = UUID(entry["execution_id"])
            try:
                self.replay_dead_letter(execution_id, actor=actor)
                replayed.append(execution_id)
            except (Invalid, NotFound) as e:
                refused.append(ReplayRefusal(execution_id=execution_id, reason=str(e)))
        return ReplayReport(replayed=replayed, refused=refused)

    def skip_step(self, execution_id: UUID, reason: str, *,
                  actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "skip", actor, lambda x: x.skip(
            x.current_step, reason, self.clock.now(), by=actor))

    def send_now(self, execution_id: UUID, *, actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "send_now", actor,
                              lambda x: x.send_now(self.clock.now(), by=actor))

    def cancel_execution(self, execution_id: UUID, reason: str, *,
                         actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "cancel", actor,
                              lambda x: x.cancel(reason, self.clock.now(), by=actor))

    def restart_execution(self, execution_id: UUID, reason: str, *,
                          actor: str | None = None) -> ExecutionView:
        return self._override(execution_id, "restart", actor, lambda x: self._reopened(x).restart(
            reason, self.clock.now(), by=actor))

    def engage(self, message_id: UUID, kind: str, *, lead_id: UUID | None = None) -> bool:
        """Record that a message was delivered, opened, clicked or read (first time only). An
        open is only an email's, a read only an in-app message's; with ``lead_id`` (the lead's
        inbox) any other message is not found."""

        def command() -> bool:
            message = self.load(Message, message_id)
            if lead_id is not None and (message.lead_id != lead_id or not message.can_be(kind)):
                raise NotFound("Inbox message" if kind == "read" else "Message", message_id)
            changed = message.engage(kind, self.clock.now())
            self.save(message)
            return changed

        return self.retrying(command)
