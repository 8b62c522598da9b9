"""Sending e-mail to a real SMTP server (aiosmtpd) on loopback: one connection per batch, one result per
message in order, 5xx permanent and 4xx or a dead server temporary, the rate limit, STARTTLS with login;
and the .eml folder used when no SMTP server is configured."""
from __future__ import annotations

import datetime as dt
import email
import os
import ssl
import stat
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notify.mail.compose import compose
from services.notify.mail.render import render
from services.notify.mail.sending import EmlSender, SmtpSender, make_sender
from tests.conftest import free_port

UTC = dt.timezone.utc
UNSUBSCRIBE = "https://doa.example/notify/unsubscribe?token=u1"
LINKS = {"unsubscribe_url": UNSUBSCRIBE, "erase_url": "https://doa.example/notify/erasure?token=e1"}
EVENT = {"title": "Марш за климат", "city": "Москва", "country": "RU", "activity_type": "rally",
         "timezone": "Europe/Moscow", "starts_at": dt.datetime(2022, 12, 1, 14, 0, tzinfo=UTC),
         "url": "https://doa.example/events/e1"}



class Collector:
    """Keeps every message it accepts; refuses the recipients and messages it is told to."""

    def __init__(self, rcpt_replies: dict[str, str] | None = None, data_reply: str | None = None):
        self.received: list[dict] = []
        self.rcpt_replies = rcpt_replies or {}
        self.data_reply = data_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        # The client's port tells its connections apart.
        self.received.append({"peer": session.peer, "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "message": email.message_from_bytes(envelope.content, policy=policy.default)})
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    started = []

    def start(handler: Collector | None = None, **options) -> tuple[Collector, int]:
        handler = handler or Collector()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        started.append(controller)
        return handler, controller.port

    yield start
    for controller in started:
        controller.stop()


def message(number: int, to: str | None = None, language: str = "ru"):
    rendered = render("new_event", language, {"event": EVENT, **LINKS})
    return compose(rendered, sender="Day of Action <notify@doa.example>", to=to or f"reader{number}@example.org",
                   message_id=f"new-event-e1-s{number}", unsubscribe_url=UNSUBSCRIBE)


def test_fifty_messages_go_over_one_connection_intact(smtp_server):
    server, port = smtp_server()
    messages = [message(n, language="fa" if n % 2 else "ru") for n in range(50)]
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=0, batch_size=100)

    results = list(sender.send(messages))

    assert [r.message_id for r in results] == [f"new-event-e1-s{n}" for n in range(50)]
    assert all(r.ok and r.error is None for r in results)
    assert len(server.received) == 50
    assert len({item["peer"] for item in server.received}) == 1
    for n, item in enumerate(server.received):
        assert item["from"] == "notify@doa.example" and item["to"] == [f"reader{n}@example.org"]
        got = item["message"]
        assert got["Message-ID"] == f"<new-event-e1-s{n}@dayofaction>"
        assert got["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
        assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        sent = render("new_event", "fa" if n % 2 else "ru", {"event": EVENT, **LINKS})
        assert got["Subject"] == sent.subject
        assert got.get_body(("plain",)).get_content().replace("\r\n", "\n") == sent.text
        assert got.get_body(("html",)).get_content().replace("\r\n", "\n") == sent.html
    assert "Марш за климат" in server.received[0]["message"].get_body(("plain",)).get_content()
    assert "رویداد جدید" in server.received[1]["message"]["Subject"]


def test_a_batch_size_limits_the_messages_per_connection(smtp_server):
    server, port = smtp_server()
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=0, batch_size=20)
    assert all(r.ok for r in sender.send(message(n) for n in range(50)))
    peers = [item["peer"] for item in server.received]
    assert len(set(peers)) == 3 and len(set(peers[:20])) == len(set(peers[20:40])) == 1


def test_a_refused_recipient_is_permanent_and_the_others_still_go(smtp_server):
    server, port = smtp_server(Collector(rcpt_replies={"nobody@example.org": "550 no such user",
                                                       "full@example.org": "452 mailbox full, try later"}))
    messages = [message(0), message(1, to="nobody@example.org"), message(2), message(3, to="full@example.org"),
                message(4)]
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=0, batch_size=100)

    results = list(sender.send(messages))

    assert [(r.ok, r.permanent) for r in results] == [(True, False), (False, True), (True, False), (False, False),
                                                      (True, False)]
    assert results[1].error == "550 no such user" and results[3].error.startswith("452")
    assert [item["to"] for item in server.received] == [["reader0@example.org"], ["reader2@example.org"],
                                                        ["reader4@example.org"]]
    assert len({item["peer"] for item in server.received}) == 1


def test_a_message_refused_after_data_is_permanent(smtp_server):
    _, port = smtp_server(Collector(data_reply="554 rejected as spam"))
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=0, batch_size=100)
    results = list(sender.send([message(0), message(1)]))
    assert [(r.ok, r.permanent, r.error) for r in results] == [(False, True, "554 rejected as spam")] * 2


class ClosingOnce(Collector):
    """Answers one message with 421 (the server is going away), which makes the client close."""

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos == ["reader2@example.org"]:
            return "421 shutting down, try later"
        return await super().handle_DATA(server, session, envelope)


