"""A bounded HTTP load generator: `python -m bench.loadgen --port P --path /x --requests N`.

Runs in its own process (so it does not share a GIL with anything it measures). Each of
`--concurrency` threads keeps one HTTP/1.1 keep-alive connection to 127.0.0.1 and sends GETs
back to back; with `--balance`, the connections are spread evenly over the server's worker
processes first. After `--warmup` requests in total, all threads meet at a barrier; then exactly
`--requests` requests are timed. `--header` adds a header to every request (If-None-Match) and
`--expect` names the status every answer must have (304), else it counts as an error; `--method
POST --body '{...}'` sends that JSON body with every request instead of a GET. Prints one JSON
object: rps, p50/p90/p99 latency in ms, errors, answers with the expected status (warm-up
included), bytes per response.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _server_sockets(port: int) -> dict[int, int]:
    """Answer {client port: inode of the server's end} for loopback connections to `port`."""
    found = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            cols = line.split()
            local, remote, inode = cols[1], cols[2], int(cols[9])
            if int(local.split(":")[1], 16) == port and inode:
                found[int(remote.split(":")[1], 16)] = inode
    return found


def _owner(inode: int, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def balanced_connections(port: int, path: str, count: int, pids: list[int]) -> list[http.client.HTTPConnection]:
    """`count` keep-alive connections spread evenly over the server processes `pids`.

    Which gunicorn worker accepts a connection is a race; a keep-alive connection then stays
    with that worker, and a 13-3 split measures something else than an 8-8 one. So: connect,
    ask once (the connection is accepted by then), see which worker holds the other end,
    and keep the connection only while that worker has fewer than its share.
    """
    quota = {pid: -(-count // len(pids)) for pid in pids}
    kept: list[http.client.HTTPConnection] = []
    attempts = 0
    while len(kept) < count:
        attempts += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        conn.getresponse().read()
        inode = _server_sockets(port).get(conn.sock.getsockname()[1])
        owner = _owner(inode, pids) if inode else None
        if owner is None or quota[owner] > 0 or attempts > 50 * count:
            if owner is not None:
                quota[owner] -= 1
            kept.append(conn)
        else:
            conn.close()
    return kept


def run(port: int, path: str, requests: int, concurrency: int, warmup: int,
        pids: list[int] | None = None, balance_path: str | None = None, headers: dict | None = None,
        expect: int = 200, method: str = "GET", body: bytes | None = None) -> dict:
    conns = (balanced_connections(port, balance_path or path, concurrency, pids) if pids
             else [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(concurrency)])
    barrier = threading.Barrier(concurrency + 1)
    done = threading.Barrier(concurrency + 1)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    reconnects = [0] * concurrency
    answered = [0] * concurrency
    sizes = [0] * concurrency
    warm_counts, timed_counts = _split(warmup, concurrency), _split(requests, concurrency)

    sent = {"Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {}),
            **(headers or {})}

    def worker(i: int) -> None:
        conn = conns[i]

        def one(timed: bool = True) -> float:
            nonlocal conn
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                response = conn.getresponse()
                size = len(response.read())
                if response.status != expect:
                    errors[i] += 1
                else:
                    answered[i] += 1
                sizes[i] = size
            except (OSError, http.client.HTTPException):
                # Warming up, the server may have closed a connection that idled while the
                # others were being balanced: reconnect. Timed, it is an error.
                reconnects[i] += 1
                errors[i] += timed
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            return time.perf_counter() - start

        try:
            for _ in range(warm_counts[i]):
                one(timed=False)
        finally:
            barrier.wait()
        try:
            out = latencies[i]
            for _ in range(timed_counts[i]):
                out.append(one())
        finally:
            done.wait()
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - start
    all_lat = sorted(x for lat in latencies for x in lat)
    q = statistics.quantiles(all_lat, n=100, method="inclusive")
    return {"requests": len(all_lat), "seconds": elapsed, "rps": len(all_lat) / elapsed,
            "p50_ms": q[49] * 1000, "p90_ms": q[89] * 1000, "p99_ms": q[98] * 1000,
            "errors": sum(errors), "answered": sum(answered), "reconnects": sum(reconnects), "bytes": max(sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--balance", default="", help="comma-separated pids of the server's workers: "
                        "spread the connections evenly over them")
    parser.add_argument("--balance-path", default=None, help="the GET that places the connections (default: "
                        "--path; a cheap one like /healthz for a slow --path)")
    parser.add_argument("--header", action="append", default=[], help="'Name: value' sent with every request "
                        "(If-None-Match, say); repeatable")
    parser.add_argument("--expect", type=int, default=200, help="the status every answer must have (304, say)")
    parser.add_argument("--method", default="GET", help="GET, or POST with --body")
    parser.add_argument("--body", default=None, help="a JSON body sent with every request (Content-Type: "
                        "application/json)")
    args = parser.parse_args()
    pids = [int(p) for p in args.balance.split(",") if p]
    headers = dict(h.split(": ", 1) for h in args.header)
    print(json.dumps(run(args.port, args.path, args.requests, args.concurrency, args.warmup, pids,
                         args.balance_path, headers, args.expect, args.method,
                         None if args.body is None else args.body.encode())))


if __name__ == "__main__":
    main()
