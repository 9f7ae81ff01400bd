"""Real parts for the hub tests: Mosquitto processes, a link that can be cut, centres, the hub.

A centre is its own Mosquitto (persistent, with the generated bridge), the real queue server and the
real shipper (both ``motcua`` subprocesses) on its own SQLite file; kiosks, clerks and rating tablets
talk to it over MQTT. The bridge reaches the hub broker through a ``LinkProxy`` so one centre's link can
be cut while the others stay up. The hub is ``motcua hub serve`` on its own PostgreSQL schema.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from test_crash import SITE, ServerProcess, Worker

from bus import models as m
from bus.broker import free_port, wait_for_port
from bus.client import BrokerUrl, BusClient
from hub.bridge import bridge_conf, centre_user, secret_for

REPO = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(REPO))


class Mosquitto:
    """One Mosquitto process on a fixed port, restartable with the same or another configuration."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.name = name
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self, conf: str) -> None:
        path = self.workdir / f"{self.name}.conf"
        # As root Mosquitto would drop to its own user, who cannot read the 0600 files made by the tests.
        path.write_text(("user root\n" if os.geteuid() == 0 else "") + conf, encoding="utf-8")
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(path)], stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        if not wait_for_port("127.0.0.1", self.port, 10):
            self.stop()
            raise RuntimeError(f"mosquitto {self.name} did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.workdir / f"{self.name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # seen with Mosquitto 2.0.11 spinning in a TLS bridge
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


class LinkProxy(threading.Thread):
    """A TCP forwarder standing for the WAN link between a centre and the hub.

    ``cut()`` drops every connection and stops listening (new attempts are refused) until ``restore()``.
    """

    def __init__(self, target_port: int) -> None:
        super().__init__(daemon=True, name="link-proxy")
        self.target = target_port
        self.port = free_port()
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = socket.create_server(("127.0.0.1", self.port))
        self.closed = False

    def run(self) -> None:
        while not self.closed:
            listener = self._listener
            if listener is None:
                time.sleep(0.05)
                continue
            listener.settimeout(0.2)
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for s in self._socks:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._socks.clear()

    def restore(self) -> None:
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port))

    def close(self) -> None:
        self.closed = True
        self.cut()


def centre_broker_conf(port: int, workdir: Path, bridge: str) -> str:
    return (
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nset_tcp_nodelay true\n"
        f"persistence true\npersistence_location {workdir}/\nlog_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\n" + bridge
    )


class Kiosk(Worker):
    def work(self) -> None:
        while not self.stop_event.is_set():
            response = self.ask("issue_ticket", m.IssueTicket(service=random.choice(["land", "civil"])))
            assert response.ok, response
            time.sleep(random.uniform(0.2, 0.5))


