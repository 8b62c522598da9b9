"""The platform's log as an operator gets it: configured as `doa run` and gunicorn configure
it (shared.logs), written into a stream of the test's own, the test's logging restored after."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import IO, Iterator

from shared.logs import configure_logging


@contextmanager
def logs_into(stream: IO[str], level: str = "INFO", fmt: str = "json") -> Iterator[IO[str]]:
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    try:
        configure_logging(level, fmt)
        root.handlers[0].setStream(stream)
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(root_level)
