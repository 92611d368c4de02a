"""Message: queue, mark_sent, mark_failed, mark_unknown, engage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import ids
from domain.errors import InvalidState, InvalidValue
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
    assert message.engagement == {}
    assert not message.opened and not message.read


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


def test_record_sent_creates_the_message_with_its_send_in_one_event() -> None:
    # Given no message (the claim is the execution's StepDispatched)
    # When the provider accepted the first attempt
    message = Message.record_sent(
        message_id=MESSAGE_ID, execution_id=EXECUTION_ID, lead_id=LEAD_ID, step_no=0,
        channel="email", template_id=TEMPLATE_ID, queued_at=T0, provider_id="prov-1",
        recipient="ana@example.com", subject="Hello Ana", body="Hi Ana",
        now=T0 + timedelta(seconds=3))
    # Then
    assert then(message) == [("Message.CreatedSent", {
        "execution_id": EXECUTION_ID, "lead_id": LEAD_ID, "step_no": 0, "channel": "email",
        "template_id": TEMPLATE_ID, "queued_at": T0, "provider_id": "prov-1",
        "recipient": "ana@example.com", "subject": "Hello Ana", "body": "Hi Ana",
        "sent_at": T0 + timedelta(seconds=3),
    })]
    assert message.id == MESSAGE_ID and message.version == 1
    assert message.status == "sent" and message.provider_id == "prov-1"
    assert message.channel == "email" and message.execution_id == EXECUTION_ID


def test_a_message_created_sent_is_rebuilt_the_same_and_takes_engagement() -> None:
    # Given a message created with its send
    original = Message.record_sent(
        message_id=MESSAGE_ID, execution_id=EXECUTION_ID, lead_id=LEAD_ID, step_no=0,
        channel="email", template_id=TEMPLATE_ID, queued_at=T0, provider_id="prov-1",
        recipient="ana@example.com", subject=None, body="Hi", now=T0)
    message = given(*original.collect_events())
    assert state(message) == state(original)
    # When the lead opens it
    assert message.engage("opened", T0 + timedelta(hours=1)) is True
    # Then
    assert message.opened


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


def test_mark_unknown_records_why() -> None:
    # Given a message whose sender died during the provider call
    message = given(*queued())
    # When
    message.mark_unknown("sender died", T0 + timedelta(minutes=5))
    # Then
    assert then(message) == [("Message.OutcomeUnknown",
                              {"reason": "sender died", "at": T0 + timedelta(minutes=5)})]
    assert message.status == "unknown"


# engage ------------------------------------------------------------------------


def sent_message(channel: str = "email") -> Message:
    message = Message.queue(message_id=MESSAGE_ID, execution_id=EXECUTION_ID, lead_id=LEAD_ID,
                            step_no=0, channel=channel, template_id=TEMPLATE_ID, now=T0)
    message.mark_sent("prov-1", "ana@example.com", "S", "B", T0)
    return given(*message.collect_events())


@pytest.mark.parametrize(("kind", "channel"), [("delivered", "sms"), ("opened", "email"),
                                               ("clicked", "email"), ("read", "in_app")])
def test_engage_records_the_first_engagement_of_a_kind(kind: str, channel: str) -> None:
    # Given a sent message
    message = sent_message(channel)
    at = T0 + timedelta(hours=1)
    # When
    done = message.engage(kind, at, detail="webhook 42")
    # Then
    assert done is True
    assert then(message) == [("Message.Engaged", {"kind": kind, "at": at,
                                                  "detail": "webhook 42"})]
    assert message.engagement == {kind: at}


@pytest.mark.parametrize(("kind", "channel"), [("read", "email"), ("read", "sms"),
                                               ("opened", "in_app"), ("opened", "sms")])
def test_an_engagement_of_another_channel_is_refused(kind: str, channel: str) -> None:
    # Given a sent message of a channel the engagement is not for
    message = sent_message(channel)
    # When / Then
    assert not message.can_be(kind)
    with pytest.raises(InvalidState) as refused:
        message.engage(kind, T0)
    assert refused.value.field == "kind" and channel in refused.value.reason
    assert then(message) == [] and message.engagement == {}


def test_engage_without_detail_records_none() -> None:
    # Given
    message = sent_message()
    # When
    message.engage("opened", T0)
    # Then
    assert then(message) == [("Message.Engaged", {"kind": "opened", "at": T0, "detail": None})]


def test_a_repeated_engagement_is_not_a_new_fact() -> None:
    # Given a message opened at T0 + 1 h
    message = queue()
    message.mark_sent("prov-1", "ana@example.com", "S", "B", T0)
    message.engage("opened", T0 + timedelta(hours=1))
    message = given(*message.collect_events())
    # When it is opened again
    done = message.engage("opened", T0 + timedelta(hours=2))
    # Then
    assert done is False
    assert then(message) == []
    assert message.engagement == {"opened": T0 + timedelta(hours=1)}


def test_each_kind_is_recorded_once() -> None:
    # Given a sent message
    message = sent_message()
    # When
    message.engage("delivered", T0 + timedelta(seconds=5))
    message.engage("clicked", T0 + timedelta(minutes=5))
    message.engage("delivered", T0 + timedelta(minutes=6))
    # Then
    assert [fields["kind"] for _, fields in then(message)] == ["delivered", "clicked"]


@pytest.mark.parametrize(("status", "history"), [
    ("queued", ()),
    ("retrying", (lambda m: m.mark_failed("busy", False, T0),)),
    ("failed", (lambda m: m.mark_failed("bounced", True, T0),)),
    ("unknown", (lambda m: m.mark_unknown("sender died", T0),)),
])
def test_engage_with_a_message_not_sent_records_nothing(status: str,
                                                       history: tuple[Any, ...]) -> None:
    # Given
    message = queue()
    for command in history:
        command(message)
    message = given(*message.collect_events())
    assert message.status == status
    # When
    done = message.engage("delivered", T0 + timedelta(minutes=1))
    # Then
    assert done is False
    assert then(message) == []


@pytest.mark.parametrize("kind", ["bounced", "", "OPENED"])
def test_engage_refuses_an_unknown_kind(kind: str) -> None:
    # Given
    message = sent_message()
    # When / Then
    with pytest.raises(InvalidValue) as refused:
        message.engage(kind, T0)
    assert refused.value.field == "kind"
    assert then(message) == []


@pytest.mark.parametrize(("channel", "kinds", "opened", "read"), [
    ("email", [], False, False),
    ("email", ["delivered"], False, False),
    ("email", ["opened"], True, False),
    ("email", ["clicked"], True, False),  # a click counts as an open
    ("in_app", ["read"], False, True),
    ("in_app", ["delivered", "clicked", "read"], True, True),
])
def test_opened_and_read(channel: str, kinds: list[str], opened: bool, read: bool) -> None:
    # Given
    message = sent_message(channel)
    # When
    for kind in kinds:
        message.engage(kind, T0)
    # Then
    assert (message.opened, message.read) == (opened, read)


def test_replaying_a_messages_events_rebuilds_the_same_message() -> None:
    # Given a message that failed once, then was sent, delivered and opened
    message = queue()
    message.mark_failed("busy", False, T0)
    message.mark_sent("prov-1", "ana@example.com", "S", "B", T0 + timedelta(minutes=1))
    message.engage("delivered", T0 + timedelta(minutes=2))
    message.engage("opened", T0 + timedelta(minutes=3), "iPhone")
    # When its events are replayed
    replayed = given(*message.collect_events())
    # Then
    assert state(replayed) == state(message)
