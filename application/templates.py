"""Template use cases: edits as numbered revisions, a revision read back, and where a
template is used (what may be republished after an edit)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from application.audit import acted
from application.core import Core, expect_version
from application.errors import Invalid, MissingValue, NotFound
from application.ports import TemplateRenderer
from application.template_views import (
    DraftUse,
    PinnedUse,
    RevisionSummary,
    RevisionView,
    TemplateUsage,
)
from application.workflow_views import Preview, TemplateView
from domain.channels import parse_channel
from domain.errors import InvalidValue
from domain.lead import Lead
from domain.personalisation import context_for, sample_context
from domain.template import MAX_BODY, MAX_SUBJECT, Revision, Template
from domain.workflow import Workflow


def check_renders(renderer: TemplateRenderer | None, template: Template) -> None:
    """The save-time check of the latest revision's texts (syntax, variables, bounds)."""
    if renderer is not None:
        renderer.check(template.body, "body")
        if template.subject:
            renderer.check(template.subject, "subject")


def revision_of(template: Template, number: int | None) -> Revision:
    """The template's revision ``number`` (its latest for None), or ``NotFound``."""
    if number is None:
        return template.latest
    try:
        return template.revision(number)
    except InvalidValue:
        raise NotFound(f"Template {template.id} revision", str(number)) from None


def rendered(renderer: TemplateRenderer | None, subject: str | None, body: str,
             context: dict[str, Any]) -> Preview:
    """The texts rendered with ``context``; if they print, without a default, a value it
    lacks, no text but why a send would skip the step."""
    assert renderer is not None, "the composition root sets the renderer"
    try:
        return Preview(subject=renderer.render(subject, context) if subject else None,
                       body=renderer.render(body, context), skipped=None)
    except MissingValue as e:
        return Preview(subject=None, body=None, skipped=e.reason)


class TemplateUseCases(Core):
    def preview_text(self, *, channel: str, subject: str | None, body: str,
                     lead_id: UUID | None = None) -> Preview:
        """Texts not saved yet (an editor's), checked as a save checks them (``Invalid``
        naming ``body`` or ``subject``, with the line), rendered for the lead (else a sample
        lead). Nothing is stored."""
        parse_channel(channel)
        for field, text, most in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
            if text and len(text) > most:
                raise Invalid(field, f"must be at most {most} characters")
            if text and self.renderer is not None:
                self.renderer.check(text, field)
        context = context_for(self.load(Lead, lead_id)) if lead_id else sample_context()
        return rendered(self.renderer, subject, body, context)

    def revise_template(self, template_id: UUID, *, name: str, subject: str | None, body: str,
                        if_match: Collection[int] | None = None,
                        actor: str | None = None) -> TemplateView:
        """Save the texts as the template's next revision (nothing when nothing changed).
        ``if_match``: the aggregate versions the caller may have seen (``StaleVersion`` when
        the current one is not among them); ``actor``: who acted."""
        def command() -> TemplateView:
            template = self.load(Template, template_id)
            expect_version(template, if_match)
            template.revise(name=name, subject=subject, body=body, by=actor)
            check_renders(self.renderer, template)
            self.save(template)
            return TemplateView.of(template)

        view = self.retrying(command)
        acted(actor, "template.revise", template_id=template_id)
        return view

    def template_revisions(self, template_id: UUID) -> list[RevisionSummary]:
        """Every revision of the template, the first (as created) first."""
        return [RevisionSummary.of(r) for r in self.load(Template, template_id).revisions]

    def template_revision(self, template_id: UUID, number: int) -> RevisionView:
        template = self.load(Template, template_id)
        return RevisionView.of(template.id, template.channel, revision_of(template, number))

    def template_usage(self, template_id: UUID) -> TemplateUsage:
        """The workflows whose live version sends an older revision of the template, and the
        drafts that have a step with it."""
        template = self.load(Template, template_id)
        users = self.directory.template_users(template_id) if self.directory else []
        latest = template.latest.number
        workflows = self.load_many(Workflow, users).values()
        return TemplateUsage(
            template_id=template_id, latest_revision=latest,
            outdated=[PinnedUse(workflow_id=w.id, name=w.name, live_version=len(w.versions),
                                pinned_revision=pinned) for w in workflows
                      if (pinned := w.live_pin(str(template_id))) is not None and pinned < latest],
            drafts=[DraftUse(workflow_id=w.id, name=w.name, status=w.state) for w in workflows
                    if w.drafts_with(str(template_id))])
