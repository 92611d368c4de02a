"""The lists: leads, workflows, templates and executions, a page at a time, each within what
the principal may see. They read the read models, so they follow the log by a moment: a lead
registered a moment ago may take a moment to appear (the single-object use cases read the log)."""

from __future__ import annotations

from datetime import timedelta

from application.access import Principal
from application.core import Core
from application.errors import Invalid
from application.list_views import (
    ExecutionFilter,
    ExecutionSummary,
    LeadFilter,
    LeadSummary,
    Page,
    PageAsk,
    Reach,
    TemplateSummary,
    WorkflowSummary,
)
from application.ports import Catalogue, Directory

#: A search has at most this many words.
MAX_SEARCH_WORDS = 8
#: How far back a workflow's sent steps are counted.
SENT_WINDOW = timedelta(days=7)


def reach(principal: Principal, agent_id: str | None = None) -> Reach:
    """Whose things the principal's list shows: an agent's own (naming another agent is
    refused); an admin's or a brokerage token's the whole brokerage, or the agent it names.
    Never another brokerage's. The one place a list's scope is decided."""
    if principal.wide:
        return Reach(principal.brokerage_id, agent_id)
    if agent_id not in (None, principal.agent_id):
        raise Invalid("agentId", "an agent's lists are their own; leave it out", where="query")
    return Reach(principal.brokerage_id, principal.agent_id or "")


def check_leads(wanted: LeadFilter) -> None:
    """Filters that cannot match, refused naming the query field."""
    low, high = wanted.score_min, wanted.score_max
    if low is not None and high is not None and low > high:
        raise Invalid("scoreMin", "is above scoreMax", where="query")
    if wanted.q is not None:
        words = wanted.q.split()
        if not words:
            raise Invalid("q", "give at least one word to search for", where="query")
        if len(words) > MAX_SEARCH_WORDS:
            raise Invalid("q", f"search for at most {MAX_SEARCH_WORDS} words", where="query")


class ListUseCases(Core):
    def _directory(self) -> Directory:
        assert self.directory is not None, "the composition root gives the directory"
        return self.directory

    def _catalogue(self) -> Catalogue:
        assert self.catalogue is not None, "the composition root gives the catalogue"
        return self.catalogue

    def list_leads(self, principal: Principal, wanted: LeadFilter, page: PageAsk, *,
                   agent_id: str | None = None) -> Page[LeadSummary]:
        check_leads(wanted)
        return self._directory().lead_page(reach(principal, agent_id), wanted, page)

    def list_executions(self, principal: Principal, wanted: ExecutionFilter, page: PageAsk, *,
                        agent_id: str | None = None) -> Page[ExecutionSummary]:
        return self._directory().execution_page(reach(principal, agent_id), wanted, page)

    def list_workflows(self, principal: Principal, status: str | None, page: PageAsk, *,
                       agent_id: str | None = None) -> Page[WorkflowSummary]:
        return self._catalogue().workflow_page(reach(principal, agent_id), status, page,
                                               sent_since=self.clock.now() - SENT_WINDOW)

    def list_templates(self, principal: Principal, channel: str | None,
                       page: PageAsk) -> Page[TemplateSummary]:
        """An agent's: their own and the brokerage's own; a wide principal's: the brokerage's
        every template."""
        return self._catalogue().template_page(reach(principal), channel, page)
