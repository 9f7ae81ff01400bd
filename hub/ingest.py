"""The hub's ingest: centres' events and state from the hub broker into PostgreSQL, gaps backfilled.

One MQTT connection (persistent session, so the hub broker queues while the hub is down) feeds
one worker thread. The worker takes what has arrived (up to ``ingest.batch`` messages), follows each
centre's chain (``hub.follow``), writes the accepted events, the events kept aside, the ticket rows and
the link state in one transaction, and only then acknowledges the messages (paho's manual ack): a hub
killed mid-batch gets them again. After each batch it asks every centre whose chain has a hole for the
missing range (``hub/backfill``), again if the hole is still there ``backfill_after_s`` later.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from hub import HubError
from hub import topics as ht
from hub.config import HubConfig
from hub.follow import ChainFollower, EventFormatError, ShippedEvent
from hub.store import HubStore, WriteBatch
from hub.tickets import TicketFold

log = logging.getLogger(__name__)

BACKFILL_LIMIT = 20_000
"""Events asked for at once; the next range is asked as soon as this one is in."""


@dataclass
class _Asked:
    first: int
    last: int
    at: float
    head: int


@dataclass
class _Sorted:
    """One batch of messages sorted by what they carry."""

    events: dict[str, list[ShippedEvent]] = field(default_factory=dict)
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


class Ingest:
    """Start with ``start()``; ``stats`` counts what happened (for logs, tests and the bench)."""

    def __init__(self, config: HubConfig, store: HubStore, client_id: str = "hub") -> None:
        self.config = config
        self.store = store
        self.client_id = client_id
        self.followers: dict[str, ChainFollower] = {}
        self.stats = {"events": 0, "duplicates": 0, "held": 0, "rejected": 0, "backfills": 0}
        self.connected = threading.Event()
        self._inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self._asked: dict[str, _Asked] = {}
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._thread = threading.Thread(target=self._run, name="hub-ingest", daemon=True)
        self._mqtt = self._make_client()
        self.idle = threading.Event()

    # --- life cycle -------------------------------------------------------------------------------

    def start(self, wait: float = 15.0) -> Ingest:
        self.store.register((c.site, c.name) for c in self.config.centres)
        self._conn = psycopg.connect(self.store._info, autocommit=False)
        if not self.store.lock_ingest(self._conn):
            self._conn.close()
            raise HubError(f"another hub ingest is running on {self.store.url}; stop it first")
        self._conn.commit()
        for head in self.store.heads().values():
            self.followers[head.site] = ChainFollower(head.site, head.seq, head.hash, head.broken)
        self._thread.start()
        broker = self.config.broker
        self._mqtt.connect_async(broker.host, broker.port, keepalive=30)
        self._mqtt.loop_start()
        if not self.connected.wait(wait):
            self.stop()
            raise HubError(
                f"the hub broker {broker.host}:{broker.port} did not accept the hub within {wait:.0f} s"
            )
        return self

    def stop(self) -> None:
        self._stop.set()
        self._mqtt.disconnect()
        self._mqtt.loop_stop()
        if self._thread.is_alive():
            self._thread.join(30)
        if self._conn is not None:
            self._conn.close()

    def _make_client(self) -> paho.Client:
        # MQTT 3.1.1 with a persistent session: the hub broker queues while the hub is down, and paho
        # decodes no v5 properties per message (a measurable share of the ingest's time).
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        broker = self.config.broker
        client.username_pw_set(broker.username, broker.password())
        if broker.ca_file is not None:
            client.tls_set(ca_certs=str(broker.ca_file))
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = lambda *_: self.connected.clear()
        client.on_message = lambda _c, _u, msg: self._inbox.put(msg)
        return client

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("hub broker refused the hub: %s", reason)
            return
        leaves = [ht.EVENTS, ht.HEAD, ht.LINK, *ht.STATE_TOPICS]
        client.subscribe([(f"motcua/v1/+/{leaf}", 1) for leaf in leaves])
        log.info("hub ingest connected to the hub broker")

    def _on_subscribe(self, _c: paho.Client, _u: Any, _mid: int, _codes: Any, _p: Any) -> None:
        self.connected.set()  # subscribed: from now on nothing addressed to the hub passes it by

    # --- the worker -------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take()
            if batch:
                try:
                    self._ingest(batch)
                except (HubError, psycopg.Error) as err:
                    # The batch is dropped, not lost: the centres hold every event, and the chain shows
                    # the hole, which the next backfill fills. Acknowledging keeps the broker's window open.
                    log.error(
                        "hub ingest: a batch of %d messages failed (%s); backfill will bring it",
                        len(batch),
                        err,
                    )
                    self._recover()
                for msg in batch:
                    self._mqtt.ack(msg.mid, msg.qos)
            self._ask_backfills()
            self.idle.set() if self._inbox.empty() else self.idle.clear()

    def _take(self) -> list[paho.MQTTMessage]:
        try:
            first = self._inbox.get(timeout=0.5)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.config.ingest.batch:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _recover(self) -> None:
        """After a failed batch: wait for the database, then reload heads from it (the truth)."""
        if self._conn is not None:
            self._conn.close()
        while not self._stop.wait(1.0):
            try:
                self._conn = psycopg.connect(self.store._info, autocommit=False)
                self.store.lock_ingest(self._conn)
                self._conn.commit()
                heads = self.store.heads()
            except (HubError, psycopg.Error) as err:
                log.warning("hub ingest: the database is still unavailable (%s)", err)
                continue
            for head in heads.values():
                self.followers[head.site] = ChainFollower(head.site, head.seq, head.hash, head.broken)
            self._asked.clear()
            return

    def _ingest(self, messages: list[paho.MQTTMessage]) -> None:
        sorted_ = self._sort(messages)
        conn = self._conn
        assert conn is not None
        batch = WriteBatch([], [], TicketFold(), {})
        for site, events in sorted_.events.items():
            self._offer(conn, site, events, batch)
        with conn.transaction():
            self.store.write(conn, batch)
            self._write_meta(conn, sorted_)
        conn.commit()
        self.stats["events"] += len(batch.events)
        self.stats["held"] += len(batch.held)

    def _offer(
        self, conn: psycopg.Connection[Any], site: str, events: list[ShippedEvent], batch: WriteBatch
    ) -> None:
        follower = self._follower(site)
        before = (follower.head_seq, follower.head_hash, follower.broken)
        offered = follower.offer(events)
        batch.events.extend((site, e) for e in offered.accepted)
        batch.held.extend((site, e, p) for e, p in offered.held)
        if offered.duplicates:
            self.stats["duplicates"] += len(offered.duplicates)
            stored = self.store.stored_hashes(conn, site, [e.seq for e in offered.duplicates])
            for e in offered.duplicates:
                if stored.get(e.seq, e.hash) != e.hash:
                    problem = f"event {e.seq}: differs from the copy the hub verified earlier (altered)"
                    batch.held.append((site, e, problem))
                    log.warning("centre %s: %s", site, problem)
        if offered.held:
            log.warning("centre %s: %d event(s) kept aside: %s", site, len(offered.held), offered.held[0][1])
        batch.tickets.add(site, offered.accepted)
        after = (follower.head_seq, follower.head_hash, follower.broken)
        if after != before or offered.held:
            batch.heads[site] = after

    def _follower(self, site: str) -> ChainFollower:
        if site not in self.followers:
            self.followers[site] = ChainFollower(site)
        return self.followers[site]

    def _sort(self, messages: list[paho.MQTTMessage]) -> _Sorted:
        out = _Sorted()
        for msg in messages:
            where = ht.split(msg.topic)
            if where is None or self.config.centre(where[0]) is None:
                self.stats["rejected"] += 1
                log.warning("hub: message on %s is not from a configured centre; ignored", msg.topic)
                continue
            site, leaf = where
            try:
                self._sort_one(out, site, leaf, bytes(msg.payload))
            except (ValueError, EventFormatError) as err:
                self.stats["rejected"] += 1
                log.warning("centre %s: bad %s message ignored: %s", site, leaf, err)
        return out

    def _sort_one(self, out: _Sorted, site: str, leaf: str, payload: bytes) -> None:
        if leaf == ht.EVENTS:
            body = json.loads(payload.decode("utf-8"))
            if not isinstance(body, dict) or not isinstance(body.get("events"), list):
                raise EventFormatError('expected {"events": [...]}')
            out.events.setdefault(site, []).extend(ShippedEvent.from_json(e) for e in body["events"])
        elif leaf == ht.HEAD:
            head = json.loads(payload.decode("utf-8"))
            if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
                raise ValueError('expected {"seq": N, ...}')
            out.heads[site] = head
            self._follower(site).note_centre_head(head["seq"])
        elif leaf == ht.LINK:
            out.links[site] = "up" if payload.strip() == b"1" else "down"
        else:
            out.state[(site, leaf)] = payload.decode("utf-8")

    def _write_meta(self, conn: psycopg.Connection[Any], s: _Sorted) -> None:
        with conn.cursor() as cur:
            if s.state:
                cur.executemany(
                    "INSERT INTO hub_state (site, leaf, payload) VALUES (%s, %s, %s) "
                    "ON CONFLICT (site, leaf) DO UPDATE SET payload = EXCLUDED.payload, updated_at = now()",
                    [(site, leaf, p) for (site, leaf), p in s.state.items() if p],
                )
                gone = [(site, leaf) for (site, leaf), p in s.state.items() if not p]
                cur.executemany("DELETE FROM hub_state WHERE site = %s AND leaf = %s", gone)
            cur.executemany(
                "UPDATE hub_sites SET centre_seq = GREATEST(centre_seq, %s), centre_ts = %s, "
                "last_heard = now() WHERE site = %s",
                [(int(h["seq"]), _text(h.get("ts")), site) for site, h in s.heads.items()],
            )
            cur.executemany(
                "UPDATE hub_sites SET link = %s, last_heard = now() WHERE site = %s",
                [(state, site) for site, state in s.links.items()],
            )

    # --- backfill ---------------------------------------------------------------------------------

    def _ask_backfills(self) -> None:
        """Ask for each hole once, again when it is filled (the next range) or stalls ``wait`` seconds."""
        now = time.monotonic()
        for site, follower in self.followers.items():
            wanted = follower.missing(BACKFILL_LIMIT)
            asked = self._asked.get(site)
            if wanted is None:
                self._asked.pop(site, None)
                continue
            if asked is not None and follower.head_seq < asked.last:
                if follower.head_seq > asked.head:  # streaming in: progress, not a stall
                    asked.head, asked.at = follower.head_seq, now
                    continue
                wait = self.config.ingest.backfill_after_s * (6 if follower.broken else 1)
                if now - asked.at < wait:
                    continue
            self._request(site, *wanted)
            self._asked[site] = _Asked(wanted[0], wanted[1], now, follower.head_seq)

    def _request(self, site: str, first: int, last: int) -> None:
        payload = json.dumps({"from_seq": first, "to_seq": last})
        self._mqtt.publish(ht.topic(site, ht.BACKFILL), payload, qos=1)
        self.stats["backfills"] += 1
        log.info("centre %s: asked for events %d–%d", site, first, last)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
