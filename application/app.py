"""The FollowUp application: one event log for every aggregate, and the use cases over it.

Use cases load, decide (one domain call) and save; they return ids or plain data.
"""

from __future__ import annotations

from application.accounts import AccountUseCases
from application.executions import ExecutionUseCases
from application.leads import LeadUseCases
from application.lists import ListUseCases
from application.owners import OwnerUseCases
from application.templates import TemplateUseCases
from application.workflows import WorkflowUseCases


class FollowUp(LeadUseCases, WorkflowUseCases, TemplateUseCases, ExecutionUseCases,
               AccountUseCases, OwnerUseCases, ListUseCases):
    """The one application: its name gives the log's tables (``followup_events`` ...)."""

    name = "FollowUp"