class Clerk(Worker):
    """Opens its counter, calls, finishes and has the citizen rate on the counter's tablet."""

    def __init__(self, *args: object, counter: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.counter = counter

    def work(self) -> None:
        act = m.CounterAction
        self.ask(
            "counter", m.CounterRequest(counter=self.counter, action=act.OPEN, officer=f"cb{self.counter}")
        )
        tablet = self.client.topics.device_evt(f"tablet-{self.counter}")
        while not self.stop_event.is_set():
            response = self.ask("counter", m.CounterRequest(counter=self.counter, action=act.CALL_NEXT))
            number = response.called.number if response.ok and response.called else None
            if number is None:
                time.sleep(0.1)
                continue
            time.sleep(random.uniform(0.05, 0.2))
            self.ask("counter", m.CounterRequest(counter=self.counter, action=act.FINISH))
            rating = m.RatingGiven(ticket=number, counter=self.counter, score=random.randrange(3), scale=3)
            self.client.publish(tablet, rating)


TABLETS = """
[[devices]]
id = "tablet-1"
kind = "rating_tablet"
counter = 1
[[devices]]
id = "tablet-2"
kind = "rating_tablet"
counter = 2
"""


class Centre:
    """One centre: broker with its bridge (through a cuttable link), queue server, shipper, traffic."""

    def __init__(self, site: str, workdir: Path, hub_dir: Path, hub_port: int) -> None:
        self.site = site
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = workdir / "queue.db"
        self.site_file = workdir / "site.toml"
        self.broker = Mosquitto(workdir, "mosquitto")
        self.url = BrokerUrl("127.0.0.1", self.broker.port, username="motcua")
        self.site_file.write_text(
            SITE.format(site=site, db=self.db).replace(
                "[database]", f'[broker]\nurl = "mqtt://motcua@127.0.0.1:{self.broker.port}"\n[database]'
            )
            + TABLETS,
            encoding="utf-8",
        )
        self.link = LinkProxy(hub_port)
        self.link.start()
        self.bridge = bridge_conf(
            site,
            "127.0.0.1",
            self.link.port,
            secret_for(hub_dir, centre_user(site)),
            ca_file=hub_dir / "ca.pem",
            restart_s=2,
        )
        self.server = ServerProcess(self.site_file, self.url, workdir)
        self.shipper: subprocess.Popen[bytes] | None = None
        self.stop_traffic = threading.Event()
        self.workers: list[Worker] = []

    def start(self) -> None:
        self.broker.start(centre_broker_conf(self.broker.port, self.dir, self.bridge))
        self.server.start()
        self.start_shipper()

    def start_shipper(self) -> None:
        log = (self.dir / "shipper.log").open("ab")
        cmd = [
            sys.executable,
            "-m",
            "motcua_cli.main",
            "hub",
            "ship",
            "--site",
            str(self.site_file),
            "--state",
            str(self.dir / "shipped.json"),
            "--heartbeat",
            "1",
        ]
        self.shipper = subprocess.Popen(cmd, cwd=self.dir, env=ENV, stdout=log, stderr=log)
        log.close()

    def stop_shipper(self) -> None:
        if self.shipper is not None and self.shipper.poll() is None:
            self.shipper.terminate()
            self.shipper.wait(20)
        self.shipper = None

    def start_traffic(self) -> None:
        self.stop_traffic.clear()
        self.workers = [
            Kiosk(self.url, self.site, "supervisor-traffic", self.stop_traffic),  # ids authz knows
            Clerk(self.url, self.site, "console-1", self.stop_traffic, counter=1),
            Clerk(self.url, self.site, "console-2", self.stop_traffic, counter=2),
        ]
        for w in self.workers:
            w.start()

    def end_traffic(self) -> None:
        self.stop_traffic.set()
        for w in self.workers:
            w.join(60)
            assert not w.is_alive(), f"{w.name} is stuck"
            assert w.failure is None, f"{w.name}: {w.failure!r}"
        self.workers = []

    def events(self) -> list[tuple[int, str]]:
        with sqlite3.connect(self.db) as conn:
            try:
                rows = conn.execute("SELECT seq, hash FROM events ORDER BY seq").fetchall()
            except sqlite3.OperationalError:  # the server has not made its tables yet
                return []
        return [(int(s), str(h)) for s, h in rows]

    def stop(self) -> None:
        self.stop_traffic.set()
        for w in self.workers:
            w.join(30)
        try:
            self.stop_shipper()
            self.server.stop()
        finally:
            for proc in (self.shipper, self.server.proc):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
            self.broker.stop()
            self.link.close()


class HubProcess:
    """``motcua hub serve`` as systemd would run it; ``kill()`` is SIGKILL."""

    def __init__(self, config: Path, workdir: Path) -> None:
        self.config, self.dir = config, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.dir / "hub.log").open("ab")
        cmd = [sys.executable, "-m", "motcua_cli.main", "-v", "hub", "serve", "--config", str(self.config)]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, env=ENV, stdout=log, stderr=log)
        log.close()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


def hub_events(dsn: str, site: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT seq, hash FROM hub_events WHERE site = %s ORDER BY seq", (site,)
        ).fetchall()
    return [(int(s), str(h)) for s, h in rows]


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s: {what}")


def bus_client(url: BrokerUrl, site: str, name: str) -> BusClient:
    return BusClient(url, site, name)
