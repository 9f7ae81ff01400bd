"""A provincial centre's day through the queue server, as fast as it will go.

1,000 tickets over 8 services and 40 counters: a morning peak (the first 40 % of tickets issued in one
burst by 8 kiosks) while every counter calls, serves and finishes as fast as the server answers. All
traffic is real MQTT on a real Mosquitto to the queue server running as its own process with durable
commits (SQLite WAL, ``synchronous=FULL``, unless ``--db`` says otherwise).

- issue latency: ``req/issue_ticket`` published → its response received by the kiosk;
- call latency: ``req/counter`` ``call_next`` published → the ``calls`` event for that ticket received
  by a hall-board subscriber;
- baseline, in the same run and broker: a bare request/response round trip through a trivial echo
  responder (what two MQTT hops cost with no queue logic and no database).

    python bench/queue_day.py [--tickets 1000] [--counters 40] [--db URL]

Prints one JSON line and exits 1 when the day went wrong (a ticket lost, issued twice or called twice).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from pathlib import Path

from bus import models as m
from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BusClient, RequestTimeoutError

REPO = Path(__file__).resolve().parent.parent
SERVICES = ["land", "civil", "business", "invest", "labour", "transport", "justice", "health"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def site_file(path: Path, site_id: str, counters: int, tickets: int, db_url: str) -> Path:
    lines = [
        "[site]",
        f'id = "{site_id}"',
        'name = "Trung tâm Phục vụ hành chính công tỉnh (bench)"',
        "[hours]",
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
        'sessions = [["00:00", "23:59"]]',
        "[database]",
        f'url = "{db_url}"',
    ]
    for i, code in enumerate(SERVICES):
        lines += [
            "[[services]]",
            f'code = "{code}"',
            f'name = "Lĩnh vực {code}"',
            f'prefix = "{chr(ord("A") + i)}"',
            f"first_number = {(i + 1) * 1000 + 1}",
            f"daily_cap = {tickets}",
        ]
    for n in range(1, counters + 1):
        served = [SERVICES[(n - 1) % len(SERVICES)], SERVICES[n % len(SERVICES)]]
        lines += ["[[counters]]", f"number = {n}", f'name = "Quầy {n}"', f"services = {json.dumps(served)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def echo_baseline(url: BrokerUrl, n: int) -> list[float]:
    """Round trips through a responder that answers at once: MQTT's own cost."""
    responder = BusClient(url, "bench-echo", "echo-server")

    def answer(_topic: str, req: m.IssueTicket) -> None:
        assert req.reply_to is not None
        responder.publish(req.reply_to, m.Response(request_id=req.id, ok=True))

    responder.subscribe(responder.topics.all_req(), answer, m.IssueTicket, dedupe=False)
    responder.start()
    client = BusClient(url, "bench-echo", "echo-client")
    client.enable_requests()
    client.start()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.request("issue_ticket", m.IssueTicket(service="land"), timeout=5)
        samples.append((time.perf_counter() - t0) * 1000)
    client.stop()
    responder.stop()
    return samples


