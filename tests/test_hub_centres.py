"""Three centres, each with its own Mosquitto, queue server and SQLite, bridged over TLS to a hub broker;
the hub (``motcua hub serve``) on its own PostgreSQL schema.

Traffic runs at every centre; one centre's link is cut while it keeps issuing and calling, then
restored; the hub is killed and restarted; its database is restored from a dump older than the last
events. After each, the hub holds exactly every centre's events (same seqs, same hashes: nothing lost,
nothing twice) and every chain verifies. A centre's event altered before it was shipped is flagged and
kept aside. The hub broker lets a centre publish only under its own prefix and read only its backfill.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg
import pytest
import sqlalchemy as sa
from hub_rig import Centre, HubProcess, Mosquitto, hub_events, wait_for
from paho.mqtt.enums import CallbackAPIVersion

from bus.broker import free_port
from hub.bridge import centre_user, secret_for, write_hub_broker
from hub.config import load_config

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]
POSTGRES_DSN = os.environ.get("MOTCUA_TEST_POSTGRES")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = Path(os.environ.get("MOTCUA_SCREENS", Path(__file__).resolve().parent.parent / "artifacts"))
OnMessage = Callable[[paho.Client, Any, paho.MQTTMessage], None]
needs_postgres = pytest.mark.skipif(not POSTGRES_DSN, reason="MOTCUA_TEST_POSTGRES is not set")

HUB_TOML = """
[hub]
province = "HN"
name = "Hà Nội"
[broker]
host = "127.0.0.1"
port = {port}
username = "hub"
password_file = "{dir}/secrets/hub"
ca_file = "{dir}/ca.pem"
dir = "{dir}"
[database]
url = "{url}"
[http]
listen = "127.0.0.1:{http}"
[ingest]
backfill_after_s = 2.0
{centres}
"""


class HubRig:
    """The hub broker, the hub's schema and config, and the centres around it."""

    def __init__(self, tmp: Path, dsn: str, sites: list[str]) -> None:
        self.tmp = tmp
        self.schema = f"hub_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_plain(dsn), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        self.url = sa.make_url(dsn).update_query_dict({"options": f"-csearch_path={self.schema}"})
        self.dsn = _plain(self.url.render_as_string(hide_password=False))
        self.hub_dir = tmp / "hub"
        self.broker = Mosquitto(self.hub_dir, "hub-mosquitto")
        self.http_port = free_port()
        centres = "".join(f'[[centres]]\nsite = "{s}"\nname = "Trung tâm {s}"\n' for s in sites)
        self.config_path = tmp / "hub.toml"
        self.config_path.write_text(
            HUB_TOML.format(
                port=self.broker.port,
                dir=self.hub_dir,
                url=self.url.render_as_string(hide_password=False),
                http=self.http_port,
                centres=centres,
            ),
            encoding="utf-8",
        )
        self.config = load_config(self.config_path)
        write_hub_broker(self.config, self.broker.port, ["127.0.0.1"], listen="127.0.0.1")
        self.broker.start((self.hub_dir / "mosquitto.conf").read_text())
        self.hub = HubProcess(self.config_path, tmp)
        self.centres = {s: Centre(s, tmp / s, self.hub_dir, self.broker.port) for s in sites}

    def converged(self, site: str) -> bool:
        centre = self.centres[site].events()
        return bool(centre) and hub_events(self.dsn, site) == centre

    def wait_converged(self, timeout: float = 90) -> None:
        for site in self.centres:
            wait_for(lambda s=site: self.converged(s), timeout, f"the hub holds every event of {site}")

    def site_row(self, site: str) -> tuple[int, int | None, int]:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT head_seq, broken_seq, held FROM hub_sites WHERE site = %s", (site,)
            ).fetchone()
        assert row is not None
        return int(row[0]), row[1], int(row[2])

    def close(self) -> None:
        """Stop everything even if one part fails to stop (a leaked broker would outlive the test)."""
        failures: list[BaseException] = []
        for stop in [self.hub.stop, *(c.stop for c in self.centres.values()), self.broker.stop]:
            try:
                stop()
            except (OSError, subprocess.SubprocessError, AssertionError) as err:
                failures.append(err)
        self._drop_schema()
        if failures:
            raise failures[0]

    def _drop_schema(self) -> None:
        with psycopg.connect(_plain(POSTGRES_DSN or ""), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def _plain(dsn: str) -> str:
    return dsn.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[HubRig]:
    assert POSTGRES_DSN
    sites = [f"c{random.randrange(10**6)}{x}" for x in "abc"]
    rig = HubRig(tmp_path, POSTGRES_DSN, sites)
    try:
        yield rig
    finally:
        rig.close()


def _check_chains(rig: HubRig) -> None:
    """Every centre verified to its end in the hub, nothing kept aside, nothing twice, no seq missing."""
    for site, centre in rig.centres.items():
        events = centre.events()
        head, broken, held = rig.site_row(site)
        assert (head, broken, held) == (len(events), None, 0), site
        assert [s for s, _ in hub_events(rig.dsn, site)] == list(range(1, len(events) + 1))


@needs_postgres
def test_three_centres_converge_through_cut_link_hub_restart_and_db_restore(
    rig: HubRig, tmp_path: Path
) -> None:
    a, b, c = rig.centres
    rig.hub.start()
    for centre in rig.centres.values():
        centre.start()
        centre.start_traffic()
    rig.wait_converged()

    # One centre's link goes down; it keeps issuing and calling; the others keep flowing.
    rig.centres[b].link.cut()
    cut_at = len(rig.centres[b].events())
    wait_for(lambda: len(rig.centres[b].events()) > cut_at + 40, 60, f"{b} works alone")
    assert rig.site_row(b)[0] <= cut_at + 5, "events crossed a cut link"
    a_before = rig.site_row(a)[0]
    wait_for(lambda: rig.site_row(a)[0] > a_before + 20, 30, f"{a} keeps reaching the hub")
    rig.centres[b].link.restore()
    rig.wait_converged()

    # A dump of the hub database, soon to be older than the last events.
    dump = tmp_path / "hub.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-n", rig.schema, "-f", str(dump), _plain(POSTGRES_DSN or "")],
        check=True,
        timeout=60,
    )

    # The hub is killed mid-traffic and comes back.
    rig.hub.kill()
    wait_for(
        lambda: len(rig.centres[c].events()) > rig.site_row(c)[0] + 20, 60, "traffic while the hub is down"
    )
    rig.hub.start()
    rig.wait_converged()

    # The hub database is restored from the older dump: backfill brings back what it lost.
    rig.hub.stop()
    lost = {s: len(rig.centres[s].events()) for s in rig.centres}
    with psycopg.connect(_plain(POSTGRES_DSN or ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{rig.schema}" CASCADE')
    subprocess.run(["pg_restore", "-d", _plain(POSTGRES_DSN or ""), str(dump)], check=True, timeout=60)
    assert all(rig.site_row(s)[0] < lost[s] for s in rig.centres), "the dump is not older than the events"
    rig.hub.start()
    rig.wait_converged()

    for centre in rig.centres.values():
        centre.end_traffic()
    rig.wait_converged()
    _check_chains(rig)


@needs_postgres
def test_an_event_altered_at_the_centre_is_flagged_and_kept_aside(rig: HubRig) -> None:
    a = next(iter(rig.centres))
    centre = rig.centres[a]
    rig.hub.start()
    centre.start()
    centre.start_traffic()
    wait_for(lambda: len(centre.events()) > 20, 60, "traffic")
    wait_for(lambda: rig.converged(a), 60, "the hub caught up")
    centre.stop_shipper()
    shipped = len(centre.events())
    wait_for(lambda: len(centre.events()) > shipped + 10, 60, "unshipped events")
    centre.end_traffic()
    target = shipped + 3
    with sqlite3.connect(centre.db) as conn:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        conn.execute("UPDATE events SET data = json_set(data, '$.counter', 9) WHERE seq = ?", (target,))
    centre.start_shipper()
    wait_for(lambda: rig.site_row(a)[1] == target, 60, "the hub flags the altered event")
    head, _broken, held = rig.site_row(a)
    assert head == target - 1 and held >= 1
    with psycopg.connect(rig.dsn) as conn:
        problem = conn.execute("SELECT problem FROM hub_sites WHERE site = %s", (a,)).fetchone()
        kept = conn.execute(
            "SELECT seq, event FROM hub_held WHERE site = %s AND seq = %s", (a, target)
        ).fetchall()
        distinct = conn.execute("SELECT count(*) FROM hub_held WHERE site = %s", (a,)).fetchone()
    assert distinct is not None and rig.site_row(a)[2] == distinct[0], (
        "the count kept aside is of distinct events"
    )
    assert problem is not None and f"event {target}: hash does not match its content" in problem[0]
    assert kept and json.loads(kept[0][1])["seq"] == target, "the altered event is kept aside"
    assert hub_events(rig.dsn, a)[-1][0] == target - 1, "nothing past the altered event was accepted"
    _screenshot_broken_centre(rig, a, target)


def _screenshot_broken_centre(rig: HubRig, site: str, target: int) -> None:
    """The centre's page says where and why its chain broke (``hub-broken.png``)."""
    if not os.path.exists(CHROMIUM):
        return
    from playwright.sync_api import expect, sync_playwright

    from hub.auth import Accounts
    from hub.store import HubStore

    Accounts(HubStore.open(rig.url.render_as_string(hide_password=False))).add(
        "auditor", "mật-khẩu-dài", "HN", "viewer"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 700})
            page.goto(f"http://127.0.0.1:{rig.http_port}/login")
            page.fill("input[name=username]", "auditor")
            page.fill("input[name=password]", "mật-khẩu-dài")
            page.click("button[type=submit]")
            expect(page.locator(f"tr[data-site={site}]")).to_contain_text(f"broken at event {target}")
            page.goto(f"http://127.0.0.1:{rig.http_port}/centre/{site}")
            expect(page.locator("#chain")).to_contain_text(f"event {target}: hash does not match its content")
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / "hub-broken.png"), full_page=True)
        finally:
            browser.close()


