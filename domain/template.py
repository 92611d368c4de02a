"""The Template aggregate: what a step says, per channel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.channels import Channel, parse_channel
from domain.errors import InvalidValue
from domain.ids import DEFAULT_BROKERAGE_ID

MAX_SUBJECT = 200
MAX_BODY = 20_000


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

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.template.snapshot"

    @event(Created)
    def __init__(self, brokerage_id: UUID, agent_id: str | None, name: str, channel: str,
                 subject: str | None, body: str) -> None:
        self.brokerage_id = brokerage_id
        self.agent_id = agent_id
        self.name = name
        self.channel = channel
        self.subject = subject
        self.body = body

    @classmethod
    def create(cls, *, name: str, channel: str, subject: str | None, body: str,
               brokerage_id: UUID = DEFAULT_BROKERAGE_ID, agent_id: str | None = None) -> Template:
        kind = parse_channel(channel)
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
        return cls(brokerage_id=brokerage_id, agent_id=agent_id, name=name.strip(),
                   channel=kind.value, subject=subject, body=body)
