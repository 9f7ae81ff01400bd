"""A provincial centre's day through the queue server: its capacity, then its latency at a real pace.

1,000 tickets over 8 services and 40 counters with a morning peak (the first 40 % of tickets issued
by 8 kiosks, then the rest by 8 more), replayed twice against one queue server running as its own
process with durable commits (SQLite WAL, ``synchronous=FULL``, unless ``--db`` says otherwise). All
traffic is real MQTT on a real Mosquitto. The kiosks and counters run in ``--workers`` processes (the
load generator's own GIL must not be what is measured) and a hall board in one more process.

1. **saturated**: every kiosk issues and every counter calls and finishes as fast as the server answers
   (a closed loop of ~48 clients: 8 kiosks and 40 counters at a time): ``commands_per_s`` is the
   server's capacity; its latencies are mostly time spent queueing behind the other clients'
   requests (Little's law: latency ≈ clients in flight / throughput).
2. **paced**: the same day at ``--load`` × that capacity at the peak: the 8 peak kiosks issue 2 tickets
   for each one the counters serve, the other 8 then 0.75, and each counter calls a ticket every N ms
   and finishes it half-way to its next call. ``issue_*`` and ``call_*`` are this phase's latencies:
   a clerk presses call → the hall board shows the number, with the server not saturated.

- issue latency: ``req/issue_ticket`` published → its response received by the kiosk;
- call latency: ``req/counter`` ``call_next`` published → the ``calls`` event for that ticket received
  by the hall board (another process: ``time.perf_counter`` is ``CLOCK_MONOTONIC``, one clock for all);
- baseline, in the same run and broker: a bare request/response round trip through a trivial echo
  responder (what two MQTT hops cost with no queue logic and no database).

A counter that finds nobody waiting for its services backs off 20-50 ms before calling again.

    python bench/queue_day.py [--tickets 1000] [--counters 40] [--workers 3] [--load 0.6] [--db URL]

Prints one JSON line and exits 1 when a day went wrong (a ticket lost, issued twice or called twice).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from queue_day_parts import REPO, SERVICES, cpu_seconds, echo_baseline, percentile, site_file

from bus import models as m
from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BusClient, RequestTimeoutError

KIOSKS = 8  # per half of the day: 8 for the peak, 8 more for the rest
PEAK = 0.4  # share of the day's tickets issued in the morning peak
PEAK_ISSUE, REST_ISSUE = 2.0, 0.75  # paced: tickets issued per ticket served, at the peak and after


@dataclass
class Shared:
    """Counters and signals shared by the parent, the load workers and the hall board."""

    issued: Synchronized[int]
    called: Synchronized[int]
    kiosks_done: Synchronized[int]
    go: MpEvent
    rest_go: MpEvent
    stop: MpEvent
    results: Queue[Any]


@dataclass(frozen=True)
class Plan:
    """One worker's share of one phase. Periods are seconds; ``None`` means as fast as answered."""

    index: int
    url: BrokerUrl
    site_id: str
    kiosks: list[tuple[int, int, bool]]  # (kiosk number, tickets, part of the rest of the day)
    counters: list[int]
    peak_kiosk_period: float | None = None
    rest_kiosk_period: float | None = None
    counter_period: float | None = None