class Day:
    """The kiosks, counters and hall board of one simulated day."""

    def __init__(self, url: BrokerUrl, site_id: str, tickets: int, counters: int) -> None:
        self.url, self.site_id, self.tickets, self.counters = url, site_id, tickets, counters
        self.issue_ms: list[float] = []
        self.call_ms: list[float] = []
        self.issued: list[str] = []
        self.called: list[tuple[int, str]] = []
        self.commands = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.call_sent: dict[tuple[int, str], float] = {}
        self.call_seen: dict[tuple[int, str], float] = {}
        self.all_issued = threading.Event()

    def request(self, client: BusClient, verb: str, message: m.Envelope) -> m.Response:
        for _ in range(5):  # the same id each time: a retry never doubles a ticket
            try:
                response = client.request(verb, message, timeout=10)
            except RequestTimeoutError:
                continue
            with self.lock:
                self.commands += 1
            return response
        raise RuntimeError(f"no answer to {verb} after 5 tries")

    def kiosk(self, index: int, count: int) -> None:
        client = BusClient(self.url, self.site_id, f"bench-kiosk-{index}")
        client.enable_requests()
        client.start()
        try:
            for i in range(count):
                service = SERVICES[(index + i) % len(SERVICES)]
                t0 = time.perf_counter()
                response = self.request(client, "issue_ticket", m.IssueTicket(service=service))
                elapsed = (time.perf_counter() - t0) * 1000
                if not response.ok or response.ticket is None:
                    self.errors.append(f"issue refused: {response.error}")
                    continue
                with self.lock:
                    self.issue_ms.append(elapsed)
                    self.issued.append(response.ticket.number)
        finally:
            client.stop()

    def counter(self, number: int, stop: threading.Event) -> None:
        client = BusClient(self.url, self.site_id, f"bench-counter-{number}")
        client.enable_requests()
        client.start()
        act = m.CounterAction
        try:
            opening = m.CounterRequest(counter=number, action=act.OPEN, officer=f"cb{number}")
            self.request(client, "counter", opening)
            while not stop.is_set():
                request = m.CounterRequest(counter=number, action=act.CALL_NEXT)
                t0 = time.perf_counter()
                response = self.request(client, "counter", request)
                called = response.called.number if response.ok and response.called else None
                if called is None:
                    time.sleep(0.05)  # nobody waiting for this counter's services yet
                    continue
                with self.lock:
                    self.call_sent[(number, called)] = t0
                    self.called.append((number, called))
                self.request(client, "counter", m.CounterRequest(counter=number, action=act.FINISH))
        finally:
            client.stop()

    def on_call(self, _topic: str, call: m.CallEvent) -> None:
        with self.lock:
            self.call_seen.setdefault((call.counter, call.number), time.perf_counter())

    def run(self, kiosks: int = 8) -> float:
        board = BusClient(self.url, self.site_id, "bench-board")
        board.subscribe(board.topics.calls(), self.on_call, m.CallEvent)
        board.start()
        stop = threading.Event()
        t0 = time.perf_counter()
        peak = int(self.tickets * 0.4)
        per_kiosk = [peak // kiosks + (1 if i < peak % kiosks else 0) for i in range(kiosks)]
        rest = self.tickets - peak
        per_kiosk_rest = [rest // kiosks + (1 if i < rest % kiosks else 0) for i in range(kiosks)]
        threads = [threading.Thread(target=self.kiosk, args=(i, per_kiosk[i])) for i in range(kiosks)]
        threads += [
            threading.Thread(target=self.kiosk, args=(kiosks + i, per_kiosk_rest[i])) for i in range(kiosks)
        ]
        counters = [
            threading.Thread(target=self.counter, args=(n, stop)) for n in range(1, self.counters + 1)
        ]
        for t in threads[:kiosks] + counters:
            t.start()
        for t in threads[:kiosks]:
            t.join()
        for t in threads[kiosks:]:  # the rest of the day, while counters keep calling
            t.start()
        for t in threads[kiosks:]:
            t.join()
        deadline = time.monotonic() + 120
        while len(self.called) < len(self.issued) and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        for t in counters:
            t.join()
        elapsed = time.perf_counter() - t0
        time.sleep(0.2)  # the last calls events in flight
        board.stop()
        for key, sent in self.call_sent.items():
            seen = self.call_seen.get(key)
            if seen is None:
                self.errors.append(f"call {key} never reached the board")
            else:
                self.call_ms.append((seen - sent) * 1000)
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--counters", type=int, default=40)
    parser.add_argument("--db", help="database URL (default: SQLite WAL in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(port=0, engine="mosquitto") as broker:
        url = broker.url
        baseline = echo_baseline(url, 200)
        db = args.db or f"sqlite:///{tmp}/queue.db"
        site = site_file(Path(tmp) / "site.toml", "bench", args.counters, args.tickets, db)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        server = subprocess.Popen(
            [sys.executable, "-m", "motcua_cli.main", "server", "--site", str(site), "--broker", str(url)],
            env=env,
            cwd=tmp,
        )
        try:
            probe = BusClient(url, "bench", "bench-probe")
            up = threading.Event()
            probe.subscribe(
                probe.topics.server_availability(), lambda _t, p: up.set() if p == "online" else None, None
            )
            probe.start()
            if not up.wait(30):
                raise SystemExit("the queue server did not come online within 30 s")
            probe.stop()
            day = Day(url, "bench", args.tickets, args.counters)
            elapsed = day.run()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    called = [number for _counter, number in day.called]
    doubled = [n for n, k in Tally(called).items() if k > 1]
    duplicates = [n for n, k in Tally(day.issued).items() if k > 1]
    result = {
        "bench": "queue_day",
        "store": "postgresql" if db.startswith("postgresql") else "sqlite",
        "tickets": len(day.issued),
        "counters": args.counters,
        "commands": day.commands,
        "seconds": round(elapsed, 2),
        "commands_per_s": round(day.commands / elapsed, 1),
        "issue_p50_ms": round(statistics.median(day.issue_ms), 2),
        "issue_p99_ms": round(percentile(day.issue_ms, 0.99), 2),
        "call_p50_ms": round(statistics.median(day.call_ms), 2),
        "call_p99_ms": round(percentile(day.call_ms, 0.99), 2),
        "baseline_roundtrip_p50_ms": round(statistics.median(baseline), 2),
        "baseline_roundtrip_p99_ms": round(percentile(baseline, 0.99), 2),
        "lost": len(day.issued) - len(set(called)),
        "duplicate_numbers": len(duplicates),
        "double_calls": len(doubled),
        "errors": len(day.errors),
    }
    print(json.dumps(result))
    for error in day.errors[:10]:
        print(error, file=sys.stderr)
    bad = result["lost"] or result["duplicate_numbers"] or result["double_calls"] or day.errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
