"""A real webhook receiver on loopback, for the tests of notify's deliveries: a threaded HTTP
server whose every POST is handed to the test's `answer(path, headers, body)`, which returns
the status and headers to answer with (the body is always empty)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Answer = Callable[[str, dict, bytes], tuple[int, dict]]


def serve_webhooks(answer: Answer) -> ThreadingHTTPServer:
    """Start the receiver on a free loopback port; `server.shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, headers = answer(self.path, dict(self.headers), body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
