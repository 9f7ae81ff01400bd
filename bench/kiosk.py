"""Kiosk speed: cold start to the first interactive frame, and a touch to the ticket and to the print job.

- ``cold_start_s``: a new process (offscreen) from its start to the dispenser's first frame, with its
  backend connected to the broker; baseline: a bare ``QGuiApplication`` showing an empty QML window.
- ``tap_to_ticket_ms``: a mouse click on a service button (QTest on the real window) until the ticket
  screen is set, through the real queue server (SQLite commit) over Mosquitto; baseline: one bare MQTT
  publish → delivery on the same broker.
- ``tap_to_print_job_ms``: the same click until the printer service receives the ``print_ticket``
  command.

    python bench/kiosk.py [--taps 30] [--starts 5] [--tcp-nodelay]

``--tcp-nodelay`` turns Nagle's algorithm off on the broker and on every client socket: without it a
small MQTT packet sent while an earlier one is still unacknowledged waits for the peer's delayed ACK
(~40 ms on Linux), which is most of the default figures.

Prints one JSON line (medians; p95 and baselines alongside).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtQuick import QQuickItem

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bus import models as m  # noqa: E402
from bus.broker import EmbeddedBroker  # noqa: E402
from bus.client import BrokerUrl, BusClient  # noqa: E402
from kiosk.backend import KioskBackend  # noqa: E402
from siteconf import load_site  # noqa: E402

SITE = REPO / "sites" / "demo.toml"

_CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_QUICK_BACKEND", "software")
sys.path.insert(0, {repo!r})
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
if {mode!r} == "bare":
    from PySide6.QtQml import QQmlApplicationEngine
    engine = QQmlApplicationEngine()
    engine.loadData(b"import QtQuick\nWindow {{ visible: true; width: 1080; height: 1920 }}")
    window = engine.rootObjects()[0]
else:
    from kiosk.app import load_screen, window_of
    from kiosk.backend import KioskBackend
    from kiosk.dispenser import DispenserViewModel
    from siteconf import load_site
    site = load_site({site!r})
    backend = KioskBackend(site, "kiosk-1", {broker!r}).start()
    vm = DispenserViewModel(site, backend)
    engine = load_screen("dispenser", vm)
    window = window_of(engine)
window.frameSwapped.connect(lambda: (print(time.perf_counter() - t0, flush=True), app.quit()))
app.exec()
"""


def cold_start(mode: str, broker: BrokerUrl, starts: int) -> tuple[float, float]:
    """Median (wall time from spawning the process, in-process time) to the first frame."""
    walls, inner = [], []
    for _ in range(starts):
        code = _CHILD.format(repo=str(REPO), mode=mode, site=str(SITE), broker=str(broker))
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
        )
        wall = time.perf_counter() - t0
        if out.returncode != 0 or not out.stdout.strip():
            raise SystemExit(f"cold start ({mode}) failed: {out.stderr[-2000:]}")
        walls.append(wall)
        inner.append(float(out.stdout.split()[0]))
    return statistics.median(walls), statistics.median(inner)


def mqtt_baseline(url: BrokerUrl, n: int) -> list[float]:
    got = threading.Event()
    rx = BusClient(url, "bench", "bench-rx")
    rx.subscribe(rx.topics.device_cmd("x"), lambda _t, _m: got.set(), m.device_command_adapter)
    rx.start()
    tx = BusClient(url, "bench", "bench-tx").start()
    samples = []
    for _ in range(n):
        got.clear()
        t0 = time.perf_counter()
        tx.publish(tx.topics.device_cmd("x"), m.Beep(expires_at=m.expires_in(10)))
        got.wait(5)
        samples.append((time.perf_counter() - t0) * 1000)
    rx.stop()
    tx.stop()
    return samples


@contextmanager
def centre(url: BrokerUrl, workdir: Path, job_at: list[float]) -> Iterator[KioskBackend]:
    """Queue server, printer service on its simulator, a spy on the printer's commands, the kiosk."""
    from firmware_sim.centre import SimulatedDevices
    from printer.service import PrinterService
    from queue_server.db import Store
    from queue_server.server import QueueServer

    site = load_site(SITE).around_the_clock()  # the bench runs at any hour
    sims = SimulatedDevices(site)
    store = Store.open(f"sqlite:///{workdir / 'bench.db'}")
    server = QueueServer(site, store, url).start()
    printer = PrinterService(site.site.id, site.device("printer-k1"), url).start()
    spy = BusClient(url, site.site.id, "bench-spy")
    spy.subscribe(spy.topics.device_cmd("printer-k1"), lambda _t, _c: job_at.append(time.perf_counter()))
    spy.start()
    backend = KioskBackend(site, "kiosk-1", url).start()
    try:
        yield backend
    finally:
        backend.stop()
        spy.stop()
        printer.stop()
        server.stop()
        store.close()
        sims.close()


