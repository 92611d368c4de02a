"""Channel senders: SMTP email, local outbox folders, and the in-app inbox."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import smtplib
import tempfile
import threading
import time
from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path

from application.errors import PermanentSendError, TransientSendError
from application.ports import ChannelSender, OutgoingMessage

log = logging.getLogger(__name__)


def message_id_header(message: OutgoingMessage, domain: str) -> str:
    return f"<{message.message_id}@{domain}>"


#: A connection idle longer than this is checked with a NOOP before it is used again.
IDLE_CHECK_SECONDS = 5.0
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP  # readable bodies, not base64


def email_bytes(sender: str, message: OutgoingMessage, date: str, message_id: str) -> bytes:
    """The message as the email package writes a ``MIMEText`` (UTF-8, quoted-printable body).

    The common case (every header line plain ASCII of at most 78 characters, nothing for the
    generator to fold, encode or escape) is written directly, byte for byte what ``as_bytes``
    writes (a property test holds the two equal): building and flattening a ``MIMEText`` costs
    about 0.25 ms of CPU, a tenth of a step's in the sender. Anything else takes the email
    package's own path."""
    headers = (("Content-Type", 'text/plain; charset="utf-8"'), ("MIME-Version", "1.0"),
               ("Content-Transfer-Encoding", "quoted-printable"), ("From", sender),
               ("To", message.recipient), ("Subject", message.subject or ""), ("Date", date),
               ("Message-ID", message_id), ("X-Followup-Message", str(message.message_id)))
    lines = [f"{name}: {value}" for name, value in headers]
    body = UTF8_QP.body_encode(message.body)
    if (all(len(line) <= 78 and line.isascii() and line.isprintable() for line in lines)
            and all(value and value == value.strip() for _, value in headers[3:])
            and body is not None and body.isascii() and "From " not in body):
        return "\n".join([*lines, "", body]).encode("ascii")
    return mime_text_bytes(sender, message, date, message_id)


def mime_text_bytes(sender: str, message: OutgoingMessage, date: str, message_id: str) -> bytes:
    # MIMEText (the compat32 policy) builds a message several times faster than EmailMessage.
    email = MIMEText(message.body, "plain", UTF8_QP)  # type: ignore[arg-type]  # a Charset works
    email["From"] = sender
    email["To"] = message.recipient
    subject = message.subject or ""
    if subject.isascii():
        email["Subject"] = subject
    else:
        email["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]
    email["Date"] = date
    email["Message-ID"] = message_id
    email["X-Followup-Message"] = str(message.message_id)
    return email.as_bytes()


class SmtpEmailSender(ChannelSender):
    """Email over SMTP; the Message-ID header carries our message id: resends are visible.

    Open connections are shared by the sending threads (each takes one, sends, and gives it
    back; a new one is opened only when none is free), so ``open`` can pay the handshakes
    (connect, EHLO, STARTTLS, login: hundreds of ms with a real provider) before the first
    sends, which a lead's first touch would otherwise wait for."""

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0,
                 username: str | None = None, password: str | None = None,
                 starttls: bool = False, id_domain: str = "followup.local") -> None:
        self.host, self.port, self.sender = host, port, sender
        self.timeout, self.username, self.password = timeout, username, password
        self.starttls, self.id_domain = starttls, id_domain
        self._lock = threading.Lock()
        #: Open connections not in use, with when each was last used; the latest last
        self._free: list[tuple[smtplib.SMTP, float]] = []

    def open(self, connections: int) -> int:
        opened = 0
        while len(self._free) < connections:
            try:
                smtp = self._new()
            except (OSError, smtplib.SMTPException) as e:
                log.warning("smtp %s:%s not reachable at start (%s); the first sends will "
                            "connect", self.host, self.port, type(e).__name__)
                break
            self._give_back(smtp)
            opened += 1
        return opened

    def _new(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls()
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            self._close(smtp)
            raise
        return smtp

    def _take(self) -> smtplib.SMTP:
        """A free connection, else a new one. One idle for a while is checked with a NOOP
        first (servers drop idle clients); a busy one is not, so a send costs no extra round
        trip under load."""
        with self._lock:
            smtp, used = self._free.pop() if self._free else (None, 0.0)
        if smtp is not None:
            if time.monotonic() - used < IDLE_CHECK_SECONDS:
                return smtp
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (OSError, smtplib.SMTPException):
                pass
            self._close(smtp)
        return self._new()

    def _give_back(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            self._free.append((smtp, time.monotonic()))

    @staticmethod
    def _close(smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.close()

    def send(self, message: OutgoingMessage) -> str:
        message_id = message_id_header(message, self.id_domain)
        data = email_bytes(self.sender, message, formatdate(localtime=False), message_id)
        try:
            smtp = self._take()
        except (OSError, smtplib.SMTPException) as e:
            # Connecting or logging in failed (a refused login included): the provider's or our
            # settings' fault, never the message's, so it is retried, not given up
            code = getattr(e, "smtp_code", None)
            raise TransientSendError(f"smtp connection failed: {type(e).__name__}"
                                     + (f" {code}" if code else "")) from e
        broken = False
        try:
            smtp.sendmail(self.sender, [message.recipient], data)
        except smtplib.SMTPRecipientsRefused as e:
            codes = sorted(code for code, _ in e.recipients.values())
            if all(code >= 500 for code in codes):
                raise PermanentSendError(f"smtp refused the recipient: {codes}") from e
            raise TransientSendError(f"smtp deferred the recipient: {codes}") from e
        except smtplib.SMTPResponseException as e:
            if 500 <= e.smtp_code < 600:
                raise PermanentSendError(f"smtp {e.smtp_code}") from e
            raise TransientSendError(f"smtp {e.smtp_code}") from e
        except (TimeoutError, OSError, smtplib.SMTPException) as e:
            broken = True
            self._close(smtp)
            raise TransientSendError(f"smtp unreachable: {type(e).__name__}") from e
        finally:
            if not broken:  # the server answered, whatever it said: the connection is good
                self._give_back(smtp)
        return message_id


class OutboxSender(ChannelSender):
    """Writes each message as a JSON file into a folder: the embedded stand-in for a provider."""

    idempotent = True  # one file per message id

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: OutgoingMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message.message_id}.json"
        document = {"messageId": str(message.message_id), "leadId": str(message.lead_id),
                    "channel": message.channel, "to": message.recipient,
                    "subject": message.subject, "body": message.body}
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                json.dump(document, f, indent=2)
            os.replace(tmp, target)  # atomic: a reader never sees half a message
        except OSError as e:
            raise TransientSendError(f"outbox not writable: {e.strerror}") from e
        return f"outbox:{target.name}"


class InAppSender(ChannelSender):
    """In-app messages are delivered by the log itself: the inbox read model lists them."""

    idempotent = True

    def send(self, message: OutgoingMessage) -> str:
        return f"in-app:{message.message_id}"
