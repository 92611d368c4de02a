"""What the sender says it did, and a message's status: enums whose values are the words logs,
read models and clients have always read."""

from __future__ import annotations

from uuid import UUID, uuid4

from application.sending import Outcome
from domain.execution import WorkflowExecution
from domain.lead import Lead
from domain.message import Message, MessageStatus
from tests.integration.helpers import Harness


def executions_of(h: Harness, lead_id: UUID) -> list[WorkflowExecution]:
    """The lead's executions, as aggregates."""
    return [h.rt.app.load(WorkflowExecution, e)
            for e in h.rt.app.load(Lead, lead_id).all_execution_ids()]

def test_the_sender_answers_with_outcomes_named_as_before(h: Harness) -> None:
    # Given Ana's email step due, and a second one failing for good
    lead = h.crossing()
    # When the due steps are sent, then sent again, and an unknown id is asked for
    first = h.send_due()
    again = h.rt.sender.send_batch([executions_of(h, lead)[0].id, uuid4()])
    # Then each answer is an outcome, equal to the word it always was
    assert first == [Outcome.SENT] and first == ["sent"]
    assert again == [Outcome.NOT_DUE, Outcome.UNKNOWN] and again == ["not-due", "unknown"]
    assert all(type(o) is Outcome for o in [*first, *again])


def test_a_message_status_is_an_enum_stored_as_its_word(h: Harness) -> None:
    # Given Ana's email sent, and her text failing for good
    lead = h.crossing()
    h.send_due()
    h.clock.advance(minutes=61)
    h.channel.fail_next(permanent=True)
    h.send_due()
    # Then the aggregates hold the enum, and the read model the words as before
    [x] = executions_of(h, lead)
    email, text = (h.rt.app.load(Message, x.step(n).message_id)  # type: ignore[arg-type]
                   for n in (0, 1))
    assert email.status is MessageStatus.SENT and text.status is MessageStatus.FAILED
    rows = {r["channel"]: r["status"] for r in h.rt.messages.for_lead(str(lead))}
    assert rows == {"email": "sent", "sms": "failed"}
