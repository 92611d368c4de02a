"""The Template aggregate: what a step says, per channel, in numbered revisions.

Revision 1 is the template as created; each save after it that changes the name, subject or
body is the next revision. Revisions never change, so a published workflow version pins the
revisions it was published with and sends them until the agent publishes again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.channels import Channel, parse_channel
from domain.errors import InvalidValue
from domain.ids import DEFAULT_BROKERAGE_ID

MAX_SUBJECT = 200
MAX_BODY = 20_000


@dataclass(frozen=True)
class Revision:
    """One saved revision of a template (``by``: who saved it, when known)."""

    number: int
    name: str
    subject: str | None
    body: str
    by: str | None
    saved_at: datetime


def checked_texts(kind: Channel, name: str, subject: str | None,
                  body: str) -> tuple[str, str | None, str]:
    """The name, subject and body as stored, or ``InvalidValue`` naming the field."""
    if not name.strip():
        raise InvalidValue("name", "must not be empty")
    if not body.strip():
        raise InvalidValue("body", "must not be empty")
    if len(body) > MAX_BODY:
        raise InvalidValue("body", f"must be at most {MAX_BODY} characters")
    if kind is Channel.EMAIL:
        if not subject or not subject.strip():
            raise InvalidValue("subject", "an email template needs a subject")
        if len(subject) > MAX_SUBJECT:
            raise InvalidValue("subject", f"must be at most {MAX_SUBJECT} characters")
    elif subject:
        subject = subject.strip() or None
    return name.strip(), subject, body


class Template(Aggregate):
    TOPIC = "followup.template"

    class Created(Aggregate.Created):
        TOPIC = "followup.template.created"
        class_version = 2
        brokerage_id: UUID
        agent_id: str | None  # None: the brokerage's own, which its agents may use
        name: str
        channel: str
        subject: str | None
        body: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Templates made before accounts existed are the default brokerage's own."""
            state.update(brokerage_id=DEFAULT_BROKERAGE_ID, agent_id=None)

    class Revised(Aggregate.Event):
        """A new revision: the next number after the latest."""
        TOPIC = "followup.template.revised"
        name: str
        subject: str | None
        body: str
        by: str | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate.keep(Revision(len(aggregate.revisions) + 1, self.name, self.subject,
                                    self.body, self.by, self.timestamp))

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.template.snapshot"

    @event(Created)
    def __init__(self, brokerage_id: UUID, agent_id: str | None, name: str, channel: str,
                 subject: str | None, body: str) -> None:
        self.brokerage_id = brokerage_id
        self.agent_id = agent_id
        self.name = name
        self.channel = channel
        self.revisions: list[Revision] = []
        self.keep(Revision(1, name, subject, body, None, self.created_on))

    def keep(self, revision: Revision) -> None:
        """The latest revision's texts are the template's (applying an event only)."""
        self.revisions.append(revision)
        self.name, self.subject, self.body = revision.name, revision.subject, revision.body

    @classmethod
    def create(cls, *, name: str, channel: str, subject: str | None, body: str,
               brokerage_id: UUID = DEFAULT_BROKERAGE_ID, agent_id: str | None = None) -> Template:
        kind = parse_channel(channel)
        name, subject, body = checked_texts(kind, name, subject, body)
        return cls(brokerage_id=brokerage_id, agent_id=agent_id, name=name,
                   channel=kind.value, subject=subject, body=body)

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]

    def revision(self, number: int) -> Revision:
        if not 1 <= number <= len(self.revisions):
            raise InvalidValue("revision",
                               f"no revision {number}; there are {len(self.revisions)}")
        return self.revisions[number - 1]

    def revise(self, *, name: str, subject: str | None, body: str,
               by: str | None = None) -> int:
        """Save the texts as the next revision, checked as at creation; a save that changes
        nothing records nothing. Returns the latest revision's number."""
        name, subject, body = checked_texts(Channel(self.channel), name, subject, body)
        latest = self.latest
        if (name, subject, body) != (latest.name, latest.subject, latest.body):
            self.trigger_event(self.Revised, name=name, subject=subject, body=body, by=by)
        return self.latest.number