def taps(url: BrokerUrl, n: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Click a service button ``n`` times; per click, ms to the ticket screen and to the print job."""
    from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtTest import QTest

    from kiosk.app import load_screen, window_of
    from kiosk.dispenser import DispenserViewModel

    _app = QGuiApplication.instance() or QGuiApplication([])
    job_at: list[float] = []
    to_ticket: list[float] = []
    to_job: list[float] = []
    with centre(url, workdir, job_at) as backend:
        vm = DispenserViewModel(backend.site, backend)
        engine = load_screen("dispenser", vm)
        window = window_of(engine)
        shown = threading.Event()
        watch = _Watch(vm, shown)
        vm.changed.connect(watch.check)
        guard = QTimer(singleShot=True, interval=10_000)  # never wait forever for a lost answer
        guard.timeout.connect(watch.loop.quit)
        for i in range(n):
            vm.goHome()
            QTest.qWait(20)
            item = _find(window.contentItem(), f"service-{('land', 'civil', 'business')[i % 3]}")
            point = QPoint(item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint())
            shown.clear()
            job_at.clear()
            t0 = time.perf_counter()
            guard.start()
            QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
            if not shown.is_set():
                watch.loop.exec()  # quits as soon as the ticket screen is set
            to_ticket.append((time.perf_counter() - t0) * 1000)
            deadline = time.perf_counter() + 10
            while not job_at and time.perf_counter() < deadline:
                time.sleep(0.0005)
            to_job.append((job_at[0] - t0) * 1000 if job_at else float("nan"))
        window.close()
        del engine
    return to_ticket, to_job


class _Watch:
    """Sets ``event`` when the dispenser shows a ticket (one connection for the whole run)."""

    def __init__(self, vm: object, event: threading.Event) -> None:
        from PySide6.QtCore import QEventLoop

        self.vm = vm
        self.event = event
        self.loop = QEventLoop()

    def check(self) -> None:
        if self.vm.current_screen() == "ticket":  # type: ignore[attr-defined]
            self.event.set()
            self.loop.quit()


def _find(root: QQuickItem, name: str) -> QQuickItem:
    todo = [root]
    while todo:
        item = todo.pop()
        if item.objectName() == name:
            return item
        todo += item.childItems()
    raise LookupError(name)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=30)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument(
        "--tcp-nodelay",
        action="store_true",
        help="TCP_NODELAY on the broker (set_tcp_nodelay) and on every client socket",
    )
    args = parser.parse_args()
    if args.tcp_nodelay:
        import socket

        import bus.broker
        import bus.client

        connected = bus.client.BusClient._on_connect

        def on_connect(self: bus.client.BusClient, client: object, *rest: object) -> None:
            sock = client.socket()  # type: ignore[attr-defined]
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connected(self, client, *rest)  # type: ignore[arg-type]

        bus.client.BusClient._on_connect = on_connect  # type: ignore[assignment]

        plain = bus.broker.mosquitto_config
        bus.broker.mosquitto_config = lambda *a, **k: plain(*a, **k) + "set_tcp_nodelay true\n"
    broker = EmbeddedBroker(port=0, engine="mosquitto")
    url = broker.start()
    try:
        bare_wall, bare_inner = cold_start("bare", url, args.starts)
        kiosk_wall, kiosk_inner = cold_start("dispenser", url, args.starts)
        base = mqtt_baseline(url, args.taps)
        with tempfile.TemporaryDirectory() as tmp:
            to_ticket, to_job = taps(url, args.taps, Path(tmp))
    finally:
        broker.stop()
    result = {
        "bench": "kiosk",
        "cold_start_s": round(kiosk_wall, 3),
        "tap_to_ticket_ms": round(statistics.median(to_ticket), 2),
        "tap_to_print_job_ms": round(statistics.median(to_job), 2),
        "cold_start_in_process_s": round(kiosk_inner, 3),
        "tap_to_ticket_p95_ms": round(p95(to_ticket), 2),
        "tap_to_print_job_p95_ms": round(p95(to_job), 2),
        "baseline_bare_qml_cold_start_s": round(bare_wall, 3),
        "baseline_bare_qml_in_process_s": round(bare_inner, 3),
        "baseline_mqtt_hop_ms": round(statistics.median(base), 3),
        "cold_start_ratio": round(kiosk_wall / bare_wall, 2),
        "taps": args.taps,
        "starts": args.starts,
        "broker_tcp_nodelay": args.tcp_nodelay,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
