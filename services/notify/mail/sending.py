"""Sending composed messages: over SMTP, or into a folder of .eml files when no SMTP server is configured
(the embedded default, so a newcomer can open what would have been sent in any mail client).

A sender takes messages and yields one SendResult per message, in order, and never raises for a message
that could not go: the caller decides what to retry. A 5xx reply about the recipient or the message is
permanent (retrying cannot help); a 4xx reply, a lost connection or a server that does not answer is
temporary. A refused sender or login is the operator's to fix, not the recipient's fault: temporary too.
"""
from __future__ import annotations

import email.policy
import io
import ipaddress
import os
import re
import smtplib
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import getaddresses
from itertools import count
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from services.notify.mail.compose import message_id_of

SECURITY = ("none", "starttls", "tls")


@dataclass
class SendResult:
    message_id: str         # the id given to compose (Message-ID without <…@dayofaction>)
    ok: bool
    error: str | None = None
    permanent: bool = False  # True: do not retry this message to this recipient


class Sender(Protocol):
    def send(self, messages: Iterable[EmailMessage],
             before_end: Callable[[str], None] | None = None) -> Iterator[SendResult]: ...


class SmtpSender:
    """Sends over one SMTP connection per `batch_size` messages (0: one connection for the whole call),
    at most `per_second` messages a second (0: no limit). Not safe to share between threads.

    security: "tls" (implicit TLS, port 465), "starttls" (port 587) or "none" (a relay on loopback);
    both TLS modes verify the server's certificate with the system's default context. A username and
    password are never sent without TLS except to a server on loopback.
    """

    def __init__(self, host: str, port: int = 587, security: str = "starttls", username: str | None = None,
                 password: str | None = None, timeout: float = 30.0, per_second: float = 0.0, batch_size: int = 100,
                 *, helo_name: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if security not in SECURITY:
            raise ValueError(f"security must be one of {', '.join(SECURITY)}, not {security!r}")
        if username and security == "none" and not _is_loopback(host):
            raise ValueError("an SMTP password is not sent in the clear: use security 'starttls' or 'tls'")
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username or None, password
        self.timeout, self.per_second, self.batch_size = timeout, per_second, batch_size
        self.helo_name, self.ssl_context = helo_name, ssl_context
        self._clock, self._sleep = clock, sleep
        self._next_at: float | None = None   # the earliest moment the next message may go

    def send(self, messages: Iterable[EmailMessage],
             before_end: Callable[[str], None] | None = None) -> Iterator[SendResult]:
        """`before_end(message_id)` runs when a message's bytes are all with the server but
        the final "." that makes it deliver them is not: a caller that records the message
        as sent there, and sends nothing when that fails, neither loses nor repeats a message
        if it is killed at any point (the server drops a message whose connection dies
        before the dot)."""
        connection, on_connection, unreachable = None, 0, None
        try:
            for message in messages:
                message_id = message_id_of(message)
                if unreachable:
                    # Once connecting failed, the rest of this call fails at once instead of each message
                    # waiting out its own timeout; the caller retries them later.
                    yield SendResult(message_id, False, unreachable, False)
                    continue
                if connection is not None and (connection.sock is None or 0 < self.batch_size <= on_connection):
                    _quit(connection)
                    connection = None
                if connection is None:
                    try:
                        connection, on_connection = self._connect(), 0
                    except (OSError, smtplib.SMTPException) as exc:
                        unreachable = f"cannot reach {self.host}:{self.port}: {_describe(exc)}"
                        yield SendResult(message_id, False, unreachable, False)
                        continue
                self._wait_turn()
                result = _send_one(connection, message, message_id, before_end)
                on_connection += 1
                yield result
        finally:
            if connection is not None:
                _quit(connection)

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "tls":
            connection = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout,
                                          context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout)
        try:
            # The final "." goes alone after the caller records the message: without this it
            # would wait for the server's delayed ACK (Nagle), some 40 ms a message.
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _wait_turn(self) -> None:
        """Sleep until the rate limit lets the next message go."""
        if self.per_second <= 0:
            return
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + 1.0 / self.per_second


