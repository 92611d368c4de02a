"""Messages read model: every send per lead, and the in-app inbox."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import BigInteger, Column, Connection, Index, Integer, String, Table, Text, select

from domain.message import Message
from projections.base import SqlProjection, metadata

messages = Table(
    "messages", metadata,
    Column("message_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("execution_id", String(36), nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("recipient", Text),
    Column("subject", Text),
    Column("body", Text),
    Column("provider_id", Text),
    Column("failure", Text),
    Column("queued_at", String(40), nullable=False),
    Column("sent_at", String(40)),
    Column("delivered_at", String(40)),
    Column("opened_at", String(40)),
    Column("clicked_at", String(40)),
    Column("read_at", String(40)),
    Column("position", BigInteger, nullable=False),
    Index("messages_lead_idx", "lead_id", "channel", "position"),
)


class MessagesProjection(SqlProjection):
    name = "messages"
    topics = tuple(get_topic(c) for c in (Message.Created, Message.Sent, Message.Failed,
                                          Message.OutcomeUnknown, Message.Engaged))
    tables = (messages,)

    def handle(self, conn: Connection, event: Any, position: int) -> None:
        ident = str(event.originator_id)
        if isinstance(event, Message.Created):
            conn.execute(messages.insert().values(
                message_id=ident, lead_id=str(event.lead_id),
                execution_id=str(event.execution_id), step_no=event.step_no,
                channel=event.channel, status="queued", queued_at=event.queued_at.isoformat(),
                position=position))
        elif isinstance(event, Message.Sent):
            conn.execute(messages.update().where(messages.c.message_id == ident).values(
                status="sent", recipient=event.recipient, subject=event.subject, body=event.body,
                provider_id=event.provider_id, sent_at=event.sent_at.isoformat()))
        elif isinstance(event, Message.Engaged):
            column = {"delivered": "delivered_at", "opened": "opened_at",
                      "clicked": "clicked_at", "read": "read_at"}[event.kind]
            conn.execute(messages.update().where(messages.c.message_id == ident)
                         .values({column: event.at.isoformat()}))
        elif isinstance(event, Message.OutcomeUnknown):
            conn.execute(messages.update().where(messages.c.message_id == ident).values(
                status="unknown", failure=event.reason))
        elif isinstance(event, Message.Failed):
            conn.execute(messages.update().where(messages.c.message_id == ident).values(
                status="failed" if event.permanent else "retrying", failure=event.reason))

    def inbox(self, lead_id: str, limit: int = 100) -> list[dict[str, Any]]:
        query = (select(messages).where(messages.c.lead_id == lead_id,
                                        messages.c.channel == "in_app",
                                        messages.c.status == "sent")
                 .order_by(messages.c.position.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def for_lead(self, lead_id: str) -> list[dict[str, Any]]:
        query = (select(messages).where(messages.c.lead_id == lead_id)
                 .order_by(messages.c.position))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
