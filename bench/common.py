"""Small helpers the benchmarks share: results, temporary folders, ports, the environment."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import redis

from shared.config import SETTINGS

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass
class Result:
    """One line of the table: higher is better for both value and baseline."""

    name: str
    value: float
    baseline: float
    unit: str
    target: float | None = 0.5  # None: the ratio is reported, but there is no target for it
    details: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


def sized(name: str, count: int) -> str:
    """A result's name with its size: `notify email 10k`, or `notify email 1500` when not whole thousands."""
    return f"{name} {count // 1000}k" if count % 1000 == 0 else f"{name} {count}"


def print_table(results: list[Result]) -> None:
    header = ("name", "value", "baseline", "ratio", "target")
    rows = [(r.name, f"{r.value:,.1f} {r.unit}", f"{r.baseline:,.1f} {r.unit}",
             f"{r.ratio:.2f}" if r.ratio >= 0.1 else f"{r.ratio:.2g}",
             "-" if r.target is None else f">= {r.target:.2f}" + ("" if r.ratio >= r.target else "  BELOW"))
            for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A scratch DOA_VAR_DIR, removed afterwards (BENCH_KEEP=1 keeps it)."""
    path = Path(tempfile.mkdtemp(prefix=f"doa-bench-{prefix}-"))
    try:
        yield path
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(path, ignore_errors=True)


def flush_redis(url: str = REDIS_URL) -> None:
    """Empty the benchmark's own Redis database (that DB number only)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environ(**settings: str) -> dict[str, str]:
    """os.environ without any of the platform's settings, plus `settings`: a benchmark must not
    pick up a developer's REGISTRY_DATABASE_URL or BUS_URL by accident."""
    names = {s.name for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(settings)
    return env
