"""The hub ingest against a real Mosquitto and PostgreSQL, with a test playing the centre's part.

Hostile and malformed messages are refused with a warning and stop nothing; events arriving out of
order wait for the hole, which the hub asks the centre to resend; resent events are stored once; a
second ingest on the same database is refused; a stopped hub gets what was published meanwhile.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
import pytest
import sqlalchemy as sa
from broker_support import as_identity
from hub_rig import Mosquitto, wait_for
from paho.mqtt.enums import CallbackAPIVersion
from test_hub_follow import chain

from bus.client import BrokerUrl
from hub import HubError
from hub.bridge import centre_user, secret_for, write_hub_broker
from hub.config import HubConfig, parse_config
from hub.follow import ShippedEvent
from hub.ingest import Ingest
from hub.store import HubStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not os.environ.get("MOTCUA_TEST_POSTGRES"), reason="MOTCUA_TEST_POSTGRES is not set"),
]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[HubConfig, HubStore, str]]:
    """The hub's database schema and the hub broker as ``motcua hub broker-conf`` makes it (its users
    ``hub`` and ``centre-{site}``, its ACL; plain TCP on loopback), on a free port."""
    base = os.environ["MOTCUA_TEST_POSTGRES"]
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    schema = f"hub_ingest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    broker_dir = tmp_path / "hub-broker"
    broker = Mosquitto(broker_dir, "hub-broker")
    config = parse_config(
        f'[hub]\nprovince = "HN"\nname = "Hà Nội"\n'
        f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\nusername = "hub"\n'
        f'password_file = "{broker_dir / "secrets" / "hub"}"\ndir = "{broker_dir}"\n'
        f'[database]\nurl = "{url_text}"\n[ingest]\nbackfill_after_s = 1.0\n'
        '[[centres]]\nsite = "ha"\nname = "A"\n[[centres]]\nsite = "hb"\nname = "B"\n',
        Path("hub.toml"),
    )
    write_hub_broker(config, broker.port, ["127.0.0.1"], tls=False, listen="127.0.0.1")
    broker.start((broker_dir / "mosquitto.conf").read_text(encoding="utf-8"))
    store = HubStore.open(url_text)
    store.create()
    try:
        yield config, store, url_text.replace("postgresql+psycopg://", "postgresql://")
    finally:
        broker.stop()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


class CentreSide:
    """Publishes as a centre would and answers the hub's backfill requests from its 'database'."""

    def __init__(self, config: HubConfig, site: str, events: list[ShippedEvent]) -> None:
        self.site, self.events = site, events
        self.requests: list[tuple[int, int]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"centre-{uuid.uuid4().hex[:6]}")
        user = centre_user(site)  # the user its bridge logs in as
        self.client.username_pw_set(user, secret_for(config.broker.dir, user))
        self.client.on_message = self._on_backfill
        self.client.connect(config.broker.host, config.broker.port)
        self.client.subscribe(f"motcua/v1/{site}/hub/backfill", qos=1)
        self.client.loop_start()

    def _on_backfill(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        self.requests.append((body["from_seq"], body["to_seq"]))
        wanted = [e for e in self.events if body["from_seq"] <= e.seq <= body["to_seq"]]
        payload = json.dumps({"events": [e.to_json() for e in wanted]})
        self.client.publish(
            f"motcua/v1/{self.site}/hub/events", payload, qos=1
        )  # no waiting in paho's thread

    def send(self, events: list[ShippedEvent], leaf: str = "hub/events") -> None:
        payload = json.dumps({"events": [e.to_json() for e in events]})
        self.raw(payload, leaf)

    def raw(self, payload: str | bytes, leaf: str = "hub/events", site: str | None = None) -> None:
        topic = f"motcua/v1/{site or self.site}/{leaf}"
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def heads(store: HubStore) -> dict[str, int]:
    return {site: head.seq for site, head in store.heads().items()}


def test_bad_input_is_refused_and_holes_are_backfilled(
    hub: tuple[HubConfig, HubStore, str], caplog: pytest.LogCaptureFixture
) -> None:
    config, store, dsn = hub
    events = chain(30)
    centre = CentreSide(config, "ha", events)
    ingest = Ingest(config, store, client_id=f"hub-{uuid.uuid4().hex[:6]}").start()
    try:
        for junk in (b"\xff\xfe not json", b"[]", b'{"events": 5}', b'{"events": [{"seq": 1}]}',
                     json.dumps({"events": [{**events[0].to_json(), "seq": -1}]})):  # fmt: skip
            centre.raw(junk)
        # A centre cannot publish under another's prefix: the hub broker's ACL (hub/bridge.py) refuses
        # it and drops the connection, so the ingest's own "not from a configured centre" check is
        # only a second line here.
        centre.raw(b"not json", leaf="hub/head")
        centre.send(events[:5])
        wait_for(lambda: heads(store).get("ha") == 5, 30, "the first events")
        centre.send(events[20:])  # a hole: 6-20 are asked for, then arrive from the "database"
        centre.send(events[2:7])  # partly resent: stored once
        wait_for(lambda: heads(store).get("ha") == 30, 30, "the hub has the whole chain")
        # The hole is asked for from just after what the hub held (5, or 7 if the resend came first).
        assert centre.requests and centre.requests[0] in ((6, 20), (8, 20)), centre.requests
        with psycopg.connect(dsn) as conn:
            seqs = [r[0] for r in conn.execute("SELECT seq FROM hub_events WHERE site = 'ha' ORDER BY seq")]
            strangers = conn.execute("SELECT count(*) FROM hub_events WHERE site = 'stranger'").fetchone()
        assert seqs == list(range(1, 31)) and strangers == (0,)
        assert ingest.stats["rejected"] >= 6 and ingest.stats["duplicates"] >= 3
        text = caplog.text
        assert "centre ha: bad hub/events message ignored: 'utf-8' codec can't decode" in text
        assert "seq must be a whole number >= 1" in text and "hub/head" in text
        with pytest.raises(HubError, match="another hub ingest is running"):
            Ingest(config, store, client_id="hub-second").start()
    finally:
        ingest.stop()
        centre.close()


def test_a_stopped_hub_gets_what_came_meanwhile_from_its_session(
    hub: tuple[HubConfig, HubStore, str],
) -> None:
    config, store, _dsn = hub
    events = chain(12)
    centre = CentreSide(config, "hb", [])  # answers no backfill: only the broker's session can help
    client_id = f"hub-{uuid.uuid4().hex[:6]}"
    ingest = Ingest(config, store, client_id=client_id).start()
    try:
        centre.send(events[:4])
        wait_for(lambda: heads(store).get("hb") == 4, 20, "the first events")
        ingest.stop()
        for e in events[4:]:
            centre.send([e])
        ingest = Ingest(config, store, client_id=client_id).start()
        wait_for(lambda: heads(store).get("hb") == 12, 20, "what was queued while the hub was down")
        assert centre.requests == [], "the session alone should have carried the events"
    finally:
        ingest.stop()
        centre.close()


def test_a_head_beyond_what_the_hub_holds_brings_the_tail(
    hub: tuple[HubConfig, HubStore, str],
) -> None:
    config, store, _dsn = hub
    events = chain(9)
    centre = CentreSide(config, "ha", events)
    ingest = Ingest(config, store, client_id=f"hub-{uuid.uuid4().hex[:6]}").start()
    try:
        centre.send(events[:3])
        head = {"seq": 9, "hash": events[-1].hash, "at": events[-1].at, "ts": "2026-12-04T08:00:00+07:00"}
        centre.raw(json.dumps(head), leaf="hub/head")
        wait_for(lambda: heads(store).get("ha") == 9, 20, "the tail the centre announced")
        assert centre.requests[0] == (4, 9)
    finally:
        ingest.stop()
        centre.close()


def test_shipper_ships_remembers_and_answers_backfill(mosquitto: BrokerUrl, tmp_path: Path) -> None:
    """The real shipper on a real store: ships everything once, resumes from its mark, resends ranges."""
    from hub.shipper import Shipper
    from queue_server.db import Store

    site = f"ship{uuid.uuid4().hex[:6]}"
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    store = Store.open(url)
    with store.transaction() as tx:
        for n in range(1, 8):
            tx.append("ticket_issued", {"ticket_id": f"d/A/{n}", "number": n}, datetime.now(UTC))
    got: list[int] = []
    heads_seen: list[int] = []
    spy = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"spy-{site}")
    server_login = as_identity(mosquitto, "queue-server")  # the centre's side of the hub topics
    spy.username_pw_set(server_login.username, server_login.password)
    spy.on_message = lambda _c, _u, msg: (
        heads_seen.append(json.loads(msg.payload)["seq"])
        if msg.topic.endswith("/head")
        else got.extend(e["seq"] for e in json.loads(msg.payload)["events"])
    )
    spy.connect(mosquitto.host, mosquitto.port)
    spy.subscribe([(f"motcua/v1/{site}/hub/events", 1), (f"motcua/v1/{site}/hub/head", 1)])
    spy.loop_start()
    mark = tmp_path / "shipped.json"
    shipper = Shipper(site, url, mosquitto, mark, heartbeat_s=0.2).start()
    try:
        wait_for(lambda: got == list(range(1, 8)) and 7 in heads_seen, 20, "the first shipment")
        backfill = f"motcua/v1/{site}/hub/backfill"
        for junk in (
            b"nonsense",
            b'{"from_seq": 5}',
            b'{"from_seq": 4, "to_seq": 2}',
            b'{"from_seq": 0, "to_seq": 2}',
        ):
            spy.publish(backfill, junk, qos=1)
        spy.publish(backfill, json.dumps({"from_seq": 2, "to_seq": 3}), qos=1)
        wait_for(lambda: got[7:] == [2, 3], 20, "the resent range, and nothing for the bad requests")
    finally:
        shipper.stop()
    assert json.loads(mark.read_text()) == {"shipped_seq": 7}
    with store.transaction() as tx:
        tx.append("ticket_called", {"ticket_id": "d/A/1", "counter": 1}, datetime.now(UTC))
    shipper = Shipper(site, url, mosquitto, mark, heartbeat_s=0.2).start()
    try:
        wait_for(lambda: got[-1] == 8, 20, "the new event after a restart")
        assert got.count(1) == 1, "a restarted shipper shipped again what its mark says it shipped"
    finally:
        shipper.stop()
        spy.disconnect()
        spy.loop_stop()
        store.close()
