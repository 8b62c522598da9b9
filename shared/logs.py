"""JSON logs, one object a line, carrying the request id of the request that caused them (and
the trace id of the W3C trace it belongs to, which bus messages carry on: shared.tracing),
and never an e-mail or IP address (a library's line that names one has it replaced)."""
from __future__ import annotations

import ipaddress
import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from shared.tracing import current_trace_id


class RequestIdFilter(logging.Filter):
    """Names the request (its X-Request-ID) and the trace (W3C trace id, shared.tracing: the
    request's, or the bus message's being handled) a line was written for."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                from flask import g, has_request_context

                record.request_id = g.get("request_id") if has_request_context() else None
            except Exception:  # logging must never fail because of Flask
                record.request_id = None
        if not hasattr(record, "trace_id"):
            try:
                record.trace_id = current_trace_id()
            except Exception:  # nor because of tracing
                record.trace_id = None
        return True


# An e-mail address with its <…>, also one cut short ("amina@": a stored error truncated).
EMAIL_ADDRESS = re.compile(r"<?[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]*>?")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%\w+)?(?![\w:])")


def _if_address(replacement: str):
    def replace(match: re.Match) -> str:
        found = match.group(0)
        address = found.rstrip(":")  # "ip=::1: refused": the colon after it is the sentence's
        try:
            ipaddress.ip_address(address.split("%")[0])
        except ValueError:  # "15:46:37", "1.2.3.999": not an address
            return found
        return replacement + found[len(address):]
    return replace


def redact(text: str) -> str:
    """`text` without e-mail or IP addresses ("<address>", "<ip>" in their place)."""
    if "@" in text:
        text = EMAIL_ADDRESS.sub("<address>", text)
    if ":" in text:
        text = _IPV6.sub(_if_address("<ip>"), text)
    if "." in text:
        text = _IPV4.sub(_if_address("<ip>"), text)
    return text


class RedactFilter(logging.Filter):
    """Takes e-mail and IP addresses out of a record's message and traceback before a handler
    writes it: flask-limiter's "ratelimit … (<ip>) exceeded", gunicorn's "Invalid request from
    ip=…", a server's address in a library's error. Our own lines name neither."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info:
            record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # formatters write exc_text, which is redacted below
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(trace_id)s",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kombu and werkzeug are chatty at INFO; their warnings still show.
    for noisy in ("kombu", "amqp", "werkzeug", "waitress.queue", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # memory:// has no host name, and kombu warns about it on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
