"""``motcua demo``: a whole virtual centre on one machine.

An embedded broker (or ``--broker``), the queue server on a fresh SQLite file, one device service
per device of the site file talking to its simulator through the real codecs, the kiosk (a window
when a display exists), and simulated citizens and clerks so that the centre moves. With
``--headless --for S`` it runs S seconds and prints one line of counts, each observed where it
happened: tickets the server issued to kiosks, pages the printer simulators rendered, calls seen on
the ``calls`` topic, numbers the LED simulators showed.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bus import models as m
from bus.broker import EmbeddedBroker, free_port
from bus.client import BrokerUrl, BusClient
from bus.models import DeviceKind
from bus.process import StopSignal
from firmware_sim.centre import Citizens, Clerks, SimulatedDevices
from kiosk.backend import KioskBackend
from motcua_cli.credentials import write_credentials
from motcua_cli.devices import DeviceService, build_services
from printer.form01_pdf import receipt_pdf
from queue_server.access import Access
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf import Site, load_site

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 15.0


class VirtualCentre:
    """Everything of the demo but the windows; ``start``, let it run, ``finish``, ``stop``."""

    def __init__(
        self,
        site: Site,
        broker: BrokerUrl,
        out_dir: Path,
        *,
        speed: float = 1.0,
        narrate: bool = False,
        seed: int | None = None,
    ) -> None:
        self.site = site
        self.broker = broker
        self.out_dir = out_dir
        self.narrate = narrate
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in [*out_dir.glob("*.png"), *out_dir.glob("demo.db*"), *out_dir.glob("spool/*")]:
            old.unlink()
        self.store = Store.open(f"sqlite:///{out_dir / 'demo.db'}")
        self.sims = SimulatedDevices(site, out_dir)
        self.server = QueueServer(site, self.store, broker)
        kinds = {DeviceKind.PRINTER, DeviceKind.LED_DISPLAY, DeviceKind.KEYPAD}
        hardware = [d for d in site.devices if d.kind in kinds]
        self.services: list[DeviceService] = build_services(site, hardware, broker, out_dir / "spool")
        self.kiosks = [KioskBackend(site, d.id, broker) for d in site.devices_of(DeviceKind.KIOSK)]
        self.calls_seen = 0
        self._observer = BusClient(broker, site.site.id, "demo-observer")
        self._observer.subscribe(self._observer.topics.calls(), self._on_call, m.CallEvent)
        codes = [s.code for s in site.services]
        self.citizens = Citizens(self._take_ticket, codes, per_second=1.0 * speed, seed=seed)
        self.clerks = Clerks(self.sims.keypads, service_s=(2.0 / speed, 5.0 / speed), seed=seed)
        self._lock = threading.Lock()
        self.officer_password = secrets.token_urlsafe(12)  # the demo's one officer account, "demo"
        self.officer_pin = "".join(secrets.choice("0123456789") for _ in range(4))  # on keypad code 1000
        self.http: HttpServer | None = None

    def start(self, citizens: bool = True) -> VirtualCentre:
        self._observer.start()
        self.server.start()
        access = Access.of(self.store)
        access.officers.add(
            "demo", "Cán bộ demo", "officer", self.officer_password, self.officer_pin, keypad_code="1000"
        )
        # The simulated clerks press CALL only: their counters open for "demo" as from the console.
        for counter in {d.counter for d in self.site.devices_of(DeviceKind.KEYPAD) if d.counter}:
            self.server.handle(m.CounterRequest(counter=counter, action=m.CounterAction.OPEN, officer="demo"))
        app = create_app(self.server, access, self.site.site.name, form01_pdf=receipt_pdf)
        self.http = HttpServer(app, "127.0.0.1", free_port()).start()
        for service in self.services:
            service.start()
        for kiosk in self.kiosks:
            kiosk.start()
        if citizens:
            self.citizens.start()
        self.clerks.start()
        return self

    def _take_ticket(self, service: str) -> bool:
        outcome = self.kiosks[0].take_ticket(service)
        if self.narrate and outcome.ticket is not None:
            t = outcome.ticket
            print(
                f"  ticket  {t.number:>6}  {t.service_name} — {t.waiting_before} waiting before", flush=True
            )
        return outcome.ticket is not None

    def _on_call(self, _topic: str, call: m.CallEvent) -> None:
        with self._lock:
            self.calls_seen += 1
        if self.narrate:
            print(f"  call    {call.number:>6}  → {call.counter_name}", flush=True)

    def handed_to_printers(self) -> int:
        return sum(k.jobs_sent for k in self.kiosks)

    def finish(self) -> None:
        """Stop new citizens and clerk presses, then wait for every ticket handed over to print."""
        self.citizens.stopping.set()
        self.clerks.stopping.set()
        for person in (self.citizens, self.clerks):
            if person.is_alive():
                person.join(timeout=DRAIN_TIMEOUT_S)  # a ticket request in flight is answered first
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            jobs_done = sum(k.jobs_printed + k.jobs_failed for k in self.kiosks) >= self.handed_to_printers()
            if jobs_done and self.calls_seen >= self.server.calls_published and self._devices_idle():
                break
            time.sleep(0.05)

    def _devices_idle(self) -> bool:
        return all(service.idle() for service in self.services)

    def console_url(self, counter: int) -> str:
        """The counter console page (it asks for the officer's login first)."""
        assert self.http is not None
        return f"{self.http.url}/console/{counter}"

    def summary(self) -> str:
        return (
            f"tickets issued={self.citizens.issued} printed={self.sims.printed()} "
            f"called={self.calls_seen} displayed={self.sims.displayed()}"
        )

    def stop(self) -> None:
        self.citizens.stopping.set()
        self.clerks.stopping.set()
        for kiosk in self.kiosks:
            kiosk.stop()
        for service in self.services:
            service.stop()
        if self.http is not None:
            self.http.stop()
        self.server.stop()
        self._observer.stop()
        self.store.close()
        self.sims.close()


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(args: argparse.Namespace) -> int:
    # The virtual centre serves citizens at any hour, so the demo works on a Sunday night too.
    site = load_site(args.site).around_the_clock()
    broker: EmbeddedBroker | None = None
    if args.broker:
        url = BrokerUrl.parse(args.broker)
    else:
        broker, url = _secured_broker(site, Path(args.out))
    windows = not args.headless and has_display()
    centre: VirtualCentre | None = None
    if not args.headless:
        print(
            f"motcua demo: {site.site.name} — broker {url}, tickets saved in {args.out}/; Ctrl-C stops",
            flush=True,
        )
    stop = None if windows else StopSignal()  # the windows' Qt loop has handlers of its own
    try:
        centre = VirtualCentre(site, url, args.out, speed=args.speed, narrate=not args.headless)
        centre.start(citizens=not windows)
        if not args.headless:
            print(f"counter console (clerks without a keypad): {centre.console_url(1)}", flush=True)
            print(f"  log in as officer 'demo', password {centre.officer_password}", flush=True)
            print(f"  on a keypad: 1000, CONFIRM, {centre.officer_pin}, CONFIRM", flush=True)
            assert centre.http is not None
            print(f"device dashboard (facility staff): {centre.http.url}/dashboard", flush=True)
        if stop is None:
            _run_windows(site, centre, args.duration)
        else:
            stop.wait(args.duration)
        centre.finish()
        print(centre.summary(), flush=True)
    finally:
        if centre is not None:
            centre.stop()
        if broker is not None:
            broker.stop()
    return 0


# The demo's own reader, beside the site's identities (the hall board, hall-board, among them).
DEMO_CLIENTS = ("demo-observer",)


def _secured_broker(site: Site, out: Path) -> tuple[EmbeddedBroker, BrokerUrl]:
    """The demo's broker as production runs it: every process logs in as itself (``motcua site
    credentials``: password file, ACL, one secret per identity), anonymous access off. Without
    Mosquitto the pure-Python fallback has no users or ACL, and says so."""
    if not shutil.which("mosquitto"):
        broker = EmbeddedBroker(engine="amqtt")
        return broker, broker.start()
    creds = out / "credentials"
    write_credentials(site, creds, extra=DEMO_CLIENTS)
    broker = EmbeddedBroker(engine="mosquitto", auth=(creds / "mosquitto.passwd", creds / "mosquitto.acl"))
    url = broker.start()
    return broker, replace(url, username=None, secrets_dir=str(creds / "secrets"))


def _run_windows(site: Site, centre: VirtualCentre, duration: float | None) -> None:
    """The dispenser window, with simulated citizens touching its buttons."""
    import random

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from counter_display.hall import open_hall_window
    from kiosk.app import load_dispenser
    from kiosk.dispenser import DispenserViewModel

    app = QGuiApplication.instance() or QGuiApplication([])
    vm = DispenserViewModel(site, centre.kiosks[0], idle_reset_ms=3000)
    engine = load_dispenser(vm)
    announcer = _announcer(site)
    hall, hall_engine = open_hall_window(site, centre.broker, announcer=announcer, client_id="hall-board")
    rng = random.Random()
    codes = [s.code for s in site.services]

    def citizen_touch() -> None:
        if vm.current_screen() == "home":
            vm.takeTicket(rng.choice(codes))
        elif vm.current_screen() in {"ticket", "error"}:
            vm.goHome()

    def count(*_: Any) -> None:
        centre.citizens.issued = vm.tickets_shown

    vm.changed.connect(count)
    touches = QTimer(interval=1500)
    touches.timeout.connect(citizen_touch)
    touches.start()
    _quit_on_signal(app)
    if duration is not None:
        QTimer.singleShot(int(duration * 1000), app.quit)
    app.exec()
    hall.stop()
    if announcer is not None:
        announcer.stop()
    del engine, hall_engine


def _announcer(site: Site) -> Any:
    """The hall's Vietnamese voice, or None (with a warning) when this machine cannot speak."""
    if not site.display.voice.enabled:
        return None
    try:
        from counter_display.voice.announcer import Announcer

        return Announcer(site.voice_conf())
    except Exception as err:  # noqa: BLE001  no espeak-ng, no clips, any audio fault: the board still shows calls
        log.warning("the hall board stays silent: %s", err)
        return None


def _quit_on_signal(app: Any) -> None:
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    # Qt's event loop does not run Python code on its own; a timer gives signal handlers a chance.
    app._signal_timer = QTimer(interval=200)
    app._signal_timer.timeout.connect(lambda: None)
    app._signal_timer.start()
