"""The province hub at 100 centres: ingest rate, catch-up after an outage, dashboard response.

1. **day**: 100 centres' day (``--centres`` × ``--events`` ≈ 230k hash-chained events shaped like the
   queue server's: counters opened, tickets issued, called, finished, rated) is published to a real hub
   Mosquitto (TLS, generated passwords and ACL) while the hub's session is offline, one event per
   message as a live centre ships them; then the hub ingest (``hub.ingest.Ingest``) starts and drains
   it into PostgreSQL, verifying every chain. ``ingest_events_per_s`` = events / drain time.
2. **baseline** in the same run and database: a bare ``COPY`` of the same rows into a table with the same
   columns and primary key (``baseline_copy_events_per_s``): what PostgreSQL alone takes.
3. **catch-up**: one centre was offline for 3 days and its broker lost the queue: its real shipper
   (``hub.shipper.Shipper`` on a SQLite store holding those days) announces its head, the hub asks for
   the missing range, the shipper resends from its database; ``catchup_s`` = shipper start → the hub
   has verified every event.
4. **dashboard**: ``GET /`` of the province page at 100 centres with their device, counter and queue
   state, signed in (median of ``--requests``), in process through the ASGI app (``dashboard_ms``).

    python bench/province_hub.py [--centres 100] [--events 2300] [--partitions 0] [--db URL]

The database URL defaults to ``$MOTCUA_TEST_POSTGRES``; the bench works in a schema of its own and
drops it. Prints one JSON line; exits 1 if the hub lost, duplicated or refused an event.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
import psycopg
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bus.broker import free_port, wait_for_port  # noqa: E402
from bus.client import BrokerUrl  # noqa: E402
from hub.bridge import password_line, secret_for, write_hub_broker  # noqa: E402
from hub.config import parse_config  # noqa: E402
from hub.follow import ShippedEvent  # noqa: E402
from hub.ingest import Ingest  # noqa: E402
from hub.shipper import Shipper  # noqa: E402
from hub.store import HubStore  # noqa: E402
from hub.views import DayRule  # noqa: E402
from queue_server.chain import GENESIS_HASH, canonical_json, event_hash  # noqa: E402
from queue_server.db import Store  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTERS = 6
SERVICES = ["land", "civil", "business", "justice"]


def centre_days(site: str, days: list[str], per_day: int, seed: int) -> list[ShippedEvent]:
    """A centre's chain over ``days``: about ``per_day`` events each, shaped like the engine's."""
    rng = random.Random(seed)
    out: list[ShippedEvent] = []
    prev = GENESIS_HASH

    def add(at: datetime, type_: str, data: dict[str, Any]) -> None:
        nonlocal prev
        seq = len(out) + 1
        at_text = at.isoformat()
        digest = event_hash(prev, seq=seq, at=at_text, type=type_, data=data, request_id=f"r{seq}")
        out.append(ShippedEvent(seq, at_text, type_, canonical_json(data), f"r{seq}", prev, digest))
        prev = digest

    for day in days:
        start = datetime.fromisoformat(f"{day}T07:30:00").replace(tzinfo=TZ)
        for n in range(1, COUNTERS + 1):
            add(start, "counter_opened", {"counter": n, "officer": f"cb{n:02d}"})
        tickets, t = (per_day - COUNTERS) * 10 // 37, start
        for i in range(tickets):
            t += timedelta(seconds=rng.uniform(10, 50))
            service, number = rng.choice(SERVICES), 1000 + i
            ticket_id = f"{day}/{service}/{number}"
            add(
                t,
                "ticket_issued",
                {
                    "ticket_id": ticket_id,
                    "day": day,
                    "service": service,
                    "series": service,
                    "number": number,
                    "code": f"A{number}",
                    "token": uuid.uuid4().hex,
                    "priority": None,
                    "rules_version": "2025-07",
                    "issued_at": t.isoformat(),
                    "estimate_s": 600,
                },
            )
            if i >= tickets - 5:
                continue  # the last few still wait
            counter = rng.randint(1, COUNTERS)
            called = t + timedelta(seconds=rng.uniform(60, 1200))
            add(
                called,
                "ticket_called",
                {
                    "ticket_id": ticket_id,
                    "counter": counter,
                    "officer": f"cb{counter:02d}",
                    "seq": i + 1,
                    "specific": False,
                    "resumed": False,
                },
            )
            add(
                called + timedelta(seconds=300),
                "ticket_finished",
                {"ticket_id": ticket_id, "counter": counter, "service_s": 300},
            )
            if rng.random() < 0.7:
                add(
                    called + timedelta(seconds=330),
                    "ticket_rated",
                    {
                        "ticket_id": ticket_id,
                        "counter": counter,
                        "officer": f"cb{counter:02d}",
                        "score": rng.choice([0, 1, 2, 2, 2]),
                        "scale": 3,
                        "answers": {},
                    },
                )
    return out


def start_broker(directory: Path, extra: str) -> subprocess.Popen[bytes]:
    """The generated hub broker, plus ``extra`` lines (the bench's plain listener for the shipper)."""
    conf = directory / "bench.conf"
    user = (
        "user root\n" if os.geteuid() == 0 else ""
    )  # as root it would drop to a user who cannot read 0600 files
    conf.write_text(user + (directory / "mosquitto.conf").read_text() + extra, encoding="utf-8")
    log = (directory / "mosquitto.log").open("ab")
    return subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=log, stderr=log, start_new_session=True)


