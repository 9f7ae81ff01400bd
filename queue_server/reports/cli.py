"""``motcua report``: a manager's report of a period, on the terminal or as a file to hand on.

motcua report (--site FILE) [--db URL] --period day|week|month|quarter|year|custom VALUE
              [--service CODE] [--counter N] [--officer ID] [--format table|csv|xlsx|pdf]
              [--out FILE] [--officer-names]

    motcua report --site sites/demo.toml --period month 2026-11
    motcua report --site site.toml --period custom 2026-11-01..2026-11-20 --counter 3 \
        --format xlsx --out q.xlsx

The database is read on its own read-only connection: running a report beside a live queue server
never blocks it. Exit 0 done, 2 when the period, a filter, the database or the --out file is wrong (the
message says). A file is written whole or not at all; a CSV file starts with a UTF-8 byte order mark
(Excel needs it for Vietnamese), CSV on standard output has none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

FORMATS = ("table", "csv", "xlsx", "pdf")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser("report", help="waits, service, ratings and regulatory scores of a period")
    p.add_argument("--site", type=Path, required=True, help="the centre's site file")
    p.add_argument("--db", metavar="URL", help="read this database instead of the site file's")
    p.add_argument(
        "--period",
        nargs=2,
        metavar=("KIND", "VALUE"),
        required=True,
        help="day 2026-11-23 | week 2026-W48 | month 2026-11 | quarter 2026-Q4 | year 2026 | "
        "custom 2026-11-01..2026-11-20",
    )
    p.add_argument("--service", help="only tickets issued for this service code")
    p.add_argument("--counter", type=int, help="only tickets this counter called")
    p.add_argument(
        "--officer", help="only tickets this officer called (any id: officers who left keep their history)"
    )
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", type=Path, help="write here (required for xlsx and pdf)")
    p.add_argument("--officer-names", action="store_true", help="show officers' names (managers only)")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    from queue_server.reports import Filters, Period, ReportError, ReportSettings, ReportSource, build_report
    from queue_server.reports.export import check_out, write_report
    from siteconf import SiteFileError, load_site

    if args.format in ("xlsx", "pdf") and args.out is None:
        print(f"motcua report: --format {args.format} needs --out FILE", file=sys.stderr)
        return 2
    try:
        site = load_site(args.site)
        period = Period.parse(*args.period)
        settings = ReportSettings.from_site(site)
        filters = Filters(args.service, args.counter, args.officer)
        settings.check(filters)
        if args.out is not None:
            check_out(args.out)
        with ReportSource.open(args.db or site.database.url) as source:
            report = build_report(source, settings, period, filters, officer_names=args.officer_names)
        write_report(report, args.format, args.out)
    except (ReportError, SiteFileError) as err:
        print(f"motcua report: {err}", file=sys.stderr)
        return 2
    return 0
