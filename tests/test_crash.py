"""The queue server killed with SIGKILL at random moments while kiosks and counters keep working.

Kiosks and counters retry every unanswered request with the same id, as the real ones do. After ten
kills and restarts: every acknowledged ticket is in the database, no number was issued twice, no
ticket was called by two counters or twice by one (recalls aside), the audit chain verifies, and a
row altered behind the server's back is named by ``motcua audit verify``.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter as Tally
from pathlib import Path

import pytest
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient, RequestTimeoutError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SITE = """
[site]
id = "{site}"
name = "Trung tâm thử nghiệm"
[hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
sessions = [["00:00", "24:00"]]
[database]
url = "sqlite:///{db}"
[[services]]
code = "land"
name = "Đất đai"
prefix = "A"
first_number = 1001
[[services]]
code = "civil"
name = "Hộ tịch"
prefix = "B"
first_number = 2001
[[counters]]
number = 1
name = "Quầy 1"
services = ["land"]
[[counters]]
number = 2
name = "Quầy 2"
services = ["land", "civil"]
[[counters]]
number = 3
name = "Quầy 3"
services = ["civil"]
"""


class ServerProcess:
    def __init__(self, site: Path, broker: BrokerUrl, cwd: Path) -> None:
        self.site, self.broker, self.cwd = site, broker, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = (cwd / "server.log").open("ab")

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        cmd = [sys.executable, "-m", "motcua_cli.main", "server", "--site", str(self.site)]
        self.proc = subprocess.Popen(
            [*cmd, "--broker", str(self.broker)], cwd=self.cwd, env=env, stdout=self.log, stderr=self.log
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.log.close()


class Worker(threading.Thread):
    """A kiosk or a counter that insists: each request is retried with its id until answered."""

    def __init__(self, broker: BrokerUrl, site: str, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.client = BusClient(broker, site, name)
        self.client.enable_requests()
        self.stop_event = stop
        self.failure: BaseException | None = None

    def ask(self, verb: str, message: m.Envelope) -> m.Response:
        while True:  # even after stop: an acknowledged request must be seen through
            try:
                return self.client.request(verb, message, timeout=2.0)
            except RequestTimeoutError:
                continue

    def run(self) -> None:
        self.client.start(wait=10)
        try:
            self.work()
        except BaseException as err:  # noqa: BLE001  a thread's failure of any kind is re-raised by the test
            self.failure = err
        finally:
            self.client.stop()

    def work(self) -> None:
        raise NotImplementedError


class Kiosk(Worker):
    def __init__(self, *args: object, services: list[str]) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.services = services
        self.tickets: list[m.TicketIssued] = []

    def work(self) -> None:
        while not self.stop_event.is_set():
            response = self.ask("issue_ticket", m.IssueTicket(service=random.choice(self.services)))
            assert response.ok and response.ticket is not None, response
            self.tickets.append(response.ticket)
            time.sleep(random.uniform(0.0, 0.03))


class Clerk(Worker):
    def __init__(self, *args: object, counter: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.counter = counter
        self.called: list[str] = []

    def work(self) -> None:
        act = m.CounterAction
        self.ask(
            "counter", m.CounterRequest(counter=self.counter, action=act.OPEN, officer=f"cb{self.counter}")
        )
        while not self.stop_event.is_set():
            response = self.ask("counter", m.CounterRequest(counter=self.counter, action=act.CALL_NEXT))
            number = response.called.number if response.ok and response.called else None
            if number is None:
                time.sleep(0.02)
                continue
            self.called.append(number)
            self.ask("counter", m.CounterRequest(counter=self.counter, action=act.FINISH))


def audit(site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "motcua_cli.main", "audit", "verify", "--site", str(site)]
    return subprocess.run(cmd, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(300)  # ≈ 30 s alone on a quiet machine; the default 120 s guard is for hangs
def test_ten_kills_lose_and_double_nothing(mosquitto: BrokerUrl, tmp_path: Path) -> None:
    site_id = f"crash{random.randrange(10**6)}"
    db = tmp_path / "queue.db"
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(site=site_id, db=db), encoding="utf-8")
    server = ServerProcess(site, mosquitto, tmp_path)

    online = threading.Event()
    calls: list[m.CallEvent] = []
    watcher = BusClient(mosquitto, site_id, "crash-watcher")
    watcher.subscribe(
        watcher.topics.server_availability(),
        lambda _t, p: online.set() if p == "online" else online.clear(),
        None,
        dedupe=False,
    )
    watcher.subscribe(watcher.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    watcher.start()
    server.start()
    stop = threading.Event()
    kiosks = [
        Kiosk(mosquitto, site_id, f"supervisor-kiosk-{i}", stop, services=["land", "civil"]) for i in range(3)
    ]
    clerks = [Clerk(mosquitto, site_id, f"console-{n}", stop, counter=n) for n in (1, 2, 3)]
    try:
        assert online.wait(30), "the server did not come online"
        for worker in [*kiosks, *clerks]:
            worker.start()
        rng = random.Random(7)
        for _ in range(10):
            time.sleep(rng.uniform(0.3, 1.0))
            server.kill()
            time.sleep(rng.uniform(0.05, 0.3))
            server.start()
            assert wait_until(online.is_set, 30), "the server did not come back"
        time.sleep(1.0)
        stop.set()
        for worker in [*kiosks, *clerks]:
            worker.join(60)
            assert not worker.is_alive(), f"{worker.name} is stuck"
            assert worker.failure is None, f"{worker.name}: {worker.failure!r}"
    finally:
        stop.set()
        server.stop()
        watcher.stop()

    check_the_day(db, kiosks, clerks, calls)
    check_the_audit(site, db, tmp_path)


def check_the_day(db: Path, kiosks: list[Kiosk], clerks: list[Clerk], calls: list[m.CallEvent]) -> None:
    issued = [t for k in kiosks for t in k.tickets]
    assert len(issued) > 20, "too little traffic to mean anything"
    numbers = [t.number for t in issued]
    assert not [n for n, k in Tally(numbers).items() if k > 1], "a number was issued twice"

    with sqlite3.connect(db) as conn:
        stored = {row[0]: row[1] for row in conn.execute("SELECT code, token FROM tickets")}
    missing = [t.number for t in issued if stored.get(t.number) != t.token]
    assert not missing, f"acknowledged tickets missing from the database: {missing}"

    called = [n for c in clerks for n in c.called]
    assert not [n for n, k in Tally(called).items() if k > 1], "a ticket was called twice"
    first_calls = [c.number for c in calls if not c.recall]
    assert not [n for n, k in Tally(first_calls).items() if k > 1], "the calls stream repeated a call"
    assert all(c.seq is not None for c in calls), "a call without its seq"
    seqs = [c.seq or 0 for c in calls]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "call seq went backwards or repeated"


def check_the_audit(site: Path, db: Path, tmp_path: Path) -> None:
    verified = audit(site, tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        target = conn.execute("SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET 5").fetchone()[0]
        # What someone covering their tracks would do: change one event, keep its stored hash.
        conn.execute("UPDATE events SET data = json_set(data, '$.counter', 9) WHERE seq = ?", (target,))
    tampered = audit(site, tmp_path)
    assert tampered.returncode == 1
    assert f"event {target}" in tampered.stdout + tampered.stderr
