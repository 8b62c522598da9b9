"""`python -m bench [http] [bus] [events] [ical] [feeds] [page] [upload] [photos] [zip] [media] [webhooks]
[email] [reminders] [latency] [notify] [participation] [export]`: run the benchmarks (all by default) and print the table.
`media` stands for `upload photos zip`, `notify` for `webhooks email reminders latency`."""
from __future__ import annotations

import argparse
import sys
import time
import warnings

from bench.common import Result, print_table

BENCHMARKS = ("http", "bus", "events", "ical", "feeds", "page", "upload", "photos", "zip", "webhooks", "email", "reminders",
              "latency", "participation", "export")
GROUPS = {"media": ("upload", "photos", "zip"), "notify": ("webhooks", "email", "reminders", "latency")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    names = (*BENCHMARKS, *GROUPS)
    parser.add_argument("only", nargs="*", metavar="{" + ",".join(names) + "}", help="run only these (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(names)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(names)}")
    chosen: list[str] = []
    for name in args.only or BENCHMARKS:
        for one in GROUPS.get(name, (name,)):
            if one not in chosen:
                chosen.append(one)
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
        elif name == "feeds":
            from bench import feeds

            results += feeds.run()
        elif name == "page":
            from bench import campaign_page

            results += campaign_page.run()
        elif name == "upload":
            from bench import media_upload

            results += media_upload.run()
        elif name == "photos":
            from bench import media_photos

            results += media_photos.run()
        elif name == "webhooks":
            from bench import notify_webhooks

            results += notify_webhooks.run()
        elif name == "email":
            from bench import notify_email

            results += notify_email.run()
        elif name == "reminders":
            from bench import notify_reminders

            results += notify_reminders.run()
        elif name == "latency":
            from bench import notify_latency

            results += notify_latency.run()
        elif name == "zip":
            from bench import media_zip

            results += media_zip.run()
        elif name == "participation":
            from bench import participation

            results += participation.run()
        elif name == "export":
            from bench import exports

            results += exports.run()
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