@dataclass
class WorkerResult:
    commands: int = 0
    empty_calls: int = 0
    issue_ms: list[float] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    call_sent: dict[tuple[int, str], float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    last_done: float = 0.0
    cpu_s: float = 0.0


def bump(value: Synchronized[int]) -> None:
    with value.get_lock():
        value.value += 1


def sleep_until(deadline: float) -> None:
    delay = deadline - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


class Worker:
    """Some of the kiosks and counters, as threads sharing one MQTT connection of this process."""

    def __init__(self, plan: Plan, shared: Shared) -> None:
        self.plan, self.shared = plan, shared
        self.result = WorkerResult()
        self.lock = threading.Lock()
        self.client = BusClient(plan.url, plan.site_id, f"supervisor-load-{plan.index}")
        self.client.enable_requests()

    def request(self, verb: str, message: m.Envelope) -> m.Response:
        for _ in range(5):  # the same id each time: a retry never doubles a ticket
            try:
                response = self.client.request(verb, message, timeout=10)
            except RequestTimeoutError:
                continue
            done = time.perf_counter()
            with self.lock:
                self.result.commands += 1
                self.result.last_done = max(self.result.last_done, done)
            return response
        raise RuntimeError(f"no answer to {verb} after 5 tries")

    def kiosk(self, index: int, count: int, rest: bool) -> None:
        if rest:
            self.shared.rest_go.wait()
        period = self.plan.rest_kiosk_period if rest else self.plan.peak_kiosk_period
        start = time.perf_counter()
        rng = random.Random(index)
        due = start + (rng.uniform(0, period) if period else 0.0)
        for i in range(count):
            if period is not None:
                sleep_until(due)
                due = max(due + period, time.perf_counter())
            service = SERVICES[(index + i) % len(SERVICES)]
            t0 = time.perf_counter()
            response = self.request("issue_ticket", m.IssueTicket(service=service))
            elapsed = (time.perf_counter() - t0) * 1000
            if not response.ok or response.ticket is None:
                with self.lock:
                    self.result.errors.append(f"issue refused: {response.error}")
                continue
            with self.lock:
                self.result.issue_ms.append(elapsed)
                self.result.issued.append(response.ticket.number)
            bump(self.shared.issued)
        bump(self.shared.kiosks_done)

    def counter(self, number: int) -> None:
        act = m.CounterAction
        rng = random.Random(1000 + number)
        self.request("counter", m.CounterRequest(counter=number, action=act.OPEN, officer=f"cb{number}"))
        period = self.plan.counter_period
        due = time.perf_counter() + (rng.uniform(0, period) if period else 0.0)
        while not self.shared.stop.is_set():
            sleep_until(due)
            request = m.CounterRequest(counter=number, action=act.CALL_NEXT)
            t0 = time.perf_counter()
            response = self.request("counter", request)
            called = response.called.number if response.ok and response.called else None
            if called is None:  # nobody waiting for this counter's services: do not spin
                with self.lock:
                    self.result.empty_calls += 1
                time.sleep(rng.uniform(0.02, 0.05))
                due = time.perf_counter()
                continue
            with self.lock:
                self.result.call_sent[(number, called)] = t0
            bump(self.shared.called)
            if period is not None:  # serve the citizen, finish half-way, call the next one on time
                sleep_until(t0 + period / 2)
                due = t0 + period
            self.request("counter", m.CounterRequest(counter=number, action=act.FINISH))

    def run(self) -> WorkerResult:
        self.client.start()
        cpu0 = time.process_time()
        self.shared.results.put(("ready", self.plan.index, None))
        self.shared.go.wait()
        threads = [threading.Thread(target=self.kiosk, args=kiosk) for kiosk in self.plan.kiosks]
        threads += [threading.Thread(target=self.counter, args=(n,)) for n in self.plan.counters]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.result.cpu_s = time.process_time() - cpu0
        self.client.stop()
        return self.result


def worker_main(plan: Plan, shared: Shared) -> None:
    try:
        result = Worker(plan, shared).run()
    except Exception as err:  # noqa: BLE001  any failure is reported: the parent must not wait for a dead worker
        result = WorkerResult(errors=[f"worker {plan.index}: {err!r}"])
    shared.results.put(("done", plan.index, result))


def board_main(url: BrokerUrl, site_id: str, shared: Shared) -> None:
    """The hall board: when each call reaches it."""
    seen: dict[tuple[int, str], float] = {}
    lock = threading.Lock()

    def on_call(_topic: str, call: m.CallEvent) -> None:
        now = time.perf_counter()
        with lock:
            seen.setdefault((call.counter, call.number), now)

    board = BusClient(url, site_id, "bench-board")
    board.subscribe(board.topics.calls(), on_call, m.CallEvent)
    board.start()
    cpu0 = time.process_time()
    shared.results.put(("ready", -1, None))
    shared.stop.wait()
    time.sleep(0.3)  # the last calls events in flight
    board.stop()
    with lock:
        shared.results.put(("board", -1, (dict(seen), time.process_time() - cpu0)))


# --- one phase ------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    seconds: float
    commands: int
    empty_calls: int
    issue_ms: list[float]
    call_ms: list[float]
    issued: list[str]
    called: list[str]
    errors: list[str]
    cpu: dict[str, float]  # share of one core over the phase, per process kind


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def make_plans(url: BrokerUrl, args: argparse.Namespace, capacity: float | None) -> list[Plan]:
    """The kiosks and counters shared out among the workers, with their pace when paced."""
    peak = int(args.tickets * PEAK)
    rest = args.tickets - peak
    kiosks = [(i, peak // KIOSKS + (1 if i < peak % KIOSKS else 0), False) for i in range(KIOSKS)]
    kiosks += [(KIOSKS + i, rest // KIOSKS + (1 if i < rest % KIOSKS else 0), True) for i in range(KIOSKS)]
    counters = list(range(1, args.counters + 1))
    periods: dict[str, float] = {}
    if capacity is not None:
        # per ticket served at the peak: 2 issues + a call + a finish = 4 commands
        served_per_s = args.load * capacity / (PEAK_ISSUE + 2)
        periods = {
            "peak_kiosk_period": KIOSKS / (PEAK_ISSUE * served_per_s),
            "rest_kiosk_period": KIOSKS / (REST_ISSUE * served_per_s),
            "counter_period": args.counters / served_per_s,
        }
    shares = zip(split(kiosks, args.workers), split(counters, args.workers), strict=True)
    return [Plan(i, url, "bench", k, c, **periods) for i, (k, c) in enumerate(shares)]


def drive(shared: Shared, peak: int, kiosks: int) -> None:
    """Let the rest of the day in after the peak; stop when every ticket issued has been called."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if shared.issued.value >= peak:
            shared.rest_go.set()
        if shared.kiosks_done.value == kiosks and shared.called.value >= shared.issued.value:
            break
        time.sleep(0.002)
    shared.rest_go.set()
    shared.stop.set()


def run_phase(
    ctx: mp.context.SpawnContext,
    url: BrokerUrl,
    args: argparse.Namespace,
    pids: dict[str, int],
    capacity: float | None,
) -> PhaseResult:
    """One day. ``capacity`` None: saturated; else paced at ``args.load`` × capacity at the peak."""
    shared = Shared(
        issued=ctx.Value("i", 0),
        called=ctx.Value("i", 0),
        kiosks_done=ctx.Value("i", 0),
        go=ctx.Event(),
        rest_go=ctx.Event(),
        stop=ctx.Event(),
        results=ctx.Queue(),
    )
    plans = make_plans(url, args, capacity)
    procs = [ctx.Process(target=worker_main, args=(plan, shared)) for plan in plans]
    procs.append(ctx.Process(target=board_main, args=(url, "bench", shared)))
    for p in procs:
        p.start()
    for _ in procs:
        kind, _index, _payload = shared.results.get(timeout=60)
        assert kind == "ready", kind
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    t0 = time.perf_counter()
    shared.go.set()
    drive(shared, int(args.tickets * PEAK), 2 * KIOSKS)
    polled = time.perf_counter() - t0
    cpu = {name: (cpu_seconds(pid) - cpu0[name]) / polled for name, pid in pids.items()}
    results: list[WorkerResult] = []
    seen: dict[tuple[int, str], float] = {}
    load_cpu = 0.0
    for _ in procs:
        kind, _index, payload = shared.results.get(timeout=120)
        if kind == "board":
            seen, board_cpu = payload
            load_cpu += board_cpu
        else:
            results.append(payload)
            load_cpu += payload.cpu_s
    for p in procs:
        p.join(30)
    elapsed = max(r.last_done for r in results) - t0
    cpu["load"] = load_cpu / elapsed  # the board's share counts its 0.3 s wait for stragglers: small
    errors = [e for r in results for e in r.errors]
    call_ms = []
    called = []
    for r in results:
        for (counter, number), sent in r.call_sent.items():
            called.append(number)
            arrived = seen.get((counter, number))
            if arrived is None:
                errors.append(f"call {number} at counter {counter} never reached the board")
            else:
                call_ms.append((arrived - sent) * 1000)
    return PhaseResult(
        seconds=elapsed,
        commands=sum(r.commands for r in results),
        empty_calls=sum(r.empty_calls for r in results),
        issue_ms=[x for r in results for x in r.issue_ms],
        call_ms=call_ms,
        issued=[x for r in results for x in r.issued],
        called=called,
        errors=errors,
        cpu=cpu,
    )


def figures(phase: PhaseResult, prefix: str) -> dict[str, Any]:
    def ms(x: float) -> float:
        return round(x, 2)

    return {
        f"{prefix}issue_p50_ms": ms(statistics.median(phase.issue_ms)) if phase.issue_ms else None,
        f"{prefix}issue_p99_ms": ms(percentile(phase.issue_ms, 0.99)),
        f"{prefix}call_p50_ms": ms(statistics.median(phase.call_ms)) if phase.call_ms else None,
        f"{prefix}call_p99_ms": ms(percentile(phase.call_ms, 0.99)),
    }


def checks(phase: PhaseResult) -> dict[str, int]:
    doubled = [n for n, k in Tally(phase.called).items() if k > 1]
    duplicates = [n for n, k in Tally(phase.issued).items() if k > 1]
    return {
        "lost": len(set(phase.issued) - set(phase.called)),
        "duplicate_numbers": len(duplicates),
        "double_calls": len(doubled),
        "errors": len(phase.errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--counters", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3, help="load generator processes")
    parser.add_argument("--load", type=float, default=0.6, help="paced peak load, share of capacity")
    parser.add_argument("--db", help="database URL (default: SQLite WAL in a temporary folder)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(port=0, engine="mosquitto") as broker:
        url = broker.url
        baseline = echo_baseline(url, 500)
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
            pids = {"server": server.pid}
            mosquitto = getattr(broker, "_proc", None)
            if mosquitto is not None:
                pids["broker"] = mosquitto.pid
            saturated = run_phase(ctx, url, args, pids, None)
            capacity = saturated.commands / saturated.seconds
            paced = run_phase(ctx, url, args, pids, capacity)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    sat, pac = checks(saturated), checks(paced)
    result: dict[str, Any] = {
        "bench": "queue_day",
        "store": "postgresql" if db.startswith("postgresql") else "sqlite",
        "tickets": len(saturated.issued),
        "counters": args.counters,
        "load_workers": args.workers,
        "commands_per_s": round(capacity, 1),
        **figures(paced, ""),
        "saturated_commands": saturated.commands,
        "saturated_ticket_commands_per_s": round(
            (saturated.commands - saturated.empty_calls) / saturated.seconds, 1
        ),
        "saturated_empty_calls": saturated.empty_calls,
        "saturated_seconds": round(saturated.seconds, 2),
        **figures(saturated, "saturated_"),
        **{f"saturated_{k}_cpu": round(v, 2) for k, v in saturated.cpu.items()},
        "paced_load": args.load,
        "paced_offered_peak_per_s": round(args.load * capacity, 1),
        "paced_commands_per_s": round(paced.commands / paced.seconds, 1),
        "paced_seconds": round(paced.seconds, 2),
        "paced_empty_calls": paced.empty_calls,
        **{f"paced_{k}_cpu": round(v, 2) for k, v in paced.cpu.items()},
        "baseline_roundtrip_p50_ms": round(statistics.median(baseline), 2),
        "baseline_roundtrip_p99_ms": round(percentile(baseline, 0.99), 2),
        **{k: sat[k] + pac[k] for k in sat},
    }
    print(json.dumps(result))
    for error in (saturated.errors + paced.errors)[:10]:
        print(error, file=sys.stderr)
    bad = any(result[k] for k in sat)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