def publish_all(port: int, ca: Path, secret: str, chains: dict[str, list[ShippedEvent]]) -> float:
    """Publish every event, one per message, as the bench user; returns seconds taken."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=paho.MQTTv311)
    client.username_pw_set("bench", secret)
    client.tls_set(ca_certs=str(ca))
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    window: deque[paho.MQTTMessageInfo] = deque()
    for site, events in chains.items():
        topic = f"motcua/v1/{site}/hub/events"
        for e in events:
            window.append(client.publish(topic, json.dumps({"events": [e.to_json()]}), qos=1))
            if len(window) > 20_000:  # paho's message ids wrap at 65535
                window.popleft().wait_for_publish(300)
    for info in window:
        info.wait_for_publish(300)
    took = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return took


def baseline_copy(dsn: str, chains: dict[str, list[ShippedEvent]]) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE hub_events INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_copy (site, seq, at, type, data, request_id, prev_hash, hash) FROM STDIN"
            ) as copy,
        ):
            for site, events in chains.items():
                for e in events:
                    copy.write_row((site, e.seq, e.at, e.type, e.data, e.request_id, e.prev_hash, e.hash))
        conn.commit()
        took = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return took


def wait_heads(store: HubStore, want: dict[str, int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heads = store.heads()
        if all(heads[s].seq >= n for s, n in want.items()):
            return True
        time.sleep(0.1)
    return False


HUB_TOML = """
[hub]
province = "BENCH"
name = "Tỉnh thử"
[broker]
host = "127.0.0.1"
port = {port}
password_file = "{dir}/secrets/hub"
{ca}dir = "{dir}"
[database]
url = "{url}"
[ingest]
backfill_after_s = 5.0
"""


def make_config(tmp: Path, port: int, url: str, sites: list[str], tls: bool = False) -> Any:
    ca = f'ca_file = "{tmp / "hub" / "ca.pem"}"\n' if tls else ""
    text = HUB_TOML.format(port=port, dir=tmp / "hub", url=url, ca=ca)
    text += "".join(f'[[centres]]\nsite = "{s}"\nname = "Trung tâm {s}"\n' for s in sites)
    return parse_config(text, Path("bench"))


def outage_store(tmp: Path, events: list[ShippedEvent]) -> str:
    """A centre's SQLite store holding ``events`` (made by the real store, filled with the chain)."""
    url = f"sqlite:///{tmp / 'outage.db'}?synchronous=normal"
    Store.open(url).close()
    engine = sa.create_engine(f"sqlite:///{tmp / 'outage.db'}")
    from queue_server import schema

    with engine.begin() as conn:
        conn.execute(
            schema.events.insert(),
            [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "type": e.type,
                    "data": e.data,
                    "request_id": e.request_id,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in events
            ],
        )
    engine.dispose()
    return f"sqlite:///{tmp / 'outage.db'}"


