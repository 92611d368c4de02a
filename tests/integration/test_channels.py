"""Channel adapters against real servers and folders."""

from __future__ import annotations

import json
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from adapters.channels import OutboxSender, SmtpEmailSender
from application.errors import PermanentSendError, TransientSendError
from application.ports import OutgoingMessage
from tests.conftest import SmtpInbox, free_port


def outgoing(recipient: str = "ana@example.com") -> OutgoingMessage:
    return OutgoingMessage(message_id=uuid4(), lead_id=uuid4(), channel="email",
                           recipient=recipient, subject="Hello Ana", body="Body text")


@contextmanager
def serving(handler: object, **options: Any) -> Iterator[int]:
    """A real SMTP server on loopback with this handler, for the block: its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


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
def refusing_port() -> Iterator[int]:
    with serving(Refusing()) as port:
        yield port


def test_smtp_refusals_are_permanent_or_transient(refusing_port: int) -> None:
    sender = SmtpEmailSender("127.0.0.1", refusing_port, "agent@example.com")
    with pytest.raises(PermanentSendError):
        sender.send(outgoing("gone@example.com"))
    with pytest.raises(TransientSendError, match="451"):
        sender.send(outgoing("busy@example.com"))
    # The server answered each time: the one connection stays open for the next send
    assert len(sender._free) == 1
    sender.send(outgoing("ana@example.com"))
    assert len(sender._free) == 1


def test_a_refused_smtp_login_is_transient_not_the_messages_fault() -> None:
    def deny(server: Any, session: Any, envelope: Any, mechanism: str,
             auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    with serving(SmtpInbox(), authenticator=deny, auth_require_tls=False) as port:
        sender = SmtpEmailSender("127.0.0.1", port, "agent@example.com", username="agent",
                                 password="wrong", timeout=5)
        assert sender.open(2) == 0  # refused at start: said in the log, left to the sends
        # A wrong password is the settings' fault: the step is retried (and, if it lasts,
        # dead-lettered for the agent to replay), never given up as if the lead refused it
        with pytest.raises(TransientSendError, match="535"):
            sender.send(outgoing())


def test_unreachable_smtp_is_transient() -> None:
    with pytest.raises(TransientSendError):
        SmtpEmailSender("127.0.0.1", free_port(), "a@example.com", timeout=2).send(outgoing())


def test_outbox_writes_one_whole_file_per_message(tmp_path: Path) -> None:
    message = outgoing()
    OutboxSender(tmp_path).send(message)
    OutboxSender(tmp_path).send(message)  # a repeat overwrites, never duplicates
    [written] = list(tmp_path.iterdir())
    assert json.loads(written.read_text())["subject"] == "Hello Ana"


class PeerRecording(SmtpInbox):
    def __init__(self) -> None:
        super().__init__()
        self.peers: list[object] = []

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_smtp_reuses_the_thread_connection_and_reopens_a_dropped_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    first = PeerRecording()
    controller = Controller(first, hostname="127.0.0.1", port=port)
    controller.start()
    sender = SmtpEmailSender("127.0.0.1", port, "agent@example.com", timeout=5)
    try:
        for _ in range(3):
            sender.send(outgoing())
        first.wait_for(3)
        assert len(set(map(str, first.peers))) == 1  # one connection carried all three
    finally:
        controller.stop()
    second = PeerRecording()  # the server went away and came back
    controller = Controller(second, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # A connection in use moments ago is not checked first: its send fails, transiently,
        # and the next send opens a new connection
        with pytest.raises(TransientSendError):
            sender.send(outgoing())
        sender.send(outgoing())
        assert len(second.wait_for(1)) == 1
        # A connection idle for a while is checked with a NOOP and replaced before the send
        controller.stop()
        controller = Controller(second, hostname="127.0.0.1", port=port)
        controller.start()
        monkeypatch.setattr("adapters.channels.IDLE_CHECK_SECONDS", 0.0)
        sender.send(outgoing())
        assert len(second.wait_for(2)) == 2
    finally:
        controller.stop()


def test_smtp_connections_opened_at_start_carry_every_threads_first_sends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = PeerRecording()
    opened: list[smtplib.SMTP] = []

    class Counting(smtplib.SMTP):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr("adapters.channels.smtplib.SMTP", Counting)
    with serving(server) as port:
        # Given a sender that opened three connections before any send (EHLO done too)
        sender = SmtpEmailSender("127.0.0.1", port, "agent@example.com", timeout=5)
        assert sender.open(3) == 3 and sender.open(3) == 0  # open already: none more
        assert len(opened) == 3 and all(smtp.does_esmtp for smtp in opened)
        # When three threads each send two messages at the same moment
        ready = threading.Barrier(3)

        def send_two() -> None:
            ready.wait()
            sender.send(outgoing())
            sender.send(outgoing())

        threads = [threading.Thread(target=send_two) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        # Then the three connections carried all six: no thread had to open one
        assert len(server.wait_for(6)) == 6
        assert len(opened) == 3 and len(set(map(str, server.peers))) <= 3


def test_smtp_unreachable_at_start_leaves_the_first_sends_to_connect() -> None:
    assert SmtpEmailSender("127.0.0.1", free_port(), "a@example.com", timeout=2).open(2) == 0


def test_smtp_encodes_a_non_ascii_subject_and_body(smtp_server: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp_server
    message = OutgoingMessage(message_id=uuid4(), lead_id=uuid4(), channel="email",
                              recipient="jose@example.com", subject="José, três casas novas",
                              body="Olá José, a casa em São Paulo está à venda.")
    SmtpEmailSender("127.0.0.1", port, "agent@example.com").send(message)
    [received] = inbox.wait_for(1)
    assert received["msg"]["Subject"] == "José, três casas novas"  # type: ignore[index]
    body = received["msg"].get_content()  # type: ignore[attr-defined]
    assert body.strip() == "Olá José, a casa em São Paulo está à venda."
