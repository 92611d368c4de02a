"""Message: queue, mark_sent, mark_failed."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain import ids
from domain.message import Message
from tests.unit.conftest import T0, given, state, then

EXECUTION_ID = UUID("00000000-0000-4000-8000-0000000000e1")
LEAD_ID = UUID("00000000-0000-4000-8000-0000000000b1")
TEMPLATE_ID = "00000000-0000-4000-8000-0000000000c1"
MESSAGE_ID = ids.message_id(EXECUTION_ID, 0, 1)


def queue() -> Message:
    return Message.queue(message_id=MESSAGE_ID, execution_id=EXECUTION_ID, lead_id=LEAD_ID,
                         step_no=0, channel="email", template_id=TEMPLATE_ID, now=T0)


def queued() -> list[object]:
    return list(queue().collect_events())


def test_queue_records_the_message() -> None:
    # Given no message
    # When
    message = queue()
    # Then
    assert then(message) == [("Message.Created", {
        "execution_id": EXECUTION_ID, "lead_id": LEAD_ID, "step_no": 0, "channel": "email",
        "template_id": TEMPLATE_ID, "queued_at": T0,
    })]
    assert message.id == MESSAGE_ID
    assert message.status == "queued"
    assert message.provider_id is None


def test_mark_sent_records_what_was_sent() -> None:
    # Given
    message = given(*queued())
    # When
    message.mark_sent("prov-1", "ana@example.com", "Hello Ana", "Hi Ana", T0 + timedelta(seconds=3))
    # Then
    assert then(message) == [("Message.Sent", {
        "provider_id": "prov-1", "recipient": "ana@example.com", "subject": "Hello Ana",
        "body": "Hi Ana", "sent_at": T0 + timedelta(seconds=3),
    })]
    assert message.status == "sent"
    assert message.provider_id == "prov-1"


@pytest.mark.parametrize(("permanent", "status"), [(True, "failed"), (False, "retrying")])
def test_mark_failed_records_the_failure(permanent: bool, status: str) -> None:
    # Given
    message = given(*queued())
    # When
    message.mark_failed("mailbox full", permanent, T0 + timedelta(minutes=1))
    # Then
    assert then(message) == [("Message.Failed", {
        "reason": "mailbox full", "permanent": permanent, "at": T0 + timedelta(minutes=1),
    })]
    assert message.status == status


def test_a_retried_message_can_then_be_sent() -> None:
    # Given a transient failure
    message = queue()
    message.mark_failed("busy", False, T0)
    message = given(*message.collect_events())
    # When
    message.mark_sent("prov-2", "+1555", None, "Hi", T0 + timedelta(minutes=2))
    # Then
    assert [name for name, _ in then(message)] == ["Message.Sent"]
    assert message.status == "sent"


def test_replaying_a_messages_events_rebuilds_the_same_message() -> None:
    # Given a message that failed once, then was sent
    message = queue()
    message.mark_failed("busy", False, T0)
    message.mark_sent("prov-1", "ana@example.com", "S", "B", T0 + timedelta(minutes=1))
    # When its events are replayed
    replayed = given(*message.collect_events())
    # Then
    assert state(replayed) == state(message)
