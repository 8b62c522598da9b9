"""HTTP: a campaign's iCalendar feed (`GET /api/events/campaigns/<id>/events.ics`) under gunicorn.

With 10,000 approved public events (and, to compare, 1,000) the feed is several megabytes; the
service renders it event by event (`finding.ical_stream`) and keeps the whole for the requests
that follow (shared.rendered, measured by `bench feeds`): here, on fresh workers, every request
is a first, uncached rendering. Measured, 3 times each, alternating 1k and 10k between the two
workers:

- **time to last byte** of one request (the median of 3);
- the worker's **peak RSS growth** while it renders and keeps the feed: VmHWM (the high-water mark of its
  resident set, /proc/<pid>/status) after the request minus before. Every repetition runs on
  workers that gunicorn has just started afresh (SIGHUP to the master), each first warmed up
  with a 10-event feed of the same code path, so earlier requests do not hide the growth; the
  highest VmRSS sampled every 2 ms during the request is reported too.

Baseline for the time: a bare Flask `send_file` of the same feed's bytes, pre-generated into a
file (bench/events_baseline_app.py), under the same gunicorn command line and config file,
i.e. the cost of only sending that much. The table shows both as MB/s (same bytes, so the
ratio is baseline time / app time); there is no target for it. The memory target (about flat,
well under 10x from 1k to 10k) is checked in the details.
"""
from __future__ import annotations

import http.client
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

from bench import events_seed
from bench.common import Result, temp_dir
from bench.events_list import JWKS_URL
from bench.http_list import Gunicorn, _children, _cpu_ticks
from bench.loadgen import _owner, _server_sockets

SIZES = (1_000, 10_000)
REPEATS = 3
MEMORY_TARGET = 10.0  # RSS growth 10k / 1k must stay well under this (flat would be 1)


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for process {pid}")


