"""Time of a month's province report at the hub, next to a bare count of the same events.

``--centres`` centres (10) each worked ``--days`` working days (21, January 2026) with ``--tickets``
tickets a day (400: a busy commune centre; each ticket issued, called, finished, one in five rated, one
in ten bringing a dossier — the event shapes of ``bench/reports.py``). Their hash-chained events are
COPYed into the hub's ``hub_events`` as the ingest stores them. Then, in the same run and database:

- ``province_month_s``: ``ProvinceReports.province_report`` of the month (every centre's report with
  its own settings, plus the pooled report for the province's percentiles), best of ``--repeat``;
- ``centre_month_s``: one centre's month report; ``pooled_month_s``: the pooled one alone;
- ``count_s``: the baseline, a bare ``count(*)`` of the same slices of the log (``ReportSource.count``
  over every centre), so ``report_vs_count`` says what the reports cost above reading the rows.

    python bench/hub_reports.py [--centres 10] [--days 21] [--tickets 400] [--repeat 2] [--db URL]

Works in a PostgreSQL schema of its own (``$MOTCUA_TEST_POSTGRES`` by default) and drops it. Prints
progress on stderr and one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from reports import rows as centre_rows  # noqa: E402  (bench/reports.py: a centre's event rows)

from hub.config import parse_config  # noqa: E402
from hub.reports import HUB_LOG, ProvinceReports  # noqa: E402
from hub.store import EVENT_COLUMNS, HubStore  # noqa: E402
from queue_server.reports import Period, ReportSettings, ReportSource  # noqa: E402

MONTH = Period.parse("month", "2026-01")


def fill(store: HubStore, sites: list[str], days: int, tickets: int) -> int:
    """Every centre's chain into hub_events by COPY, as the ingest writes it."""
    template = list(centre_rows(days, tickets))
    with store.connect() as conn, conn.cursor() as cur:
        with cur.copy("COPY hub_events (" + ", ".join(EVENT_COLUMNS) + ") FROM STDIN") as copy:
            for site in sites:
                for r in template:
                    copy.write_row(
                        (site, r["seq"], r["at"], r["type"], r["data"], None, r["prev_hash"], r["hash"])
                    )
        cur.execute("ANALYZE hub_events")
    return len(template) * len(sites)


def best(repeat: int, fn: Any) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def bare_count(reports: ProvinceReports, sites: list[str]) -> int:
    """The baseline: count the rows of each centre's slice, as the reports find it, nothing more."""
    settings = ReportSettings(site_id="x", site_name="x")
    start, end = MONTH.bounds(settings.tz, settings.day_starts)
    total = 0
    for site in sites:
        source = ReportSource(reports.engine(), HUB_LOG, site=site)
        with source.snapshot() as conn:
            total += source.count(conn, start, end)
    return total


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    sites = [f"xa-{i:02d}" for i in range(args.centres)]
    centres = "".join(f'[[centres]]\nsite = "{s}"\nname = "Xã {s}"\n' for s in sites)
    config = parse_config(
        f'[hub]\nprovince = "HN"\nname = "Hà Nội"\n[database]\nurl = "{url}"\n{centres}', Path("hub.toml")
    )
    store = HubStore.open(url)
    store.create()
    started = time.perf_counter()
    events = fill(store, sites, args.days, args.tickets)
    print(
        f"{events} events of {len(sites)} centres in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    reports = ProvinceReports(config)
    try:
        bare_count(reports, sites[:1])  # connect and warm the caches: every timing below starts alike
        count_s, counted = best(args.repeat, lambda: bare_count(reports, sites))
        centre_s, _ = best(args.repeat, lambda: reports.centre_report(sites[0], MONTH))
        pooled_s, _ = best(args.repeat, lambda: reports.pooled_report(MONTH))
        province_s, report = best(args.repeat, lambda: reports.province_report(MONTH))
    finally:
        reports.close()
    (totals,) = report.table("province").as_dicts()
    print(
        f"month: province report {province_s:.2f} s, one centre {centre_s:.2f} s, "
        f"all centres pooled {pooled_s:.2f} s, "
        f"bare count {count_s:.3f} s ({counted} events)",
        file=sys.stderr,
    )
    return {
        "centres": len(sites),
        "events": events,
        "month_events": counted,
        "issued": totals["issued"],
        "province_month_s": round(province_s, 3),
        "centre_month_s": round(centre_s, 3),
        "pooled_month_s": round(pooled_s, 3),
        "count_s": round(count_s, 4),
        "report_vs_count": round(province_s / count_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--centres", type=int, default=10)
    parser.add_argument("--days", type=int, default=21, help="working days from 2026-01-02")
    parser.add_argument("--tickets", type=int, default=400, help="tickets per centre per day")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--db",
        default=os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    plain = args.db.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_hub_reports_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = sa.make_url(args.db).update_query_dict({"options": f"-csearch_path={schema}"})
        result = run(args, url.render_as_string(hide_password=False))
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