def fill_state(dsn: str, sites: list[str]) -> None:
    """What 100 centres' bridges carry: server, 8 devices, 6 counters and 4 queues each (retained)."""
    rows = []
    for site in sites:
        rows.append((site, "server/availability", "online"))
        for d in ["kiosk-1", "printer-k1", *(f"keypad-{n}" for n in range(1, 7))]:
            rows.append((site, f"device/{d}/availability", "online"))
            rows.append((site, f"device/{d}/info", json.dumps({"device_kind": "printer", "model": "TM-T82"})))
            paper = "near_end" if (d == "printer-k1" and site.endswith("7")) else "ok"
            rows.append((site, f"device/{d}/status", json.dumps({"health": "ok", "paper": paper})))
        for n in range(1, COUNTERS + 1):
            rows.append(
                (
                    site,
                    f"counter/{n}/state",
                    json.dumps({"counter": n, "name": f"Quầy {n}", "status": "open"}),
                )
            )
        for service in SERVICES:
            rows.append(
                (
                    site,
                    f"queue/{service}/state",
                    json.dumps({"service": service, "service_name": service, "waiting": 3}),
                )
            )
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO hub_state (site, leaf, payload) VALUES (%s, %s, %s)", rows)


def dashboard_ms(config: Any, store: HubStore, requests: int) -> float:
    """Median time of ``GET /`` over real HTTP (uvicorn in a thread, as ``motcua hub serve`` runs it)."""
    import httpx

    from hub.auth import Accounts
    from hub.web import SESSION_COOKIE, HttpServer, create_app

    accounts = Accounts(store)
    accounts.add("bench", "bench-password", config.hub.province, "viewer")
    found = accounts.login("bench", "bench-password")
    assert found is not None
    times = []
    server = HttpServer(create_app(config, store), "127.0.0.1", free_port()).start()
    with httpx.Client(base_url=server.url, cookies={SESSION_COOKIE: found[0]}) as client:
        client.get("/")  # the first request also loads the templates
        for _ in range(requests):
            started = time.perf_counter()
            page = client.get("/")
            times.append((time.perf_counter() - started) * 1000)
            assert page.status_code == 200 and page.text.count("data-site=") == len(config.centres), (
                page.status_code
            )
    server.stop()
    return statistics.median(times)