class _RssSampler(threading.Thread):
    """The highest VmRSS of `pid` while it runs, sampled every 2 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._stop_event = pid, _status_kb(pid, "VmRSS"), threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _status_kb(self.pid, "VmRSS"))
            time.sleep(0.002)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def _fresh_workers(server: Gunicorn, timeout: float = 60) -> list[int]:
    """SIGHUP: gunicorn starts new workers (same config) and retires the old ones. Answer the
    new workers once they have all loaded the app and idle."""
    old = set(_children(server.proc.pid))
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    previous = None
    while time.monotonic() < deadline:
        workers = _children(server.proc.pid)
        ticks = _cpu_ticks(workers)
        if (len(workers) == server.workers and not old & set(workers) and previous is not None
                and ticks - previous <= 2):
            return sorted(workers)
        previous = ticks if len(workers) == server.workers and not old & set(workers) else None
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not restart its workers for {server.app}; see {server.log}")


def _connection_to(server: Gunicorn, pid: int, workers: list[int]) -> http.client.HTTPConnection:
    """A keep-alive connection served by worker `pid` (which worker accepts one is a race)."""
    for _ in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        inode = _server_sockets(server.port).get(conn.sock.getsockname()[1])
        if inode and _owner(inode, workers) == pid:
            return conn
        conn.close()
    raise RuntimeError(f"no connection landed on worker {pid}")


def _fetch(conn: http.client.HTTPConnection, path: str) -> tuple[float, int]:
    """Time to last byte and size of one GET on an open connection."""
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or not body.endswith(b"END:VCALENDAR\r\n"):
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
    return elapsed, len(body)


def _feed(campaign: str) -> str:
    return f"/api/events/campaigns/{campaign}/events.ics"


def run() -> list[Result]:
    with temp_dir("ical") as var_dir:
        t = time.perf_counter()
        kernel = events_seed.build_kernel(var_dir)
        warm = events_seed.add_campaign(kernel, "Warm-up")
        events_seed.add_events(kernel, warm, 10)
        campaigns = {}
        for size in SIZES:
            campaigns[size] = events_seed.add_campaign(kernel, f"Day of action ({size:,} events)")
            events_seed.add_events(kernel, campaigns[size], size)
        kernel.db.dispose()
        events_seed.checkpoint(var_dir)
        print(f"  ical: seeded {sum(SIZES) + 10:,} events in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        with Gunicorn("bench.events_baseline_app:create_app()", var_dir, var_dir / "gunicorn-baseline.log") as base, \
                Gunicorn("services.events.app:create_app()", var_dir, var_dir / "gunicorn-app.log",
                         JWKS_URL=JWKS_URL) as app:
            # The baseline sends the app's own feed, from a file.
            for campaign in campaigns.values():
                status, body = app.get(_feed(campaign))
                if status != 200:
                    raise RuntimeError(f"GET {_feed(campaign)} answered {status}: {body[:300]!r}")
                (var_dir / f"{campaign}.ics").write_bytes(body)

            app_runs: dict[int, list[dict]] = {size: [] for size in SIZES}
            for i in range(REPEATS):
                workers = _fresh_workers(app)
                order = SIZES if i % 2 == 0 else SIZES[::-1]
                for size, pid in zip(order, workers, strict=False):
                    conn = _connection_to(app, pid, workers)
                    try:
                        _fetch(conn, _feed(warm))
                        hwm_before, rss_before = _status_kb(pid, "VmHWM"), _status_kb(pid, "VmRSS")
                        sampler = _RssSampler(pid)
                        sampler.start()
                        seconds, size_bytes = _fetch(conn, _feed(campaigns[size]))
                        peak = sampler.stop()
                        growth = _status_kb(pid, "VmHWM") - hwm_before
                    finally:
                        conn.close()
                    app_runs[size].append({"seconds": seconds, "bytes": size_bytes, "hwm_growth_kb": growth,
                                           "rss_before_kb": rss_before, "rss_peak_growth_kb": peak - rss_before})
                    print(f"  ical: round {i + 1}/{REPEATS} {size:>6,} events app {seconds:6.2f} s, "
                          f"{size_bytes / 1e6:.1f} MB, peak RSS +{growth / 1024:.1f} MiB (worker {pid})",
                          file=sys.stderr)

            base_runs: dict[int, list[float]] = {size: [] for size in SIZES}
            conn = http.client.HTTPConnection("127.0.0.1", base.port, timeout=60)
            try:
                for size in SIZES:
                    _fetch(conn, _feed(campaigns[size]))  # warm: the file in the page cache
                    for _ in range(REPEATS):
                        seconds, size_bytes = _fetch(conn, _feed(campaigns[size]))
                        if size_bytes != app_runs[size][0]["bytes"]:
                            raise RuntimeError("the baseline sent another size than the app")
                        base_runs[size].append(seconds)
            finally:
                conn.close()

    def med(size: int, key: str) -> float:
        return statistics.median(r[key] for r in app_runs[size])

    small, big = SIZES
    size_bytes = app_runs[big][0]["bytes"]
    app_s, base_s = med(big, "seconds"), statistics.median(base_runs[big])
    growth = {size: med(size, "hwm_growth_kb") for size in SIZES}
    rss_peak = {size: med(size, "rss_peak_growth_kb") for size in SIZES}
    ratio = growth[big] / growth[small] if growth[small] > 0 else float("inf")
    verdict = "ok, about flat" if ratio < 2 else "ok" if ratio < MEMORY_TARGET / 2 else "ABOVE TARGET"
    name = f"ical feed {big // 1000}k"
    mib = 1024
    details = [
        f"{name}: time to last byte (median of {REPEATS}) app {app_s:.2f} s, baseline (send_file of the same "
        f"{size_bytes / 1e6:.1f} MB) {base_s * 1000:.1f} ms; at {small:,} events app "
        f"{med(small, 'seconds'):.2f} s ({app_runs[small][0]['bytes'] / 1e6:.2f} MB), baseline "
        f"{statistics.median(base_runs[small]) * 1000:.1f} ms; app {app_s / size_bytes * 1e6 * 1000:.0f} ms/MB "
        f"= {app_s / big * 1e6:.0f} us an event",
        f"{name} memory: worker peak RSS growth (VmHWM after - before, median of {REPEATS}, fresh workers) "
        f"{small:,} events {growth[small] / mib:.1f} MiB, {big:,} events {growth[big] / mib:.1f} MiB: "
        f"ratio {big // 1000}k/{small // 1000}k = {ratio:.2f} (target: about flat, well under "
        f"{MEMORY_TARGET:.0f}x) {verdict}; highest VmRSS sampled during the request: +{rss_peak[small] / mib:.1f} / "
        f"+{rss_peak[big] / mib:.1f} MiB over {med(big, 'rss_before_kb') / mib:.0f} MiB"]
    return [Result(name, size_bytes / app_s / 1e6, size_bytes / base_s / 1e6, "MB/s", target=None,
                   details=details)]