def _send_one(connection: smtplib.SMTP, message: EmailMessage, message_id: str,
              before_end: Callable[[str], None] | None = None) -> SendResult:
    try:
        refused = _transact(connection, message, message_id, before_end)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        return _failed(message_id, code, reply)
    except smtplib.SMTPSenderRefused as exc:
        return SendResult(message_id, False, f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}", False)
    except smtplib.SMTPResponseException as exc:   # the reply to DATA, or any other command
        return _failed(message_id, exc.smtp_code, exc.smtp_error)
    except smtplib.SMTPNotSupportedError as exc:   # a non-ASCII address the server cannot take
        return SendResult(message_id, False, _describe(exc), True)
    except (OSError, smtplib.SMTPException) as exc:
        connection.close()   # the next message reconnects
        return SendResult(message_id, False, _describe(exc), False)
    except _NotRecorded as exc:   # the caller could not record it: the server drops it with the connection
        connection.close()
        return SendResult(message_id, False, f"not sent: {_describe(exc.__cause__ or exc)}", False)
    except ValueError as exc:   # a message without From or To: sending it again will not help
        return SendResult(message_id, False, str(exc), True)
    if refused:
        code, reply = next(iter(refused.values()))
        return _failed(message_id, code, reply)
    return SendResult(message_id, True, None, False)


class _NotRecorded(Exception):
    pass


def _transact(connection: smtplib.SMTP, message: EmailMessage, message_id: str,
              before_end: Callable[[str], None] | None) -> dict:
    """smtplib's send_message, with the final "." held back until `before_end` has run."""
    if before_end is None:
        return connection.send_message(message)
    sender = message["From"]
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    if not sender or not recipients:
        raise ValueError("the message has no From or no To")
    sender_address = getaddresses([sender])[0][1]
    options: list[str] = []
    if any(not a.isascii() for a in [sender_address, *recipients]):
        if not connection.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the server cannot take non-ASCII addresses (SMTPUTF8)")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    buffer = io.BytesIO()
    # Non-ASCII addresses go as they are (SMTPUTF8); everything else as the message's own policy says.
    BytesGenerator(buffer, policy=email.policy.SMTPUTF8 if options else message.policy).flatten(
        message, linesep="\r\n")
    connection.ehlo_or_helo_if_needed()
    code, reply = connection.mail(sender_address, options)
    if code != 250:
        connection.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender_address)
    refused = {}
    for address in recipients:
        code, reply = connection.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    if len(refused) == len(recipients):
        connection.rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = connection.docmd("data")
    if code != 354:
        connection.rset()
        raise smtplib.SMTPDataError(code, reply)
    body = smtplib._quote_periods(buffer.getvalue())  # noqa: SLF001 - smtplib's own dot-stuffing
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    connection.send(body)
    try:
        before_end(message_id)
    except Exception as exc:
        raise _NotRecorded from exc
    connection.send(b".\r\n")
    code, reply = connection.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _failed(message_id: str, code: int, reply: bytes | str) -> SendResult:
    return SendResult(message_id, False, f"{code} {_text(reply)}", 500 <= code < 600)


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmlSender:
    """Writes each message to `<folder>/<UTC timestamp>-<message id>.eml`: written whole to a temporary file,
    then linked under its name, so a reader never sees half a message and no file is ever overwritten.
    The folder and files are readable by their owner only: they hold the recipients' addresses."""

    def __init__(self, folder: Path, *, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.folder = Path(folder)
        self._now = now

    def send(self, messages: Iterable[EmailMessage],
             before_end: Callable[[str], None] | None = None) -> Iterator[SendResult]:
        for message in messages:
            message_id = message_id_of(message)
            try:
                if before_end is not None:
                    before_end(message_id)  # as for SMTP: recorded first, then written
                self.write(message, message_id)
            except OSError as exc:
                yield SendResult(message_id, False, f"cannot write to {self.folder}: {_describe(exc)}", False)
            else:
                yield SendResult(message_id, True, None, False)

    def write(self, message: EmailMessage, message_id: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stem = f"{self._now().astimezone(timezone.utc):%Y%m%dT%H%M%S.%fZ}-{_file_safe(message_id)}"
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(message.as_bytes())
                file.flush()
                os.fsync(file.fileno())
            for attempt in count():
                target = self.folder / (f"{stem}.eml" if attempt == 0 else f"{stem}-{attempt}.eml")
                try:
                    os.link(temporary, target)   # unlike rename, fails rather than replace an existing file
                    return target
                except FileExistsError:
                    continue
        finally:
            os.unlink(temporary)
        raise AssertionError("unreachable")


def _file_safe(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", message_id)[:100].lstrip(".") or "message"


def make_sender(smtp_host: str, smtp_port: int, security: str, username: str, password: str, timeout: float,
                per_second: float, batch_size: int, eml_folder: Path) -> Sender:
    """SMTP when a host is configured, else .eml files in `eml_folder` (the embedded default: var/mail/).
    An empty username means no login."""
    if smtp_host:
        return SmtpSender(smtp_host, smtp_port, security, username or None, password or None, timeout, per_second,
                          batch_size)
    return EmlSender(Path(eml_folder))
