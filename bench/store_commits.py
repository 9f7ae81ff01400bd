"""Durable commits per second of the queue server's store, for a realistic request.

A request costs the store what issuing and calling a ticket costs: look up the request id, append two
events to the hash chain, upsert a ticket and a counter, save the response. Configurations: one request
per transaction on SQLite (WAL) with ``synchronous=FULL`` (every commit fsynced, the default) and with
``synchronous=NORMAL`` (a power cut may lose the last commits, never corrupts); ten requests per
transaction, each in a savepoint, as a server doing group commit would; the same on PostgreSQL when one is
reachable. The baseline, in the same run and folder, is a bare ``sqlite3`` loop of one INSERT and COMMIT
with WAL and FULL: the disk's own durable commit rate. The configurations run interleaved in rounds.

    python bench/store_commits.py [--commits 2000] [--rounds 10] [--dir DIR] [--postgres DSN | --no-postgres]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_server.db import Store, StoreError, Tx

VN = timezone(timedelta(hours=7))
DAY = "2026-11-23"
BATCH = 10  # requests per transaction when the server commits a group at once
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Runner:
    """One configuration under test: ``one(i)`` makes the i-th durable commit; latencies accumulate."""

    def __init__(self, one: Callable[[int], None], batch: int = 1) -> None:
        self.one = one
        self.batch = batch
        self.done = 0
        self.latencies: list[float] = []
        self.seconds = 0.0

    def run(self, commits: int) -> None:
        start = time.perf_counter()
        for _ in range(commits):
            t0 = time.perf_counter()
            self.one(self.done)
            self.latencies.append(time.perf_counter() - t0)
            self.done += 1
        self.seconds += time.perf_counter() - start

    def figures(self) -> dict[str, Any]:
        return {
            "commits_per_s": round(self.done / self.seconds, 1),
            "commands_per_s": round(self.done * self.batch / self.seconds, 1),
            "p50_ms": round(statistics.median(self.latencies) * 1000, 3),
            "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 3),
        }


@contextmanager
def bare_sqlite(folder: Path) -> Iterator[Runner]:
    db = sqlite3.connect(folder / "bare.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")

    def one(i: int) -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (payload) VALUES (?)", (f"row {i}",))
        db.execute("COMMIT")

    try:
        yield Runner(one)
    finally:
        db.close()


def request(tx: Tx, i: int) -> None:
    """One issue-and-call request as the server would store it."""
    number, counter = i + 1, i % 40 + 1
    ticket_id, at = f"{DAY}/A/{number}", datetime(2026, 11, 23, 8, tzinfo=VN) + timedelta(seconds=i)
    request_id, code = f"req-{number}", f"A{number:04d}"
    if tx.response(request_id) is not None:
        raise AssertionError(f"{request_id} answered twice")
    tx.append("ticket_issued", {"ticket": ticket_id, "service": "ho-tich", "estimate_s": 300}, at, request_id)
    tx.append("ticket_called", {"ticket": ticket_id, "counter": counter, "seq": number}, at, request_id)
    tx.put_ticket(
        {"id": ticket_id, "business_day": DAY, "service": "ho-tich", "series": "A", "number": number,
         "code": code, "token": uuid.uuid4().hex, "priority": None, "status": "called", "counter": counter,
         "officer": f"cb-{counter:02d}", "rules_version": "2026-01-01", "issued_at": at, "called_at": at,
         "finished_at": None, "estimate_s": 300, "waited_s": 0, "recalls": 0, "data": {}}
    )  # fmt: skip
    tx.put_counter(
        {"number": counter, "status": "serving", "officer": f"cb-{counter:02d}", "ticket_id": ticket_id,
         "data": {}}
    )  # fmt: skip
    tx.save_response(request_id, "ticket.issue", {"ok": True, "ticket": ticket_id, "code": code}, at)


@contextmanager
def with_store(url: str, batch: int = 1) -> Iterator[Runner]:
    """Requests on the store, ``batch`` of them per transaction (a server committing a group at once)."""
    with Store.open(url) as store:

        def one(i: int) -> None:
            with store.transaction() as tx:
                if batch == 1:
                    request(tx, i)
                    return
                for k in range(batch):
                    with tx.savepoint():  # so that one refused request does not undo the group
                        request(tx, i * batch + k)

        one(0)  # warm up the pool and the statement cache
        runner = Runner(lambda i: one(i + 1), batch)
        yield runner
        report = store.verify()
        if not report.ok or report.events_checked != 2 * batch * (runner.done + 1):
            raise AssertionError(f"chain check failed after the run: {report}")


@contextmanager
def schema(dsn: str) -> Iterator[str]:
    schema = f"motcua_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(dsn, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = sa.make_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000, help="per configuration")
    parser.add_argument("--rounds", type=int, default=10, help="interleave the configurations this often")
    parser.add_argument("--dir", type=Path, help="where the SQLite files go (default: a temporary folder)")
    parser.add_argument("--postgres", default=os.environ.get("MOTCUA_TEST_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    result: dict[str, Any] = {"bench": "store_commits", "commits": args.commits, "events_per_command": 2}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, ExitStack() as stack:
        folder = Path(tmp)
        runners = {
            "baseline_bare_sqlite3": stack.enter_context(bare_sqlite(folder)),
            "sqlite_full": stack.enter_context(with_store(f"sqlite:///{folder / 'full.db'}")),
            "sqlite_normal": stack.enter_context(
                with_store(f"sqlite:///{folder / 'n.db'}?synchronous=normal")
            ),
            f"sqlite_full_{BATCH}_per_commit": stack.enter_context(
                with_store(f"sqlite:///{folder / 'group.db'}", BATCH)
            ),
        }
        if not args.no_postgres:
            try:
                runners["postgres"] = stack.enter_context(
                    with_store(stack.enter_context(schema(args.postgres)))
                )
                runners[f"postgres_{BATCH}_per_commit"] = stack.enter_context(
                    with_store(stack.enter_context(schema(args.postgres)), BATCH)
                )
            except (sa.exc.OperationalError, StoreError) as err:
                result["postgres_skipped"] = str(err).splitlines()[0]
        # Interleaved rounds, so that a burst of load from elsewhere hits every configuration alike.
        for _ in range(args.rounds):
            for runner in runners.values():
                runner.run(args.commits // args.rounds)
        for name, runner in runners.items():
            result[name] = runner.figures()
    base = result["baseline_bare_sqlite3"]["commits_per_s"]
    for name in runners:
        if name != "baseline_bare_sqlite3":
            result[name]["commits_vs_bare_sqlite3"] = round(result[name]["commits_per_s"] / base, 3)
            # How much of the queue server's budget at 1,000 commands/s (1 ms each) the store takes.
            result[name]["ms_per_command"] = round(1000 / result[name]["commands_per_s"], 3)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
