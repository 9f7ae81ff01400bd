"""Time of a month's and a year's full report over a provincial centre's year, on SQLite and PostgreSQL.

The year: ``--days`` working days (250) x ``--tickets`` tickets a day (1,000), 40 counters, 80 officers;
each ticket is issued, called and finished, one in five rated and one in ten brings a dossier (received,
never given a status: a report shows each one overdue once its appointment has passed), so about
760,000 events. They are written straight into the store's ``events`` table in
bulk with a correct hash chain (the engine would take minutes to decide them; the report reads only the
table). Baselines in the same run: a bare ``count(*)`` of the same slice of the log, and the same report
folding the period's events (``EventLog(tickets=False)``) instead of reading ``report_tickets``. Then
the store's write latency (one append per transaction, what a call costs the store) is measured alone
and with a year's report running beside it on its own connection.

    python bench/reports.py [--days 250] [--tickets 1000] [--postgres DSN | --no-postgres]
                            [--keep DIR] [--no-sqlite] [--no-writes] [--repeat N]

``--keep DIR`` keeps the generated year for the next run: the SQLite file ``DIR/year-D-T.db`` and the
PostgreSQL schema ``bench_reports_D_T`` are filled once and reused while they exist (generating a year
takes a minute on SQLite and minutes on PostgreSQL; a kept SQLite year whose schema is older than the
store's is reported, not changed: other code may be using it); ``--no-writes`` skips the write-latency
part;
``--repeat`` times each report N times and keeps the best (2).

Prints lines of progress and, last, one JSON line with sqlite_month_s, sqlite_year_s, postgres_month_s,
postgres_year_s, the count baselines and the write p99 with and without a report beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_server.chain import GENESIS_HASH, canonical_json, event_hash
from queue_server.db import Store
from queue_server.reports import EventLog, Period, ReportSettings, ReportSource, build_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_PG = os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def working_days(n: int) -> list[date]:
    days: list[date] = []
    day = date(2026, 1, 2)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def events(days: int, tickets: int) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
    """The year's events in time order: (at, type, data)."""
    for day in working_days(days):
        start = datetime(day.year, day.month, day.day, 7, 30, tzinfo=TZ)
        for c in range(1, 41):
            yield (
                start,
                "counter_opened",
                {"counter": c, "officer": f"cb-{c + 40 * (day.toordinal() % 2):03d}"},
            )
        for i in range(tickets):
            issued = start + timedelta(seconds=i * 30)
            tid = f"{day}/A/{1001 + i}"
            counter = 1 + i % 40
            called = issued + timedelta(seconds=60 + (i * 37) % 1500)
            done = called + timedelta(seconds=240 + (i * 53) % 420)
            yield (
                issued,
                "ticket_issued",
                {
                    "ticket_id": tid,
                    "day": day.isoformat(),
                    "service": f"s{i % 8}",
                    "series": "A",
                    "number": 1001 + i,
                    "code": f"A{1001 + i}",
                    "token": f"t{day}{i}",
                    "priority": None,
                    "rules_version": "base",
                    "issued_at": issued.isoformat(),
                    "estimate_s": (i * 41) % 1800,
                    "device": "kiosk-1",
                    "offline": False,
                },
            )
            yield called, "ticket_called", {"ticket_id": tid, "counter": counter, "officer": "cb", "seq": i}
            yield (
                done,
                "ticket_finished",
                {"ticket_id": tid, "counter": counter, "service_s": (done - called).seconds},
            )
            if i % 5 == 0:
                yield (
                    done,
                    "ticket_rated",
                    {
                        "ticket_id": tid,
                        "counter": counter,
                        "officer": "cb",
                        "score": i % 3,
                        "scale": 3,
                        "answers": {},
                    },
                )
            if i % 10 == 0:
                due = done + timedelta(days=3)
                yield (
                    done,
                    "dossier_received",
                    {
                        "code": f"H21.65-{day:%y%m%d}-{i:04d}",
                        "procedure": "1.001",
                        "days": 3,
                        "counter": counter,
                        "ticket": f"A{1001 + i}",
                        "received_at": done.isoformat(),
                        "due_at": due.isoformat(),
                        "provisional": False,
                    },
                )


