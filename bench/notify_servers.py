"""The receiving ends of the notify benchmarks, each run in a process of its own (so its CPU is
not the measured process's): `python -m bench.notify_servers http [--ports N] [--record]` and
`python -m bench.notify_servers smtp`.

- http: a webhook receiver on raw asyncio sockets (HTTP/1.1, keep-alive), listening on N loopback
  ports, answering every request `200` with an empty body. It parses only what it must (the
  header block and Content-Length), so it is cheap enough not to be what limits a sender.
  With --record it also prints one line per request, `hit <time.monotonic_ns()> <data.id of the
  JSON body>`, as soon as the request is complete (CLOCK_MONOTONIC is the same in every process).
- smtp: aiosmtpd's Controller on a loopback port whose handler only counts the messages.

Both print `ready <port> …` once listening, then answer each line `count` on stdin with
`count <requests or messages so far> <CPU seconds this process has used>`; end of stdin ends them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Callable

from bench.common import REPO

_print_lock = threading.Lock()


def _say(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _answer_counts(counter) -> None:
    """Answers `count` lines on stdin until it closes (the parent went away or is done)."""
    for line in sys.stdin:
        if line.strip() == "count":
            _say(f"count {counter()} {_cpu_seconds():.3f}")


# -- http -------------------------------------------------------------------------------------

_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class _Http(asyncio.Protocol):
    served = 0
    record = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            head = bytes(buffer[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17:line_end if line_end >= 0 else len(head)].strip())
            total = end + 4 + length
            if len(buffer) < total:
                return
            body = bytes(buffer[end + 4:total]) if _Http.record else b""
            del buffer[:total]
            _Http.served += 1
            self.transport.write(_RESPONSE)
            if _Http.record:
                arrived = time.monotonic_ns()
                try:
                    event_id = json.loads(body)["data"]["id"]
                except (ValueError, KeyError, TypeError):
                    event_id = "?"
                _say(f"hit {arrived} {event_id}")


async def _serve_http(ports: int) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Http, "127.0.0.1", 0, backlog=1024) for _ in range(ports)]
    _say("ready " + " ".join(str(s.sockets[0].getsockname()[1]) for s in servers))
    done = asyncio.Event()

    def stdin_thread() -> None:
        _answer_counts(lambda: _Http.served)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=stdin_thread, daemon=True).start()
    await done.wait()


# -- smtp -------------------------------------------------------------------------------------

def _serve_smtp() -> None:
    from aiosmtpd.controller import Controller

    class Counting:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            Counting.received += 1
            return "250 Message accepted"

    sock_port = _free_port()
    controller = Controller(Counting(), hostname="127.0.0.1", port=sock_port)
    controller.start()
    try:
        _say(f"ready {sock_port}")
        _answer_counts(lambda: Counting.received)
    finally:
        controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One of these servers in a child process: `ports` once it listens, `count()` to ask it how
    much it took (and the CPU it spent), `on_hit(ns, event_id)` called (from a reader thread) for
    each request when recording."""

    def __init__(self, kind: str, *, ports: int = 1, record: bool = False,
                 on_hit: Callable[[int, str], None] | None = None):
        cmd = [sys.executable, "-m", "bench.notify_servers", kind, "--ports", str(ports)]
        if record:
            cmd.append("--record")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        self.on_hit = on_hit
        self._counts: queue.Queue[str] = queue.Queue()
        first = self.proc.stdout.readline().split()
        if not first or first[0] != "ready":
            self.close()
            raise RuntimeError(f"the {kind} server did not start ({first!r})")
        self.ports = [int(p) for p in first[1:]]
        self._reader = threading.Thread(target=self._read, name=f"bench-{kind}-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "hit" and self.on_hit is not None:
                ns, _, event_id = rest.partition(" ")
                self.on_hit(int(ns), event_id)
            elif kind == "count":
                self._counts.put(rest)

    def count(self) -> tuple[int, float]:
        """(requests or messages taken so far, CPU seconds the server has used)."""
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        n, cpu = self._counts.get(timeout=30).split()
        return int(n), float(cpu)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notify_servers")
    parser.add_argument("kind", choices=("http", "smtp"))
    parser.add_argument("--ports", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if args.kind == "http":
        _Http.record = args.record
        asyncio.run(_serve_http(args.ports))
    else:
        _serve_smtp()


if __name__ == "__main__":
    main()
