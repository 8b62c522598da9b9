"""No log line of ours carries an e-mail or IP address: the handler that writes every line
takes them out of the message and the traceback, whoever wrote it (flask-limiter, gunicorn,
werkzeug, a library's exception), and leaves everything else as it was."""
from __future__ import annotations

import io
import json
import logging

import pytest

from shared.logs import RedactFilter, redact
from tests.captured_logs import logs_into


@pytest.mark.parametrize("line, shown", [
    ("ratelimit 10 per 1 minute (203.0.113.7) exceeded at endpoint: notify.subscriptions",
     "ratelimit 10 per 1 minute (<ip>) exceeded at endpoint: notify.subscriptions"),
    ("Invalid request from ip=2001:db8::7: Invalid HTTP method", "Invalid request from ip=<ip>: Invalid HTTP method"),
    ("[::ffff:198.51.100.4]:5000 - - \"GET / HTTP/1.1\" 500", "[<ip>]:5000 - - \"GET / HTTP/1.1\" 500"),
    ("::1 - connection reset", "<ip> - connection reset"),
    ("550 5.1.1 <erase-me@example.org>: Recipient address rejected", "550 5.1.1 <address>: Recipient address rejected"),
    ("to Öffentlichkeit@bücher.example now", "to <address> now"),
    ("550 mailbox amina@", "550 mailbox <address>"),  # cut short
])
def test_addresses_are_taken_out(line, shown):
    assert redact(line) == shown


@pytest.mark.parametrize("line", [
    "2026-12-07 15:46:37,123 INFO doa.http POST /api/notify/subscriptions 202",
    "sent 3 e-mails (0 failed, 1 no longer wanted)", "version 1.2.3 of a library", "10.0.0.256 is no address",
    "MAC 00:1b:44:11:3a:b7", "event 3f2a9c1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b approved",
])
def test_everything_else_stays_as_written(line):
    assert redact(line) == line


def _written(fmt: str, emit) -> str:
    with logs_into(io.StringIO(), fmt=fmt) as stream:
        emit()
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_configured_handler_writes_no_address_in_a_message_or_a_traceback(fmt):
    def emit():
        logging.getLogger("flask-limiter").info("ratelimit %s (%s) exceeded at endpoint: %s", "5 per 1 minute",
                                                "192.0.2.44", "registry.tokens")
        try:
            raise ValueError("cannot send to amina@example.org from 192.0.2.45")
        except ValueError:
            logging.getLogger("doa.notify.mail").exception("e-mail %s cannot be composed", 7)

    out = _written(fmt, emit)
    assert "192.0.2.44" not in out and "192.0.2.45" not in out and "amina@example.org" not in out
    assert "ratelimit 5 per 1 minute (<ip>) exceeded at endpoint: registry.tokens" in out
    assert "ValueError: cannot send to <address> from <ip>" in out and "e-mail 7 cannot be composed" in out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[0]["logger"] == "flask-limiter" and "exc_info" in lines[1]


def test_the_filter_keeps_every_record():
    record = logging.LogRecord("werkzeug", logging.ERROR, __file__, 1, "%s - - error", ("198.51.100.9",), None)
    assert RedactFilter().filter(record) and record.getMessage() == "<ip> - - error"
