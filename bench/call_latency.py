"""How long from a clerk's CALL key to the number on the counter's LED display.

The path measured is the real one: caller-bus key frame into the keypad simulator → keypad service →
MQTT ``evt`` → queue server (SQLite commit) → retained ``counter/N/state`` → LED display service →
Modbus RTU write → the LED simulator shows the number. The baseline, in the same run and on the same
broker, is one bare MQTT publish → subscriber delivery; the ratio says what the rest of the path costs.

    python bench/call_latency.py [--calls 60] [--engine mosquitto|amqtt]

Prints one JSON line.
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
        got.wait(5)
        samples.append((time.perf_counter() - t0) * 1000)
    rx.stop()
    tx.stop()
    return samples


def call_to_led(url: BrokerUrl, n: int, workdir: Path) -> list[float]:
    site = load_site(SITE).around_the_clock()  # the bench runs at any hour
    sims = SimulatedDevices(site)
    store = Store.open(f"sqlite:///{workdir / 'bench.db'}")
    server = QueueServer(site, store, url).start()
    services = [
        (KeypadService if d.kind is DeviceKind.KEYPAD else LedDisplayService)(site.site.id, d, url).start()
        for d in site.devices
        if d.kind in {DeviceKind.KEYPAD, DeviceKind.LED_DISPLAY}
    ]
    kiosk = BusClient(url, site.site.id, "bench-kiosk")
    kiosk.enable_requests()
    kiosk.start()
    numbers = [kiosk.request("issue_ticket", m.IssueTicket(service="civil")).ticket.number for _ in range(n)]  # type: ignore[union-attr]
    samples = []
    counters = [2, 3, 4]  # the counters that serve "civil"
    for i, number in enumerate(numbers):
        counter = counters[i % len(counters)]
        led, shown = sims.leds[counter], threading.Event()
        digits = "".join(ch for ch in number if ch.isdigit())
        led.on_show = lambda text, d=digits, e=shown: e.set() if text.strip() == d else None
        time.sleep(KEY_REPEAT_GAP_S / len(counters))
        t0 = time.perf_counter()
        sims.keypads[counter].press(Key.CALL)
        if not shown.wait(5):
            raise SystemExit(f"{number} never reached the LED of counter {counter}")
        samples.append((time.perf_counter() - t0) * 1000)
    kiosk.stop()
    for service in services:
        service.stop()
    server.stop()
    store.close()
    sims.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--engine", choices=["mosquitto", "amqtt"], default="mosquitto")
    args = parser.parse_args()
    broker = EmbeddedBroker(port=0, engine=args.engine)
    url = broker.start()
    try:
        baseline = mqtt_baseline(url, 200)
        with tempfile.TemporaryDirectory() as tmp:
            path = call_to_led(url, args.calls, Path(tmp))
    finally:
        broker.stop()
    p50, base50 = statistics.median(path), statistics.median(baseline)
    print(
        json.dumps(
            {
                "bench": "call_latency",
                "broker": args.engine,
                "calls": len(path),
                "key_to_led_ms": {
                    "p50": round(p50, 2),
                    "p95": round(percentile(path, 0.95), 2),
                    "max": round(max(path), 2),
                },
                "baseline_mqtt_ms": {"p50": round(base50, 3), "p95": round(percentile(baseline, 0.95), 3)},
                "ratio_p50": round(p50 / base50, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
