"""Start-up time and peak memory of the queue server's engine after 0, 10k, 100k and 1M events.

For each size a database is generated fast, as the server would have written it: a provincial centre
(8 services, 24 counters, ≈ 2,300 events per working day: tickets issued, called, finished, some recalled
and rated; leftovers expired at the next day's close) is driven through a real ``Core`` in memory; the
events are bulk-inserted with their hash chain (``queue_server.chain``), and a snapshot is made at each
business day's close exactly as ``snapshots.take_if_due`` makes it (the ``KEEP`` newest are stored).
The current-state tables (tickets, counters, ratings) are not written: start-up does not read them.

Start-up is then measured in a fresh interpreter per load, ``--rounds`` loads per size interleaved
across sizes, medians reported (``--load``): from spawning the process until
the engine is loaded — interpreter start, imports, ``Store.open`` (schema check), ``Core`` (newest
snapshot checked against the chain, events after it replayed) — *not* until the server answers on MQTT
(that adds a constant: connecting to the broker and publishing retained state). Peak RSS is the child's
``VmHWM`` (``ru_maxrss`` would include the forking parent's). ``--full-replay`` also loads the 100k
database with its snapshots removed: the old path.

    python bench/startup.py [--sizes 0 10000 100000 1000000] [--dir DIR] [--reuse] [--rounds 3]
                            [--full-replay]

Ends with one JSON line: ``startup_ratio_1m`` and ``rss_ratio_1m`` are the largest size's figures ÷ the
0-event figures (goal: both ≤ 1.5).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SERVICES = 8
COUNTERS = 24
TICKETS_PER_DAY = 640  # with calls, finishes, recalls and ratings: ≈ 2,300 events a day


def site_data() -> dict[str, Any]:
    codes = [f"s{i}" for i in range(SERVICES)]
    return {
        "site": {"id": "bench", "name": "Trung tâm tỉnh", "agency_code": "000.00.00.H00"},
        "services": [
            {"code": c, "name": f"Lĩnh vực {i}", "prefix": chr(ord("A") + i), "first_number": 1}
            for i, c in enumerate(codes)
        ],
        "counters": [
            {"number": n, "name": f"Quầy {n}", "services": [codes[n % SERVICES], codes[(n + 3) % SERVICES]]}
            for n in range(1, COUNTERS + 1)
        ],
        "queue": {"interleave": "ratio", "normal_per_priority": 3},
    }


def make_site() -> Any:
    from siteconf.model import parse_site

    return parse_site(site_data())


# --- generating a database ---------------------------------------------------------------------


class Generator:
    """Days of a centre through a real Core, its events chained and its day-close snapshots kept."""

    def __init__(self, url: str, path: Path) -> None:
        from queue_server.chain import GENESIS_HASH
        from queue_server.core import Core
        from queue_server.db import Store

        self.now = datetime(2024, 1, 1, 7, 30, tzinfo=TZ)
        self.store = Store.open(url)
        self.core = Core(make_site(), self.store, lambda: self.now)
        self.path = path
        self.seq, self.hash = 0, GENESIS_HASH
        self.rows: list[tuple[Any, ...]] = []
        self.snapshots: deque[tuple[Any, ...]] = deque(maxlen=3)
        self.tokens = 0

    def run(self, size: int) -> None:
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA synchronous=OFF")
        while self.seq < size:
            self._day(size)
            if len(self.rows) > 50_000:
                self._flush(conn)
            self.now = (self.now + timedelta(days=1)).replace(hour=7, minute=30)
        self._flush(conn)
        conn.executemany("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?)", self.snapshots)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as a server's own checkpoints leave it
        conn.close()
        self.store.close()

    def _flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", self.rows)
        conn.commit()
        self.rows.clear()

    def _emit(self, events: list[Any], size: int) -> None:
        from queue_server.chain import canonical_json

        for event in events:
            if self.seq >= size:
                return
            self.seq += 1
            at = event.at.isoformat()
            data = canonical_json(event.data)
            body = canonical_json([self.seq, at, event.type, event.data, None])
            digest = hashlib.sha256((self.hash + body).encode()).hexdigest()
            self.rows.append((self.seq, at, event.type, data, None, self.hash, digest))
            self.hash = digest
            self.core.apply(event)

    def _do(self, command: str, *args: Any, size: int) -> list[Any]:
        from queue_server.engine import Refused

        try:
            events: list[Any] = getattr(self.core.engine, command)(*args)
        except Refused:
            return []
        self._emit(events, size)
        return events

    def _day(self, size: int) -> None:
        """One working day (weekends are skipped): close and snapshot as the first batch would, then work."""
        if self.now.weekday() >= 5:
            return
        self._close_and_snapshot(size)
        engine = self.core.engine
        for n in range(1, COUNTERS + 1):
            self._do("open_counter", n, f"cb-{n:02d}", self.now, size=size)
        for i in range(TICKETS_PER_DAY):
            self.now += timedelta(seconds=45)
            self.tokens += 1
            self._do("issue", f"s{i % SERVICES}", self.now, f"t{self.tokens}", None, size=size)
            counter = 1 + (i * 7) % COUNTERS
            if i % 9 == 0:
                self._do("recall", counter, self.now, size=size)
            for event in self._do("call_next", counter, self.now, size=size):
                if event.type == "ticket_finished" and i % 4 == 0:
                    rating: tuple[Any, ...] = (event.ticket_id, 4, 5, {}, self.now)
                    self._do("rate", *rating, size=size)
            if self.seq >= size:
                return
        for n in range(1, COUNTERS + 1):
            self._do("finish", n, self.now, size=size)
            self._do("close_counter", n, self.now, size=size)
        del engine

    def _close_and_snapshot(self, size: int) -> None:
        from queue_server.snapshot_format import FORMAT
        from queue_server.snapshots import make_checkpoint

        day = self.core.rules.business_day(self.now).isoformat()
        if self.seq:
            body = make_checkpoint(self.core, self.seq, self.hash, day).body
            digest = hashlib.sha256(body.encode()).hexdigest()
            self.snapshots.append((self.seq, self.hash, FORMAT, day, digest, body, self.now.isoformat()))
        engine = self.core.engine
        past = sorted({t.day for t in engine.tickets.values() if t.day < day and t.status == "waiting"})
        for past_day in past:
            self._emit(engine.close_day(past_day, self.now), size)


# --- measuring ---------------------------------------------------------------------------------


def load(url: str) -> None:
    """Child process: load the engine and print the peak RSS."""
    from queue_server.core import Core
    from queue_server.db import Store

    store = Store.open(url)
    Core(make_site(), store)
    print(json.dumps({"rss_mb": peak_rss_mb(), "head": store.head()[0]}), flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set (``VmHWM``).

    Not ``ru_maxrss``: Linux keeps that across ``execve``, so a child forked from the big generator
    would report the generator's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str) -> dict[str, float]:
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--load", url], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    seconds = time.perf_counter() - t0
    child.wait()
    out = json.loads(line)
    return {"startup_s": round(seconds, 3), "rss_mb": round(out["rss_mb"], 1), "events": out["head"]}


def without_snapshots(path: Path) -> str:
    copy = path.with_name(path.stem + "-full.db")
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("DELETE FROM snapshots")
    return f"sqlite:///{copy}"


def generate(folder: Path, size: int, reuse: bool) -> str:
    """The database of ``size`` events (kept when ``reuse`` and it already holds them)."""
    path = folder / f"startup-{size}.db"
    url = f"sqlite:///{path}"
    if reuse and path.exists():
        with sqlite3.connect(path) as conn:
            if conn.execute("SELECT count(*) FROM events").fetchone()[0] == size:
                return url
    path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    Generator(url, path).run(size)
    print(f"{size:>9} events generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return url


def measure_rounds(urls: dict[int, str], rounds: int) -> dict[int, dict[str, float]]:
    """Each database loaded ``rounds`` times, sizes interleaved (the machine's load drifts); medians."""
    runs: dict[int, list[dict[str, float]]] = {size: [] for size in urls}
    for _ in range(rounds):
        for size, url in urls.items():
            runs[size].append(measure(url))
    results = {}
    for size, got in runs.items():
        results[size] = {
            "startup_s": statistics.median(r["startup_s"] for r in got),
            "rss_mb": statistics.median(r["rss_mb"] for r in got),
            "events": got[0]["events"],
        }
        what = f"{abs(size):>9} events" + (" without snapshots (full replay)" if size < 0 else "")
        print(f"{what}: engine loaded in {results[size]['startup_s']:.2f} s (median of {rounds}), "
              f"peak RSS {results[size]['rss_mb']:.0f} MB", flush=True)  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000, 100_000, 1_000_000])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--full-replay", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="loads per size (median)")
    parser.add_argument("--reuse", action="store_true", help="keep databases already in --dir")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load(args.load)
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="motcua-startup-"))
    sizes = sorted(set([0, *args.sizes]))
    urls = {size: generate(folder, size, args.reuse) for size in sizes}
    if args.full_replay and 100_000 in urls:
        urls[-100_000] = without_snapshots(folder / "startup-100000.db")
    results = measure_rounds(urls, args.rounds)
    base, top = results[0], results[max(args.sizes)]
    summary = {
        "bench": "startup",
        "measured": "spawn until the engine is loaded (Store.open + Core), fresh interpreter, median",
        "sizes": {str(k): v for k, v in results.items()},
        "startup_ratio_1m": round(top["startup_s"] / base["startup_s"], 3),
        "rss_ratio_1m": round(top["rss_mb"] / base["rss_mb"], 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