def check(dsn: str, want: dict[str, list[ShippedEvent]]) -> list[str]:
    """Every event stored once with its hash, every chain whole; returns the problems."""
    problems = []
    with psycopg.connect(dsn) as conn:
        rows: dict[str, int] = dict(
            conn.execute("SELECT site, count(*) FROM hub_events GROUP BY site").fetchall()
        )
        bad = conn.execute(
            "SELECT count(*) FROM hub_sites WHERE broken_seq IS NOT NULL OR held > 0"
        ).fetchone()
    for site, events in want.items():
        if rows.get(site, 0) != len(events):
            problems.append(f"{site}: {rows.get(site, 0)} events stored, {len(events)} sent")
    if bad and bad[0]:
        problems.append(f"{bad[0]} centres have a broken chain or kept events aside")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--centres", type=int, default=100)
    parser.add_argument("--events", type=int, default=2300, help="events per centre per day")
    parser.add_argument("--partitions", type=int, default=0, help="hash partitions of hub_events (0 = none)")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--hub-tls", action="store_true", help="the hub ingest connects over TLS too")
    parser.add_argument(
        "--db",
        default=os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    plain_dsn = args.db.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_hub_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return run(args, schema, plain_dsn)
    finally:
        with psycopg.connect(plain_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run(args: argparse.Namespace, schema: str, plain_dsn: str) -> int:
    url = sa.make_url(args.db).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    dsn = url_text.replace("postgresql+psycopg://", "postgresql://")
    tmp = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    sites = [f"bench-{i:03d}" for i in range(args.centres)]
    port, plain = free_port(), free_port()
    # The bridges (here the bench's publisher) come over TLS; the hub ingest, on the broker's host, over
    # the loopback listener unless --hub-tls.
    config = make_config(tmp, port if args.hub_tls else plain, url_text, sites, tls=args.hub_tls)
    hub_dir = tmp / "hub"
    write_hub_broker(config, port, ["127.0.0.1"], listen="127.0.0.1")
    with (hub_dir / "passwd").open("a") as out:  # the bench's publisher may write under every prefix
        out.write(password_line("bench", secret_for(hub_dir, "bench")) + "\n")
    with (hub_dir / "acl").open("a") as out:
        out.write("\nuser bench\ntopic write motcua/v1/#\n")
    broker = start_broker(hub_dir, f"listener {plain} 127.0.0.1\n")
    try:
        assert wait_for_port("127.0.0.1", port, 10) and wait_for_port("127.0.0.1", plain, 10)
        return measure(args, config, url_text, dsn, tmp=tmp, sites=sites, ports=(port, plain))
    finally:
        broker.terminate()
        broker.wait(30)


def measure(
    args: argparse.Namespace,
    config: Any,
    url: str,
    dsn: str,
    *,
    tmp: Path,
    sites: list[str],
    ports: tuple[int, int],
) -> int:
    tls_port, plain = ports
    hub_dir = tmp / "hub"
    store = HubStore.open(url)
    store.create(partitions=args.partitions)
    today = datetime.fromisoformat(DayRule(TZ).today())
    days = [(today - timedelta(days=d)).date().isoformat() for d in (3, 2, 1, 0)]
    chains = {s: centre_days(s, [days[-1]], args.events, i) for i, s in enumerate(sites) if i}
    outage_site = sites[0]
    full = centre_days(outage_site, days, args.events, 0)
    chains[outage_site] = [e for e in full if e.at.startswith(days[0])]
    total = sum(len(c) for c in chains.values())

    Ingest(config, store).start().stop()  # the hub's session exists; the hub is now "down"
    publish_s = publish_all(tls_port, hub_dir / "ca.pem", secret_for(hub_dir, "bench"), chains)
    started, cpu = time.perf_counter(), time.process_time()
    ingest = Ingest(config, store).start()
    assert wait_heads(store, {s: len(c) for s, c in chains.items()}, 900), "the hub did not take the day"
    ingest_s, ingest_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    baseline_s = baseline_copy(dsn, chains)

    os.environ["MOTCUA_MQTT_PASSWORD"] = secret_for(hub_dir, f"centre-{outage_site}")
    mark = tmp / "shipped.json"
    mark.write_text(json.dumps({"shipped_seq": len(full)}))  # shipped, then lost by the centre's broker
    broker = BrokerUrl("127.0.0.1", plain, username=f"centre-{outage_site}")
    started = time.perf_counter()
    shipper = Shipper(outage_site, outage_store(tmp, full), broker, mark, heartbeat_s=1.0).start()
    caught_up = wait_heads(store, {outage_site: len(full)}, 600)
    catchup_s = time.perf_counter() - started
    shipper.stop()
    ingest.stop()
    outage_events = len(full) - len(chains[outage_site])
    chains[outage_site] = full
    problems = check(dsn, chains) + ([] if caught_up else ["the outage centre never caught up"])

    fill_state(dsn, sites)
    dash = dashboard_ms(config, store, args.requests)
    result = {
        "centres": len(sites),
        "events": total,
        "partitions": args.partitions,
        "hub_tls": args.hub_tls,
        "publish_s": round(publish_s, 2),
        "ingest_s": round(ingest_s, 2),
        "ingest_events_per_s": round(total / ingest_s),
        "baseline_copy_events_per_s": round(total / baseline_s),
        "ingest_vs_copy": round(baseline_s / ingest_s, 3),
        "ingest_cpu_s": round(ingest_cpu_s, 2),
        "ingest_events_per_cpu_s": round(total / ingest_cpu_s),
        "outage_events": outage_events,
        "catchup_s": round(catchup_s, 2),
        "dashboard_ms": round(dash, 1),
        "backfill_requests": ingest.stats["backfills"],
        "problems": problems,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
