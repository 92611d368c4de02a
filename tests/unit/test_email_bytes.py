"""The email written directly is byte for byte what the email package writes for a MIMEText."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import channels
from adapters.channels import email_bytes, mime_text_bytes
from application.ports import OutgoingMessage

DATE = "Wed, 25 Nov 2026 08:00:00 -0000"


def outgoing(subject: str | None, body: str, recipient: str = "ana@example.com"
             ) -> OutgoingMessage:
    return OutgoingMessage(message_id=uuid4(), lead_id=uuid4(), channel="email",
                           recipient=recipient, subject=subject, body=body)


TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200)
PLAIN = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=90)
BODIES = st.one_of(TEXT, PLAIN, st.lists(PLAIN, max_size=6).map("\n".join),
                   st.lists(PLAIN, max_size=6).map("\r\n".join))


@given(subject=st.one_of(st.none(), TEXT, PLAIN), body=BODIES,
       recipient=st.one_of(st.just("ana@example.com"), PLAIN.filter(bool)))
def test_any_message_is_written_exactly_as_the_email_package_writes_it(
        subject: str | None, body: str, recipient: str) -> None:
    message = outgoing(subject, body, recipient)
    mid = f"<{message.message_id}@followup.local>"
    assert (email_bytes("agent@example.com", message, DATE, mid)
            == mime_text_bytes("agent@example.com", message, DATE, mid))


def test_a_usual_message_does_not_need_the_email_package(monkeypatch: pytest.MonkeyPatch) -> None:
    message = outgoing("Hi Ana", "Hello Ana Lopez,\nthree new listings match your search.\n")

    def refuse(*args: object) -> bytes:
        raise AssertionError("took the slow path")

    monkeypatch.setattr(channels, "mime_text_bytes", refuse)
    written = email_bytes("agent@example.com", message, DATE, "<x@followup.local>")
    assert b"\nSubject: Hi Ana\n" in written and written.endswith(b"match your search.\n")
