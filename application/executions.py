"""Execution use cases: an agent's overrides on one lead's run through a workflow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.core import Core
from application.errors import NotFound
from domain.errors import InvalidState
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message


class ExecutionUseCases(Core):
    def execution(self, execution_id: UUID) -> WorkflowExecution:
        return self.load(WorkflowExecution, execution_id)

    def message(self, message_id: UUID) -> Message:
        return self.load(Message, message_id)

    def _override(self, execution_id: UUID,
                  change: Callable[[WorkflowExecution], Any]) -> WorkflowExecution:
        def command() -> WorkflowExecution:
            execution = self.load(WorkflowExecution, execution_id)
            change(execution)
            self.save(execution)
            return execution

        return self.retrying(command)

    def pause_execution(self, execution_id: UUID, reason: str) -> WorkflowExecution:
        return self._override(execution_id, lambda x: x.pause(reason, self.clock.now()))

    def resume_execution(self, execution_id: UUID, policy: str) -> WorkflowExecution:
        def resume(execution: WorkflowExecution) -> None:
            lead = self.load(Lead, execution.lead_id)
            if lead.is_stopped:
                raise InvalidState("status", f"the lead is {lead.status}; reopen it first")
            execution.resume(policy, self.clock.now())

        return self._override(execution_id, resume)

    def skip_step(self, execution_id: UUID, reason: str) -> WorkflowExecution:
        return self._override(execution_id, lambda x: x.skip(x.current_step, reason,
                                                               self.clock.now()))

    def send_now(self, execution_id: UUID) -> WorkflowExecution:
        return self._override(execution_id, lambda x: x.send_now(self.clock.now()))

    def cancel_execution(self, execution_id: UUID, reason: str) -> WorkflowExecution:
        return self._override(execution_id, lambda x: x.cancel(reason, self.clock.now()))

    def restart_execution(self, execution_id: UUID, reason: str) -> WorkflowExecution:
        def restart(execution: WorkflowExecution) -> None:
            lead = self.load(Lead, execution.lead_id)
            if lead.is_stopped:
                raise InvalidState("status", f"the lead is {lead.status}; reopen it first")
            execution.restart(reason, self.clock.now())

        return self._override(execution_id, restart)

    def engage(self, message_id: UUID, kind: str, *, lead_id: UUID | None = None) -> bool:
        """Record that a message was delivered, opened, clicked or read (first time only)."""

        def command() -> bool:
            message = self.load(Message, message_id)
            if lead_id is not None and message.lead_id != lead_id:
                raise NotFound("Message", message_id)
            changed = message.engage(kind, self.clock.now())
            self.save(message)
            return changed

        return self.retrying(command)
