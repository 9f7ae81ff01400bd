"""How long from a clerk's CALL key frame to the display frame at the counter's LED, through everything.

Path: caller-bus key frame written into the keypad simulator → keypad driver and service → MQTT
``evt`` → queue server (SQLite commit) → retained ``counter/N/state`` → LED display service →
Modbus RTU FC06 frame → received and shown by the LED simulator. Transports are in-process
simulators (no wire delay); the broker is a real Mosquitto on loopback. The baseline, in the same
run and on the same broker, is one bare MQTT publish → subscriber delivery.

The path runs twice per round, alternately with the calls outbox (each call written to the ``outbox``
table in its transaction and sent from there, the shipped path) and without it (the call sent from
memory, as before issue 13), on fresh databases, so the outbox's cost is measured in the same run.
Besides key → LED it times key → the call on ``calls`` (what the hall board and the voice follow).

    python bench/call_to_display.py [--calls 100] [--rounds 2] [--engine mosquitto|amqtt]

Prints one JSON line: {"bench": "call_to_display", "n", "p50_ms", "p99_ms", "baseline_mqtt": {...},
"no_outbox": {...}, "outbox_ratio_p50", ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bus import models as m
from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BusClient
from bus.models import DeviceKind
from counter_display.caller_bus import Key
from counter_display.service import KeypadService, LedDisplayService
from firmware_sim.centre import SimulatedDevices
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import load_site

SITE = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"
KEY_REPEAT_GAP_S = 0.3  # the keypad driver merges a repeat of the same key within 0.25 s
CIVIL_COUNTERS = [2, 3, 4]  # the demo counters that serve "civil"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mqtt_baseline(url: BrokerUrl, n: int) -> list[float]:
    got = threading.Event()
    rx = BusClient(url, "bench", "bench-rx")
    rx.subscribe(rx.topics.calls(), lambda _t, _m: got.set(), m.CallEvent)
    rx.start()
    tx = BusClient(url, "bench", "bench-tx").start()
    samples = []
    for i in range(n):
        got.clear()
        t0 = time.perf_counter()
        tx.publish(
            tx.topics.calls(), m.CallEvent(seq=i, number="A1", service="land", counter=1, counter_name="Q")
        )
        if not got.wait(5):
            raise SystemExit("the baseline message never arrived")
        samples.append((time.perf_counter() - t0) * 1000)
    rx.stop()
    tx.stop()
    return samples


def call_to_display(
    url: BrokerUrl, n: int, workdir: Path, *, outbox: bool = True
) -> tuple[list[float], list[float]]:
    """Key → LED and key → ``calls`` message, in ms, for ``n`` calls."""
    site = load_site(SITE).around_the_clock()  # the bench runs at any hour
    sims = SimulatedDevices(site)
    store = Store.open(f"sqlite:///{workdir / f'bench-{outbox}-{time.monotonic_ns()}.db'}")
    server = QueueServer(site, store, url)
    server.publisher.outbox = outbox
    server.start()
    arrived: dict[str, float] = {}
    board = BusClient(url, site.site.id, "bench-board")

    def on_call(_topic: str, call: m.CallEvent) -> None:
        arrived.setdefault(call.number, time.perf_counter())

    board.subscribe(board.topics.calls(), on_call, m.CallEvent)
    board.start()
    services = [
        (KeypadService if d.kind is DeviceKind.KEYPAD else LedDisplayService)(site.site.id, d, url).start()
        for d in site.devices
        if d.kind in {DeviceKind.KEYPAD, DeviceKind.LED_DISPLAY}
    ]
    kiosk = BusClient(url, site.site.id, "supervisor-bench")
    kiosk.enable_requests()
    kiosk.start()
    try:
        for counter in CIVIL_COUNTERS:  # opened from the console: a keypad opens only after a log-in
            opened = m.CounterRequest(
                counter=counter, action=m.CounterAction.OPEN, officer=f"cb{counter:02d}"
            )
            assert kiosk.request("counter", opened).ok
        numbers = []
        for _ in range(n):
            reply = kiosk.request("issue_ticket", m.IssueTicket(service="civil"))
            assert reply.ticket is not None, reply.error
            numbers.append(reply.ticket.number)
        samples, to_calls = [], []
        for i, number in enumerate(numbers):
            counter = CIVIL_COUNTERS[i % len(CIVIL_COUNTERS)]
            led, shown = sims.leds[counter], threading.Event()
            digits = "".join(ch for ch in number if ch.isdigit())
            led.on_show = lambda text, d=digits, e=shown: e.set() if text.strip() == d else None
            time.sleep(KEY_REPEAT_GAP_S / len(CIVIL_COUNTERS))
            t0 = time.perf_counter()
            sims.keypads[counter].press(Key.CALL)
            if not shown.wait(5):
                raise SystemExit(f"{number} never reached the LED of counter {counter}")
            samples.append((time.perf_counter() - t0) * 1000)
            deadline = time.monotonic() + 5
            while number not in arrived and time.monotonic() < deadline:
                time.sleep(0.001)
            if number not in arrived:
                raise SystemExit(f"{number} never arrived on calls")
            to_calls.append((arrived[number] - t0) * 1000)
        return samples, to_calls
    finally:
        board.stop()
        kiosk.stop()
        for service in services:
            service.stop()
        server.stop()
        store.close()
        sims.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of outbox on / off")
    parser.add_argument("--engine", choices=["mosquitto", "amqtt"], default="mosquitto")
    args = parser.parse_args()
    broker = EmbeddedBroker(port=0, engine=args.engine)
    url = broker.start()
    runs: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
    try:
        baseline = mqtt_baseline(url, 300)
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.rounds):
                for outbox in (True, False):
                    led, calls = call_to_display(url, args.calls, Path(tmp), outbox=outbox)
                    runs[outbox][0].extend(led)
                    runs[outbox][1].extend(calls)
    finally:
        broker.stop()
    print(json.dumps(summary(args.engine, runs, baseline)))


def figures(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 2), "p99_ms": round(percentile(values, 0.99), 2)}


def summary(
    engine: str, runs: dict[bool, tuple[list[float], list[float]]], baseline: list[float]
) -> dict[str, object]:
    path, to_calls = runs[True]
    plain_path, plain_calls = runs[False]
    p50, p99 = statistics.median(path), percentile(path, 0.99)
    base50, base99 = statistics.median(baseline), percentile(baseline, 0.99)
    return {
        "bench": "call_to_display",
        "broker": engine,
        "n": len(path),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(path), 2),
        "key_to_calls": figures(to_calls),
        "baseline_mqtt": {"n": len(baseline), "p50_ms": round(base50, 3), "p99_ms": round(base99, 3)},
        "ratio_p50": round(p50 / base50, 1),
        "no_outbox": {"key_to_led": figures(plain_path), "key_to_calls": figures(plain_calls)},
        "outbox_ratio_p50": round(p50 / statistics.median(plain_path), 3),
        "outbox_ratio_calls_p50": round(statistics.median(to_calls) / statistics.median(plain_calls), 3),
        "goal_p99_ms": 15,
    }


if __name__ == "__main__":
    main()
