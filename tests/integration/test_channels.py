"""Channel adapters against real servers and folders."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller

from adapters.channels import OutboxSender, SmtpEmailSender
from application.errors import PermanentSendError, TransientSendError
from application.ports import OutgoingMessage
from tests.conftest import SmtpInbox, free_port


def outgoing(recipient: str = "ana@example.com") -> OutgoingMessage:
    return OutgoingMessage(message_id=uuid4(), lead_id=uuid4(), channel="email",
                           recipient=recipient, subject="Hello Ana", body="Body text")


def test_smtp_delivers_with_our_message_id(smtp_server: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp_server
    message = outgoing()
    provider_id = SmtpEmailSender("127.0.0.1", port, "agent@example.com").send(message)
    [received] = inbox.wait_for(1)
    assert provider_id == f"<{message.message_id}@followup.local>"
    assert received["msg"]["Message-ID"] == provider_id  # type: ignore[index]
    assert received["msg"].get_content().strip() == "Body text"  # type: ignore[attr-defined]


class Refusing(SmtpInbox):
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("gone"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_port() -> int:
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port  # type: ignore[misc]
    controller.stop()


def test_smtp_refusals_are_permanent_or_transient(refusing_port: int) -> None:
    sender = SmtpEmailSender("127.0.0.1", refusing_port, "agent@example.com")
    with pytest.raises(PermanentSendError):
        sender.send(outgoing("gone@example.com"))
    with pytest.raises(TransientSendError, match="451"):
        sender.send(outgoing("busy@example.com"))


def test_unreachable_smtp_is_transient() -> None:
    with pytest.raises(TransientSendError):
        SmtpEmailSender("127.0.0.1", free_port(), "a@example.com", timeout=2).send(outgoing())


def test_outbox_writes_one_whole_file_per_message(tmp_path: Path) -> None:
    message = outgoing()
    OutboxSender(tmp_path).send(message)
    OutboxSender(tmp_path).send(message)  # a repeat overwrites, never duplicates
    [written] = list(tmp_path.iterdir())
    assert json.loads(written.read_text())["subject"] == "Hello Ana"