@needs_postgres
def test_hub_broker_keeps_each_centre_to_its_own_prefix(rig: HubRig) -> None:
    a, b, _ = rig.centres
    got: list[str] = []
    done = threading.Event()

    def connect(user: str, name: str) -> paho.Client:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{name}", protocol=paho.MQTTv311)
        client.username_pw_set(user, secret_for(rig.hub_dir, user))
        client.tls_set(ca_certs=str(rig.hub_dir / "ca.pem"))
        client.connect("127.0.0.1", rig.broker.port)
        client.loop_start()
        wait_for(client.is_connected, 10, f"{user}'s {name} connects")
        return client

    def subscribe(
        client: paho.Client, on_message: Callable[[paho.Client, Any, paho.MQTTMessage], None]
    ) -> None:
        """Subscribe and wait for the broker's SUBACK: only then is a message published elsewhere sure to
        reach this client (CONNACK alone says nothing about a SUBSCRIBE still in flight)."""
        granted = threading.Event()
        client.on_message = on_message
        client.on_subscribe = lambda *_args: granted.set()
        client.subscribe("motcua/v1/#", qos=1)
        assert granted.wait(10), "the broker did not acknowledge the subscription"

    def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        got.append(msg.topic)
        if msg.topic.endswith("/barrier"):
            done.set()

    spy = connect("hub", "spy")
    subscribe(spy, on_message)
    intruder = connect(centre_user(a), "intruder")
    heard: list[str] = []
    subscribe(intruder, lambda _c, _u, msg: heard.append(msg.topic))
    # Reads: of two backfill requests, in this order, the centre hears only its own.
    spy.publish(f"motcua/v1/{b}/hub/backfill", '{"from_seq": 1, "to_seq": 2}', qos=1).wait_for_publish(5)
    spy.publish(f"motcua/v1/{a}/hub/backfill", '{"from_seq": 1, "to_seq": 2}', qos=1).wait_for_publish(5)
    wait_for(lambda: f"motcua/v1/{a}/hub/backfill" in heard, 10, "the centre hears its own backfill")
    assert heard == [f"motcua/v1/{a}/hub/backfill"], heard
    # Writes: under another centre's prefix nothing arrives (Mosquitto also drops the connection).
    intruder.publish(f"motcua/v1/{b}/hub/events", '{"events": []}', qos=1).wait_for_publish(5)
    honest = connect(centre_user(a), "honest")
    honest.publish(f"motcua/v1/{a}/hub/barrier", "x", qos=1).wait_for_publish(5)
    assert done.wait(10), "the centre's own topic did not arrive"
    assert f"motcua/v1/{b}/hub/events" not in got, "a centre published under another centre's prefix"
    assert f"motcua/v1/{a}/hub/barrier" in got
    for client in (spy, intruder, honest):
        client.disconnect()
        client.loop_stop()
