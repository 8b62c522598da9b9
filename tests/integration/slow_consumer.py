"""A consumer of the events service whose handler stops for a minute after doing its work
but before it commits, so a test can kill it in the middle of a message.

python -m tests.integration.slow_consumer VAR_DIR BUS_URL EXCHANGE MARKER_FILE
"""
import sys
import time
from pathlib import Path

from services.platform import build_kernel
from shared.config import Config


def main(var_dir: str, bus_url: str, exchange: str, marker: str) -> None:
    config = Config(environ={}, DOA_VAR_DIR=var_dir, BUS_URL=bus_url, BUS_EXCHANGE=exchange,
                    BUS_VISIBILITY_TIMEOUT=2, LOG_LEVEL="WARNING")
    kernel = build_kernel("events", config, jwks=lambda: {"keys": []})  # with the topology
    handle = kernel.handlers["organisation.registered"]

    def slow(session, message):
        handle(session, message)
        session.flush()
        Path(marker).write_text(message.id)
        time.sleep(60)

    kernel.handlers["organisation.registered"] = slow
    worker = kernel.worker().start()
    worker.wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
