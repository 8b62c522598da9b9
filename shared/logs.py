"""JSON logs, one object a line, carrying the request id of the request that caused them."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                from flask import g, has_request_context

                record.request_id = g.get("request_id") if has_request_context() else None
            except Exception:  # logging must never fail because of Flask
                record.request_id = None
        return True


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                           rename_fields={"asctime": "time", "levelname": "level",
                                                          "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kombu and werkzeug are chatty at INFO; their warnings still show.
    for noisy in ("kombu", "amqp", "werkzeug", "waitress.queue", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # memory:// has no host name, and kombu warns about it on every connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