def rows(days: int, tickets: int) -> Iterator[dict[str, Any]]:
    """Event rows with their hash chain; out-of-order times inside a day are sorted first."""
    prev, seq = GENESIS_HASH, 0
    for day_events in _by_day(events(days, tickets)):
        for at, type_, data in sorted(day_events, key=lambda e: e[0]):
            seq += 1
            text = at.isoformat()
            digest = event_hash(prev, seq=seq, at=text, type=type_, data=data, request_id=None)
            yield {
                "seq": seq,
                "at": text,
                "type": type_,
                "data": canonical_json(data),
                "request_id": None,
                "prev_hash": prev,
                "hash": digest,
            }
            prev = digest


def _by_day(stream: Iterator[tuple[datetime, str, dict[str, Any]]]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    current = None
    for item in stream:
        if item[0].date() != current and batch:
            yield batch
            batch = []
        current = item[0].date()
        batch.append(item)
    if batch:
        yield batch


def fill(url: str, days: int, tickets: int) -> int:
    import sqlalchemy as sa

    from queue_server import schema

    with Store.open(url) as store:
        engine = store._engine  # the bench writes in bulk, below the store's per-request API
        n = 0
        with engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            for row in rows(days, tickets):
                batch.append(row)
                if len(batch) == 20000:
                    conn.execute(sa.insert(schema.events), batch)
                    n += len(batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(schema.events), batch)
                n += len(batch)
        return n


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def measure(
    url: str, settings: ReportSettings, label: str, repeat: int = 2, fold: bool = True
) -> dict[str, float]:
    out: dict[str, float] = {}
    with ReportSource.open(url) as source:
        seconds, _ = timed(source.prepare)
        out[f"{label}_projection_build_s"] = round(seconds, 2)
        print(f"{label}: projections of the whole log built in {seconds:.1f} s (once)", file=sys.stderr)
        for name, period in (
            ("month", Period.parse("month", "2026-06")),
            ("year", Period.parse("year", "2026")),
        ):
            start, end = period.bounds(settings.tz, settings.day_starts)
            best_report, best_count = float("inf"), float("inf")
            for _ in range(repeat):
                seconds, _r = timed(lambda p=period: build_report(source, settings, p))
                best_report = min(best_report, seconds)
                with source.snapshot() as conn:
                    seconds, count = timed(lambda c=conn, s=start, e=end: source.count(c, s, e))
                best_count = min(best_count, seconds)
            out[f"{label}_{name}_s"] = round(best_report, 3)
            out[f"{label}_{name}_count_s"] = round(best_count, 4)
            folded = ""
            if fold:
                with ReportSource.open(url, EventLog(tickets=False)) as folding:
                    fold_s, _r = timed(lambda p=period: build_report(folding, settings, p))
                out[f"{label}_{name}_fold_s"] = round(fold_s, 3)
                folded = f", folding the events instead of the ticket projection {fold_s:.2f} s"
            print(
                f"{label} {name}: report {best_report:.2f} s, bare count {best_count:.3f} s ({count} events)"
                f"{folded} (load {_load()})",
                file=sys.stderr,
            )
    return out


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def _report_forever(url: str) -> None:
    settings = ReportSettings(site_id="bench", site_name="bench")
    with ReportSource.open(url) as source:
        while True:
            build_report(source, settings, Period.parse("year", "2026"))


def write_p99(url: str, beside: str, n: int = 300) -> float:
    """p99 of one append per transaction (what a call costs the store), with a year's report running
    beside it in a thread of the same process (``thread``, as the /reports page), in another process
    (``process``, as ``motcua report``) or not at all (``none``)."""
    import multiprocessing

    stop = threading.Event()
    settings = ReportSettings(site_id="bench", site_name="bench")

    def report_loop() -> None:
        with ReportSource.open(url) as source:
            while not stop.is_set():
                build_report(source, settings, Period.parse("year", "2026"))

    thread = threading.Thread(target=report_loop, daemon=True)
    process = multiprocessing.get_context("spawn").Process(target=_report_forever, args=(url,), daemon=True)
    if beside == "thread":
        thread.start()
    elif beside == "process":
        process.start()
    time.sleep(2.0 if beside != "none" else 0)
    latencies = []
    with Store.open(url) as store:
        for i in range(n):
            started = time.perf_counter()
            with store.transaction() as tx:
                tx.append("counter_paused", {"counter": 1 + i % 40}, datetime.now(TZ))
            latencies.append(time.perf_counter() - started)
            time.sleep(0.005)
    stop.set()
    if beside == "thread":
        thread.join()
    if beside == "process":
        process.terminate()
        process.join()
    return statistics.quantiles(latencies, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the generated year here and reuse it")
    parser.add_argument("--no-writes", action="store_true", help="skip the write latency")
    parser.add_argument("--no-fold", action="store_true", help="skip the folding baseline")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    settings = ReportSettings(site_id="bench", site_name="Trung tâm tỉnh (bench)")
    result: dict[str, Any] = {"days": args.days, "tickets_per_day": args.tickets, "load_before": _load()}
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            result.update(_sqlite(args, settings, Path(tmp)))
    if not args.no_postgres:
        result.update(_postgres(args, settings))
    result["load_after"] = _load()
    for store in ("sqlite", "postgres"):
        if f"{store}_month_s" in result:
            for name in ("month", "year"):
                seconds = result[f"{store}_{name}_s"]
                result[f"{store}_{name}_over_count"] = round(
                    seconds / max(1e-6, result[f"{store}_{name}_count_s"]), 1
                )
                if f"{store}_{name}_fold_s" in result:
                    result[f"{store}_{name}_over_fold"] = round(
                        seconds / max(1e-6, result[f"{store}_{name}_fold_s"]), 2
                    )
    print(json.dumps(result, sort_keys=True))


def _sqlite(args: argparse.Namespace, settings: ReportSettings, tmp: Path) -> dict[str, Any]:
    result: dict[str, Any] = {}
    path = tmp / "year.db" if args.keep is None else args.keep / f"year-{args.days}-{args.tickets}.db"
    url = f"sqlite:///{path}?synchronous=normal"
    if args.keep is not None and path.exists():
        print(f"sqlite: reusing {path}", file=sys.stderr)
        _warn_if_behind(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        filling = path.with_suffix(".filling")
        filling.unlink(missing_ok=True)
        seconds, n = timed(lambda: fill(f"sqlite:///{filling}?synchronous=normal", args.days, args.tickets))
        filling.rename(path)  # only a whole year is kept
        print(f"sqlite: {n} events written in {seconds:.1f} s", file=sys.stderr)
        result["events"] = n
    result.update(measure(url, settings, "sqlite", args.repeat, not args.no_fold))
    if args.no_writes:
        return result
    if args.keep is not None:  # the appends go to a copy: the kept year stays as generated
        import shutil

        shutil.copy(path, tmp / "writes.db")
        url = f"sqlite:///{tmp / 'writes.db'}?synchronous=normal"
    for beside in ("none", "process", "thread"):
        p99 = round(write_p99(url, beside) * 1000, 2)
        result[f"sqlite_write_p99_ms_report_{beside}"] = p99
        print(f"sqlite: one-append commit p99 {p99} ms, report beside: {beside}", file=sys.stderr)
    return result


def _warn_if_behind(path: Path) -> None:
    """Say so when a kept SQLite year was made by code with an older schema (its report then lacks the
    newer indexes); it is left as it is."""
    import sqlite3

    from queue_server.migrations import head_revision

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if found is None or found[0] != head_revision():
        print(
            f"sqlite: the kept year is at schema {found and found[0]}, the store's latest is"
            f" {head_revision()}: copy it and open the copy with Store.open to measure the latest",
            file=sys.stderr,
        )


def _postgres(args: argparse.Namespace, settings: ReportSettings) -> dict[str, Any]:
    import uuid

    import sqlalchemy as sa

    kept = args.keep is not None
    schema_name = (
        f"bench_reports_{args.days}_{args.tickets}" if kept else f"bench_reports_{uuid.uuid4().hex[:8]}"
    )
    admin = sa.create_engine(args.postgres)
    try:
        with admin.begin() as conn:
            exists = conn.exec_driver_sql(
                "SELECT 1 FROM information_schema.tables"
                " WHERE table_schema = %(s)s AND table_name = 'events'",
                {"s": schema_name},
            ).first()
            if exists:  # filled in one transaction: rows mean a whole year
                exists = conn.exec_driver_sql(f'SELECT 1 FROM "{schema_name}".events LIMIT 1').first()
            if not exists:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema_name}"')
    except sa.exc.OperationalError as err:
        print(f"postgres skipped: {err}", file=sys.stderr)
        return {}
    url = sa.make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema_name}"})
    text = url.render_as_string(hide_password=False)
    try:
        if kept and exists:
            print(f"postgres: reusing schema {schema_name}", file=sys.stderr)
        else:
            seconds, n = timed(lambda: fill(text, args.days, args.tickets))
            print(f"postgres: {n} events written in {seconds:.1f} s", file=sys.stderr)
        return measure(text, settings, "postgres", args.repeat, not args.no_fold)
    finally:
        if not kept:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema_name}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
