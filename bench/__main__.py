"""`python -m bench [http] [bus] [events] [ical]`: run the benchmarks (all by default) and print the table."""
from __future__ import annotations

import argparse
import sys
import time
import warnings

from bench.common import Result, print_table

BENCHMARKS = ("http", "bus", "events", "ical")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("only", nargs="*", metavar="{http,bus,events,ical}", help="run only these (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    chosen = args.only or list(BENCHMARKS)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="kombu")

    results: list[Result] = []
    started = time.perf_counter()
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if name == "http":
            from bench import http_list

            results += http_list.run()
        elif name == "bus":
            from bench import bus_throughput

            results += bus_throughput.run()
        elif name == "events":
            from bench import events_list

            results += events_list.run()
        elif name == "ical":
            from bench import ical_feed

            results += ical_feed.run()
    print()
    print_table(results)
    print()
    for result in results:
        for line in result.details:
            print(line)
    print(f"ratio = value / baseline (higher is better); total {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
