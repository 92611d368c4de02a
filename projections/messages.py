"""Messages read model: every send per lead, and the in-app inbox."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
)

from application.follower import Item
from domain.message import Message, MessageStatus
from projections.base import Changes, SqlProjection, metadata

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
    topics = tuple(get_topic(c) for c in (Message.Created, Message.CreatedSent, Message.Sent,
                                          Message.Failed, Message.OutcomeUnknown,
                                          Message.Engaged))
    tables = (messages,)

    def handle_batch(self, conn: Connection, items: list[Item]) -> None:
        rows = Changes(messages, "message_id")
        for item in items:
            event, ident = item.event, str(item.event.originator_id)
            if isinstance(event, Message.Created):
                rows.insert(ident, {
                    "message_id": ident, "lead_id": str(event.lead_id),
                    "execution_id": str(event.execution_id), "step_no": event.step_no,
                    "channel": event.channel, "status": MessageStatus.QUEUED.value,
                    "queued_at": event.queued_at.isoformat(), "position": item.position,
                    **dict.fromkeys(NULLABLE), **_changes(event)})
            else:
                rows.update(ident, _changes(event))
        rows.write(conn)

    def inbox(self, lead_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The lead's in-app messages, newest first, each with ``read_at`` (``None``: unread)."""
        query = (select(messages).where(*_in_inbox(lead_id))
                 .order_by(messages.c.position.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def unread(self, lead_id: str) -> int:
        """How many of the lead's in-app messages are unread (all of them, not one page)."""
        query = (select(func.count()).select_from(messages)
                 .where(*_in_inbox(lead_id), messages.c.read_at.is_(None)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def for_lead(self, lead_id: str) -> list[dict[str, Any]]:
        query = (select(messages).where(messages.c.lead_id == lead_id)
                 .order_by(messages.c.position))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _in_inbox(lead_id: str) -> tuple[Any, ...]:
    return (messages.c.lead_id == lead_id, messages.c.channel == "in_app",
            messages.c.status == MessageStatus.SENT.value)


NULLABLE = ("recipient", "subject", "body", "provider_id", "failure", "sent_at", "delivered_at",
            "opened_at", "clicked_at", "read_at")
ENGAGED_COLUMNS = {"delivered": "delivered_at", "opened": "opened_at", "clicked": "clicked_at",
                   "read": "read_at"}


def _changes(event: Any) -> dict[str, Any]:
    """The columns an event sets beyond ``Created``'s."""
    if isinstance(event, Message.Sent | Message.CreatedSent):
        return {"status": MessageStatus.SENT.value, "recipient": event.recipient,
                "subject": event.subject, "body": event.body, "provider_id": event.provider_id,
                "sent_at": event.sent_at.isoformat()}
    if isinstance(event, Message.Engaged):
        return {ENGAGED_COLUMNS[event.kind]: event.at.isoformat()}
    if isinstance(event, Message.OutcomeUnknown):
        return {"status": MessageStatus.UNKNOWN.value, "failure": event.reason}
    if isinstance(event, Message.Failed):
        failed = MessageStatus.FAILED if event.permanent else MessageStatus.RETRYING
        return {"status": failed.value, "failure": event.reason}
    return {}
