"""Coordinators' exports (issue 17): 100,000 events as CSV in flat memory.

App: `services.events.exports.event_rows` (the list's filters, batches of 1,000 rows in short
transactions, the organisation joined) through `shared.exports.csv_stream` (formula-safe cells,
pieces of 500 rows), every byte consumed and counted — what the export endpoint streams. The
events database is made by `services.events.app.build` and filled by bench/events_seed.py.

Baseline: the same rows' columns read with `sqlite3` (`fetchmany(1000)` of `SELECT *` from
local_events) and written with `csv.writer` to the same kind of sink: the bare work.

Memory: tracemalloc's peak during the export, for 10,000 events and then 100,000 (the same
database, 90,000 added): flat memory means the two peaks are alike, and both stay under
CEILING_MIB (the benchmark fails otherwise). The .xlsx export of the 100,000 is timed too.
"""
from __future__ import annotations

import csv
import io
import os
import sqlite3
import sys
import time
import tracemalloc

from bench.common import Result, sized, temp_dir
from bench.events_seed import add_campaign, add_events, build_kernel

SMALL, LARGE = 10_000, int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
CEILING_MIB = 32.0


def _measured(make_chunks) -> tuple[int, float, float]:
    """(bytes, seconds, peak MiB) of consuming what `make_chunks()` yields."""
    tracemalloc.start()
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in make_chunks())
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return size, seconds, peak


def _app(kernel):
    from services.events import exports
    from shared.auth import Principal
    from shared.exports import csv_stream

    coordinator = Principal(role="coordinator", subject_id="00000000-0000-4000-8000-000000000001", key_id="bench")
    header = [name for name, _ in exports.EVENT_COLUMNS]
    return lambda: csv_stream(header, exports.event_rows(kernel.db, {}, coordinator))


def _baseline(path: str):
    def chunks():
        connection = sqlite3.connect(path)
        try:
            cursor = connection.execute("SELECT * FROM local_events")
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([d[0] for d in cursor.description])
            while rows := cursor.fetchmany(1000):
                writer.writerows(rows)
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        finally:
            connection.close()
    return chunks


def _xlsx(kernel) -> tuple[float, int]:
    from services.events import exports
    from shared.auth import Principal
    from shared.exports import xlsx_file

    coordinator = Principal(role="coordinator", subject_id="00000000-0000-4000-8000-000000000001", key_id="bench")
    started = time.perf_counter()
    path = xlsx_file([n for n, _ in exports.EVENT_COLUMNS], exports.event_rows(kernel.db, {}, coordinator))
    seconds = time.perf_counter() - started
    size = os.path.getsize(path)
    os.unlink(path)
    return seconds, size


def run() -> list[Result]:
    with temp_dir("export") as var_dir:
        kernel = build_kernel(var_dir)
        try:
            campaign = add_campaign(kernel)
            add_events(kernel, campaign, SMALL)
            path = str(var_dir / "events.db")
            _, _, small_peak = _measured(_app(kernel))
            add_events(kernel, campaign, LARGE - SMALL, start=SMALL)
            size, app_s, app_peak = _measured(_app(kernel))
            base_size, base_s, base_peak = _measured(_baseline(path))
            xlsx_s, xlsx_size = _xlsx(kernel)
        finally:
            kernel.db.dispose()
    print(f"  export: app {LARGE / app_s:.0f} rows/s (peak {app_peak:.1f} MiB; {small_peak:.1f} MiB for {SMALL}), "
          f"sqlite3+csv {LARGE / base_s:.0f} rows/s (peak {base_peak:.1f} MiB)", file=sys.stderr)
    if app_peak > CEILING_MIB:
        raise RuntimeError(f"export: {app_peak:.1f} MiB at the peak for {LARGE} rows, over the {CEILING_MIB} MiB ceiling")
    name = sized("events export CSV", LARGE)
    details = [f"{name}: event_rows + csv_stream, {size / 2 ** 20:.0f} MiB of CSV in {app_s:.1f}s, tracemalloc peak "
               f"{app_peak:.1f} MiB ({small_peak:.1f} MiB for {SMALL} rows: flat), ceiling {CEILING_MIB:.0f} MiB; "
               f"baseline sqlite3 fetchmany + csv.writer of SELECT * ({base_size / 2 ** 20:.0f} MiB) in {base_s:.1f}s, "
               f"peak {base_peak:.1f} MiB; the .xlsx of the same rows in {xlsx_s:.1f}s ({xlsx_size / 2 ** 20:.0f} MiB)"]
    return [Result(name, LARGE / app_s, LARGE / base_s, "rows/s", target=None, details=details)]
