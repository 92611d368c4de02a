"""Read types of template revisions and of where a template is used (as in
``application.views``: snake_case attributes, built from the aggregates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.template import Revision


@dataclass(frozen=True)
class RevisionSummary:
    number: int
    name: str
    by: str | None
    saved_at: datetime

    @classmethod
    def of(cls, r: Revision) -> RevisionSummary:
        return cls(number=r.number, name=r.name, by=r.by, saved_at=r.saved_at)


@dataclass(frozen=True)
class RevisionView:
    """One revision of a template, as saved."""

    template_id: UUID
    channel: str
    number: int
    name: str
    subject: str | None
    body: str
    by: str | None
    saved_at: datetime

    @classmethod
    def of(cls, template_id: UUID, channel: str, r: Revision) -> RevisionView:
        return cls(template_id=template_id, channel=channel, number=r.number, name=r.name,
                   subject=r.subject, body=r.body, by=r.by, saved_at=r.saved_at)


@dataclass(frozen=True)
class PinnedUse:
    """A workflow whose live version sends an older revision of the template."""

    workflow_id: UUID
    name: str
    live_version: int
    pinned_revision: int


@dataclass(frozen=True)
class DraftUse:
    """A workflow whose draft has a step with the template (publishing it pins the latest)."""

    workflow_id: UUID
    name: str
    status: str  # draft, published or paused


@dataclass(frozen=True)
class TemplateUsage:
    """What may be republished after an edit of the template."""

    template_id: UUID
    latest_revision: int
    outdated: list[PinnedUse]
    drafts: list[DraftUse]
