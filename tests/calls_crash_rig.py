"""A day of calls while the queue server and the broker are killed: the parts of the calls crash test.

Used by ``tests/test_crash_calls.py`` (bounded, in CI) and ``bench/crash.py`` (longer). The parts:

- ``PersistentBroker``: Mosquitto with persistence on a fixed port, killed with SIGKILL and started
  again on the same port; it comes back with what it last saved (old retained state);
- ``FaultyServer``: ``motcua server`` in a child process, started with or without the fault hook
  (``MOTCUA_TEST_KILL_AT``, see ``queue_server/faults.py``) and restarted whenever it died;
- ``HallReader``: what a hall board does with ``calls``: keeps one entry per ``seq`` (a repeat is
  dropped), shows them in ``seq`` order, and when it sees a gap, or (re)connects, asks ``calls_since``;
- ``committed_calls``: the truth, from the events table.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from test_crash import REPO

from bus import models as m
from bus.broker import free_port, mosquitto_config, wait_for_port
from bus.client import BrokerUrl, BusClient, RequestTimeoutError

log = logging.getLogger(__name__)


class PersistentBroker:
    """Mosquitto saving its state to disk only when stopped cleanly (``autosave_interval`` is long)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="motcua-crash-broker-")
        # Mosquitto started as root drops to its own user, which must be able to write its database.
        Path(self._dir.name).chmod(0o777)
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        extra = f"persistence true\npersistence_location {self._dir.name}/\nautosave_interval 3600\n"
        config = mosquitto_config(self.port, extra=extra).replace("persistence false\n", "")
        self.conf.write_text(config, encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl("127.0.0.1", self.port)

    def start(self) -> None:
        log_file = (Path(self._dir.name) / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        if not wait_for_port("127.0.0.1", self.port, 10):
            raise RuntimeError("mosquitto did not listen again")

    def kill(self) -> None:
        """SIGKILL: what changed since the last save is lost, the retained state is the saved one."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.kills += 1

    def stop(self) -> None:
        """A clean stop: Mosquitto saves its retained messages first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


class FaultyServer:
    """``motcua server`` in a child process; ``start(fault)`` arms the kill hook for that run."""

    def __init__(self, site: Path, site_id: str, broker: BrokerUrl, cwd: Path) -> None:
        self.site, self.broker, self.cwd = site, broker, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = cwd / "server.log"
        self.log = self.log_path.open("ab")
        self.kills = 0
        self.self_kills = 0
        self.online = threading.Event()
        self._watcher = BusClient(broker, site_id, "server-watcher")
        self._watcher.subscribe(
            self._watcher.topics.server_availability(), self._on_availability, None, dedupe=False
        )
        self._watcher.start(wait=10)

    def _on_availability(self, _topic: str, payload: str) -> None:
        if payload == "online":
            self.online.set()
        else:
            self.online.clear()

    def log_tail(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def start(self, fault: str | None = None) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        env.pop("MOTCUA_TEST_KILL_AT", None)
        if fault:
            env["MOTCUA_TEST_KILL_AT"] = fault
        self.online.clear()
        cmd = [sys.executable, "-m", "motcua_cli.main", "server", "--site", str(self.site)]
        self.proc = subprocess.Popen(
            [*cmd, "--broker", str(self.broker)], cwd=self.cwd, env=env, stdout=self.log, stderr=self.log
        )

    def died_by_itself(self) -> bool:
        """True (and counted) when the process ended without us: the fault hook fired."""
        if self.proc is not None and self.proc.poll() == -signal.SIGKILL:
            self.self_kills += 1
            self.proc = None
            return True
        return False

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        else:
            self.self_kills += 1
        self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self._watcher.stop()
        self.log.close()


class HallReader:
    """A hall board's list of calls: live ``calls``, and ``calls_since`` for what it missed."""

    def __init__(self, broker: BrokerUrl, site: str) -> None:
        self.client = BusClient(broker, site, "hall-board-reader")  # a hall board: it may ask calls_since
        self.client.enable_requests()
        self.client.subscribe(self.client.topics.calls(), self._on_call, m.CallEvent, dedupe=False)
        self.shown: list[m.CallEvent] = []  # in seq order, each seq once
        self.live = 0
        self.duplicates = 0
        self.fetched = 0
        self._held: dict[int, m.CallEvent] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._recover, name="hall-reader", daemon=True)
        self.client.on_every_connect(self._wake.set)  # after a restart the board rebuilds its list

    def start(self) -> None:
        self._thread.start()
        self.client.start(wait=10)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(10)
        self.client.stop()

    @property
    def last(self) -> int:
        return (self.shown[-1].seq or 0) if self.shown else 0

    def _take(self, call: m.CallEvent) -> bool:
        """Keep a call (live or fetched); False when its seq was already known (a duplicate)."""
        seq = call.seq or 0
        with self._lock:
            if seq <= self.last or seq in self._held:
                self.duplicates += 1
                return False
            self._held[seq] = call
            while self.last + 1 in self._held:
                self.shown.append(self._held.pop(self.last + 1))
            return True

    def _on_call(self, _topic: str, call: m.CallEvent) -> None:
        if self._take(call):
            self.live += 1
        if self._held:  # a gap: something before this call is missing
            self._wake.set()

    def _recover(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            if not self._stop.is_set():
                self.catch_up()

    def catch_up(self) -> None:
        """Ask ``calls_since`` from the last shown call until the answer is empty (or fails)."""
        while not self._stop.is_set():
            try:
                answer = self.client.request("calls_since", m.CallsSince(after_seq=self.last), timeout=2.0)
            except RequestTimeoutError:
                return  # the server or the broker is away; the next connect or gap asks again
            if not answer.ok or not answer.calls:
                return
            for call in answer.calls:
                if self._take(call):
                    self.fetched += 1


def committed_calls(db: Path) -> list[tuple[int, str, bool]]:
    """Every call the store committed: (seq, ticket number, recall), in seq order."""
    query = (
        "SELECT json_extract(e.data, '$.seq'), t.code, e.type = 'ticket_recalled' FROM events e"
        " JOIN tickets t ON t.id = json_extract(e.data, '$.ticket_id')"
        " WHERE e.type IN ('ticket_called', 'ticket_recalled') ORDER BY 1"
    )
    with sqlite3.connect(db) as conn:
        return [(int(seq), str(code), bool(recall)) for seq, code, recall in conn.execute(query)]


def retained_states(broker: BrokerUrl, site: str, counters: list[int]) -> dict[int, m.CounterState]:
    """The retained ``counter/N/state`` a display connecting now reads first."""
    got: dict[int, m.CounterState] = {}
    done = threading.Event()
    reader = BusClient(broker, site, f"state-reader-{os.getpid()}-{threading.get_ident()}")

    def on_state(_topic: str, state: m.CounterState) -> None:
        got.setdefault(state.counter, state)
        if set(got) >= set(counters):
            done.set()

    for number in counters:
        reader.subscribe(reader.topics.counter_state(number), on_state, m.CounterState, dedupe=False)
    reader.start(wait=10)
    try:
        done.wait(5)
    finally:
        reader.stop()
    return got


def last_call_per_counter(db: Path) -> dict[int, int | None]:
    """Each counter's last call seq, as its retained state should say (None: never called)."""
    query = (
        "SELECT json_extract(data, '$.counter'), MAX(json_extract(data, '$.seq')) FROM events"
        " WHERE type IN ('ticket_called', 'ticket_recalled') GROUP BY 1"
    )
    with sqlite3.connect(db) as conn:
        found = {int(counter): int(seq) for counter, seq in conn.execute(query)}
    return {n: found.get(n) for n in (1, 2, 3)}
