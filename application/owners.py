"""Whose each thing is, and the checks every use case reached from outside goes through: what
the principal may not see answers as not found (the same as an id that does not exist)."""

from __future__ import annotations

from uuid import UUID

from application.access import Forbidden, Owner, Principal
from application.core import Core
from application.errors import Invalid, NotFound
from domain.account import Brokerage
from domain.execution import WorkflowExecution
from domain.ids import DEFAULT_BROKERAGE_ID
from domain.lead import Lead
from domain.template import Template
from domain.workflow import Workflow


class OwnerUseCases(Core):
    def lead_owner(self, lead_id: UUID) -> Owner:
        lead = self.load(Lead, lead_id)
        return Owner(lead.brokerage_id, lead.agent_id)

    def workflow_owner(self, workflow_id: UUID) -> Owner:
        workflow = self.load(Workflow, workflow_id)
        return Owner(workflow.brokerage_id, workflow.agent_id)

    def template_owner(self, template_id: UUID) -> Owner:
        template = self.load(Template, template_id)
        return Owner(template.brokerage_id, template.agent_id)

    def execution_owner(self, execution_id: UUID) -> Owner:
        return self.lead_owner(self.load(WorkflowExecution, execution_id).lead_id)

    def check(self, principal: Principal, kind: str, ident: UUID, *,
              change: bool = False) -> None:
        """Raise ``NotFound`` unless the principal may see it; with ``change``, ``Forbidden``
        for a thing it sees but may not change (the brokerage's own template, for an agent):
        the agent reads it, so hiding it would say less than the read already did."""
        owner_of = {"Lead": self.lead_owner, "Workflow": self.workflow_owner,
                    "Template": self.template_owner, "Execution": self.execution_owner}[kind]
        owner = owner_of(ident)
        if not principal.sees(owner):
            raise NotFound(kind, ident)
        if change and not principal.may_change(owner):
            raise Forbidden(f"this {kind.lower()} is the brokerage's own: only an admin "
                            "changes it")

    def agent_for(self, principal: Principal, asked: str | None) -> str:
        """Whose a new lead or workflow is: an agent's own; an admin's or a brokerage token's
        the agent it names (an admin without one: their own). The agent must be a member of
        the principal's brokerage, except in the default brokerage, whose data from before
        accounts carries agent ids no account holds yet."""
        if not principal.wide:
            if asked not in (None, principal.agent_id):
                raise Invalid("agentId", "an agent acts only for themselves; leave it out")
            assert principal.agent_id is not None
            return principal.agent_id
        chosen = asked or principal.agent_id
        if chosen is None:
            raise Invalid("agentId", "name the agent this belongs to")
        if principal.brokerage_id != DEFAULT_BROKERAGE_ID or chosen == principal.agent_id:
            self._check_member(principal.brokerage_id, chosen)
        return chosen

    def _check_member(self, brokerage_id: UUID, agent_id: str) -> None:
        try:
            members = self.load(Brokerage, brokerage_id).agent_ids()
        except NotFound:
            members = {}
        if agent_id not in members:
            raise Invalid("agentId", "is not an agent of your brokerage")
