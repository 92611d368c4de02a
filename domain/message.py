"""The Message aggregate: one send and what became of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidState, InvalidValue

ENGAGEMENTS = ("delivered", "opened", "clicked", "read")
#: Engagements of one channel only: an email is opened (its pixel), an in-app message is read.
CHANNEL_OF = {"opened": "email", "read": "in_app"}


class MessageStatus(StrEnum):
    QUEUED = "queued"  # recorded before its outcome (a failed or unknown first attempt)
    SENT = "sent"
    FAILED = "failed"  # for good
    RETRYING = "retrying"  # failed in a way that may pass: the step is tried again
    UNKNOWN = "unknown"  # the sender stopped during the provider call


class Message(Aggregate):
    TOPIC = "followup.message"
    id: UUID  # given by the caller: a deterministic identity

    class Created(Aggregate.Created):
        TOPIC = "followup.message.queued"
        execution_id: UUID
        lead_id: UUID
        step_no: int
        channel: str
        template_id: str
        queued_at: datetime

    class CreatedSent(Created):
        """A message recorded together with its send, in one event: the claim that keeps a step
        from being sent twice is the execution's ``StepDispatched``, so the message need not exist
        before the provider accepts it (a failed or unknown first attempt is ``Created`` and then
        its outcome)."""

        TOPIC = "followup.message.created_sent"
        provider_id: str
        recipient: str
        subject: str | None
        body: str
        sent_at: datetime

        def apply(self, aggregate: Message) -> None:  # type: ignore[override]
            aggregate.status = MessageStatus.SENT
            aggregate.provider_id = self.provider_id

    class Sent(Aggregate.Event):
        TOPIC = "followup.message.sent"
        provider_id: str
        recipient: str
        subject: str | None
        body: str
        sent_at: datetime

    class Failed(Aggregate.Event):
        TOPIC = "followup.message.failed"
        reason: str
        permanent: bool
        at: datetime

    class Engaged(Aggregate.Event):
        """Delivered, opened, clicked or read: what the lead did with the message."""

        TOPIC = "followup.message.engaged"
        kind: str
        at: datetime
        detail: str | None

    class OutcomeUnknown(Aggregate.Event):
        TOPIC = "followup.message.outcome_unknown"
        reason: str
        at: datetime

    class Snapshot(Aggregate.Snapshot):  # type: ignore[misc,valid-type]
        TOPIC = "followup.message.snapshot"

    @event(Created)
    def __init__(self, execution_id: UUID, lead_id: UUID, step_no: int, channel: str,
                 template_id: str, queued_at: datetime) -> None:
        self.execution_id = execution_id
        self.lead_id = lead_id
        self.step_no = step_no
        self.channel = channel
        self.template_id = template_id
        self.status = MessageStatus.QUEUED
        self.provider_id: str | None = None
        self.engagement: dict[str, datetime] = {}

    @classmethod
    def queue(cls, *, message_id: UUID, execution_id: UUID, lead_id: UUID, step_no: int,
              channel: str, template_id: str, now: datetime) -> Message:
        return cls(id=message_id, execution_id=execution_id, lead_id=lead_id, step_no=step_no,  # type: ignore[call-arg]
                   channel=channel, template_id=template_id, queued_at=now)

    @classmethod
    def record_sent(cls, *, message_id: UUID, execution_id: UUID, lead_id: UUID, step_no: int,
                    channel: str, template_id: str, queued_at: datetime, provider_id: str,
                    recipient: str, subject: str | None, body: str, now: datetime) -> Message:
        """A message whose first attempt the provider accepted: created and sent in one event."""
        return cls._create(cls.CreatedSent, id=message_id, execution_id=execution_id,
                           lead_id=lead_id, step_no=step_no, channel=channel,
                           template_id=template_id, queued_at=queued_at,
                           provider_id=provider_id, recipient=recipient, subject=subject,
                           body=body, sent_at=now)

    def mark_sent(self, provider_id: str, recipient: str, subject: str | None, body: str,
                  now: datetime) -> None:
        self._sent(provider_id=provider_id, recipient=recipient, subject=subject, body=body,
                   sent_at=now)

    @event(Sent)
    def _sent(self, provider_id: str, recipient: str, subject: str | None, body: str,
              sent_at: datetime) -> None:
        self.status = MessageStatus.SENT
        self.provider_id = provider_id

    def mark_failed(self, reason: str, permanent: bool, now: datetime) -> None:
        self._failed(reason=reason, permanent=permanent, at=now)

    @event(Failed)
    def _failed(self, reason: str, permanent: bool, at: datetime) -> None:
        self.status = MessageStatus.FAILED if permanent else MessageStatus.RETRYING

    def mark_unknown(self, reason: str, now: datetime) -> None:
        self._outcome_unknown(reason=reason, at=now)

    @event(OutcomeUnknown)
    def _outcome_unknown(self, reason: str, at: datetime) -> None:
        self.status = MessageStatus.UNKNOWN

    def engage(self, kind: str, now: datetime, detail: str | None = None) -> bool:
        """Record the first delivery, open, click or read; repeats are not new facts."""
        if kind not in ENGAGEMENTS:
            raise InvalidValue("kind", f"use one of {', '.join(ENGAGEMENTS)}")
        if not self.can_be(kind):
            raise InvalidState("kind", f"only {CHANNEL_OF[kind]} messages are {kind}; this one "
                                       f"is {self.channel}")
        if self.status != MessageStatus.SENT or kind in self.engagement:
            return False
        self._engaged(kind=kind, at=now, detail=detail)
        return True

    @event(Engaged)
    def _engaged(self, kind: str, at: datetime, detail: str | None) -> None:
        self.engagement[kind] = at

    def can_be(self, kind: str) -> bool:
        """Does ``kind`` apply to this message's channel?"""
        return CHANNEL_OF.get(kind, self.channel) == self.channel

    @property
    def opened(self) -> bool:
        return "opened" in self.engagement or "clicked" in self.engagement

    @property
    def read(self) -> bool:
        return "read" in self.engagement