def test_after_a_lost_connection_the_next_message_reconnects(smtp_server):
    server, port = smtp_server(ClosingOnce())
    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=0, batch_size=100)
    results = list(sender.send(message(n) for n in range(5)))
    assert [(r.ok, r.permanent) for r in results] == [(True, False)] * 2 + [(False, False)] + [(True, False)] * 2
    peers = [item["peer"] for item in server.received]
    assert len(peers) == 4 and peers[0] == peers[1] != peers[2] == peers[3]


def test_a_server_that_is_down_gives_temporary_errors_for_all_without_raising():
    sender = SmtpSender("127.0.0.1", free_port(), "none", None, None, timeout=2, per_second=0, batch_size=100)
    results = list(sender.send(message(n) for n in range(5)))
    assert [r.message_id for r in results] == [f"new-event-e1-s{n}" for n in range(5)]
    assert all(not r.ok and not r.permanent and "cannot reach 127.0.0.1" in r.error for r in results)


def test_the_rate_limit_spaces_messages_by_sleeping(smtp_server):
    server, port = smtp_server()
    now, slept = [100.0], []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    sender = SmtpSender("127.0.0.1", port, "none", None, None, timeout=5, per_second=4, batch_size=100,
                        clock=lambda: now[0], sleep=sleep)
    assert all(r.ok for r in sender.send(message(n) for n in range(5)))
    assert slept == [0.25] * 4 and len(server.received) == 5
    # The limit holds across calls; time that has passed already counts.
    now[0] += 0.1
    assert all(r.ok for r in sender.send([message(5)]))
    assert slept[-1] == 0.15


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_and_login(smtp_server, tmp_path):
    cert_file, key_file = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword) and session.ssl is not None   # only ever over TLS
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)   # False: reply 535

    server, port = smtp_server(tls_context=server_context, require_starttls=True, authenticator=authenticator,
                               auth_required=True, server_hostname="localhost")
    client_context = ssl.create_default_context(cafile=str(cert_file))
    sender = SmtpSender("localhost", port, "starttls", "notify", "s3cret", timeout=5, per_second=0, batch_size=100,
                        ssl_context=client_context)
    assert [r.ok for r in sender.send([message(0), message(1)])] == [True, True]
    assert logins == [(b"notify", b"s3cret")] and len(server.received) == 2

    wrong = SmtpSender("localhost", port, "starttls", "notify", "wrong", timeout=5, per_second=0, batch_size=100,
                       ssl_context=client_context)
    results = list(wrong.send([message(2), message(3)]))
    assert all(not r.ok and not r.permanent and "SMTPAuthenticationError" in r.error for r in results)
    assert len(logins) == 3   # smtplib tries PLAIN, then LOGIN; once for the call, not once a message
    # Without a certificate the client trusts, nothing is sent (and no password).
    untrusting = SmtpSender("localhost", port, "starttls", "notify", "s3cret", timeout=5, per_second=0,
                            batch_size=100)
    assert [r.ok for r in untrusting.send([message(4)])] == [False]
    assert len(logins) == 3 and len(server.received) == 2


def test_a_password_is_not_sent_in_the_clear_to_a_remote_server():
    with pytest.raises(ValueError, match="clear"):
        SmtpSender("smtp.example.org", 25, "none", "notify", "s3cret", timeout=5, per_second=0, batch_size=10)
    with pytest.raises(ValueError, match="security"):
        SmtpSender("smtp.example.org", 25, "ssl", None, None, timeout=5, per_second=0, batch_size=10)


# --- .eml files ---

def test_eml_files_are_written_whole_never_overwritten_and_parse_back(tmp_path):
    folder = tmp_path / "var" / "mail"
    fixed = dt.datetime(2022, 12, 1, 14, 0, 5, 123456, tzinfo=UTC)
    sender = EmlSender(folder, now=lambda: fixed)

    results = list(sender.send([message(1, language="fa"), message(1, language="fa"), message(2)]))

    assert [(r.message_id, r.ok) for r in results] == [("new-event-e1-s1", True), ("new-event-e1-s1", True),
                                                        ("new-event-e1-s2", True)]
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["20221201T140005.123456Z-new-event-e1-s1-1.eml", "20221201T140005.123456Z-new-event-e1-s1.eml",
                     "20221201T140005.123456Z-new-event-e1-s2.eml"]   # no temporary file left behind
    parsed = email.message_from_bytes((folder / names[1]).read_bytes(), policy=policy.default)
    assert parsed["To"] == "reader1@example.org" and parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed.get_body(("plain",)).get_content() == render("new_event", "fa", {"event": EVENT, **LINKS}).text
    assert stat.S_IMODE(os.stat(folder / names[1]).st_mode) == 0o600   # addresses: the owner's eyes only


def test_an_unwritable_folder_gives_a_temporary_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    results = list(EmlSender(blocker / "mail").send([message(0)]))
    assert [(r.ok, r.permanent) for r in results] == [(False, False)] and "cannot write" in results[0].error


def test_make_sender_chooses_smtp_when_a_host_is_configured(tmp_path):
    smtp = make_sender("smtp.example.org", 587, "starttls", "notify", "s3cret", 10.0, 5.0, 50, tmp_path)
    assert isinstance(smtp, SmtpSender) and (smtp.host, smtp.port, smtp.batch_size) == ("smtp.example.org", 587, 50)
    eml = make_sender("", 25, "none", "", "", 10.0, 0.0, 100, tmp_path / "mail")
    assert isinstance(eml, EmlSender) and eml.folder == tmp_path / "mail"
