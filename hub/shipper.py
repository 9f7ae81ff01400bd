"""The centre side of the hub link: ships the centre's event log to its own broker, for the bridge.

``motcua hub ship --site FILE`` runs beside the queue server and never touches it: it reads the store
on its own connection (the ``events`` table: seq, at, type, data, request_id, prev_hash, hash, exactly
as stored), publishes new events QoS 1 on ``motcua/v1/{site}/hub/events`` to the centre's Mosquitto
and remembers the last event the broker acknowledged in a small state file. The bridge carries them to
the hub, queued on the centre broker while the link is down. A retained ``hub/head`` says what the
centre holds (a heartbeat too), so the hub sees a hole even when nothing new comes. On ``hub/backfill``
``{"from_seq", "to_seq"}`` it republishes that range from the database: a centre that was offline for
days, or that joins the hub after months, converges.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bus.client import BrokerUrl, BusClient, acknowledged
from hub import HubError
from hub import topics as ht
from queue_server import schema

log = logging.getLogger(__name__)

PAGE = 500
"""Events per message: one live event is usually alone; a backfill goes out in pages."""
MAX_BACKFILL = 100_000
_E = schema.events


class ShipperError(HubError):
    """The shipper cannot run as asked (unreadable database or state file)."""


class ShippedMark:
    """The last seq the centre broker acknowledged, kept in a JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seq = 0
        if path.exists():
            try:
                self.seq = int(json.loads(path.read_text(encoding="utf-8"))["shipped_seq"])
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise ShipperError(
                    f"shipper state {path} is unreadable ({err}); remove it to ship again"
                ) from err

    def save(self, seq: int) -> None:
        self.seq = seq
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"shipped_seq": seq}), encoding="utf-8")
        os.replace(tmp, self.path)


class Shipper:
    """Start with ``start()``; ``stop()`` leaves the mark at the last acknowledged event."""

    def __init__(
        self,
        site: str,
        database_url: str,
        broker: BrokerUrl,
        state_file: Path,
        *,
        heartbeat_s: float = 10.0,
        poll_s: float = 0.2,
    ) -> None:
        self.site = site
        self.mark = ShippedMark(state_file)
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self._engine = sa.create_engine(database_url)
        # The identity `motcua site credentials` makes for it: the ACL lets only it write hub/events.
        self._client = BusClient(broker, site, "hub-shipper")
        self._client.subscribe(ht.topic(site, ht.BACKFILL), self._on_backfill, None, dedupe=False)
        self._wake = threading.Event()
        self._client.on_every_connect(self._wake.set)
        self._requests: queue.Queue[tuple[int, int]] = queue.Queue()
        self._stop = threading.Event()
        self._last_head: tuple[int, float] = (-1, 0.0)
        self._thread = threading.Thread(target=self._run, name="hub-shipper", daemon=True)

    def start(self, wait: float | None = 10.0) -> Shipper:
        self._client.start(wait=wait)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(30)
        self._client.stop()
        self._engine.dispose()

    def _on_backfill(self, _topic: str, payload: Any) -> None:
        try:
            body = json.loads(payload)
            first, last = int(body["from_seq"]), int(body["to_seq"])
        except (ValueError, KeyError, TypeError):
            log.warning("centre %s: bad backfill request ignored: %.80r", self.site, payload)
            return
        if first < 1 or last < first:
            log.warning("centre %s: backfill %d–%d is not a range; ignored", self.site, first, last)
            return
        self._requests.put((first, min(last, first + MAX_BACKFILL - 1)))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._serve_backfills()
                self._ship_new()
                self._announce_head()
            except (sa.exc.SQLAlchemyError, HubError) as err:
                reason = str(getattr(err, "orig", None) or err).splitlines()[0]
                log.warning("centre %s: shipping failed (%s); trying again", self.site, reason)
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _read(self, after: int, last: int | None = None, limit: int = PAGE) -> list[dict[str, Any]]:
        query = sa.select(_E).where(_E.c.seq > after).order_by(_E.c.seq).limit(limit)
        if last is not None:
            query = query.where(_E.c.seq <= last)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def _publish(self, rows: list[dict[str, Any]]) -> bool:
        """Publish one page; true once the centre broker has acknowledged it."""
        payload = json.dumps({"events": rows}, ensure_ascii=False, separators=(",", ":"))
        info = self._client.publish(ht.topic(self.site, ht.EVENTS), payload)
        try:
            info.wait_for_publish(timeout=5.0)
        except (RuntimeError, ValueError):
            return False
        return acknowledged(info)

    def _ship_new(self) -> None:
        while not self._stop.is_set():
            rows = self._read(self.mark.seq)
            if not rows or not self._publish(rows):
                return
            self.mark.save(int(rows[-1]["seq"]))

    def _serve_backfills(self) -> None:
        while True:
            try:
                first, last = self._requests.get_nowait()
            except queue.Empty:
                return
            log.info("centre %s: resending events %d–%d for the hub", self.site, first, last)
            after = first - 1
            while after < last and not self._stop.is_set():
                rows = self._read(after, last)
                if not rows or not self._publish(rows):
                    break
                after = int(rows[-1]["seq"])

    def _announce_head(self) -> None:
        seq, when = self._last_head
        now = time.monotonic()
        if seq == self.mark.seq and now - when < self.heartbeat_s:
            return
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(_E.c.seq, _E.c.hash, _E.c.at).where(_E.c.seq == self.mark.seq)
            ).first()
        head = {
            "seq": self.mark.seq,
            "hash": row.hash if row else None,
            "at": row.at if row else None,
            "ts": datetime.now(UTC).isoformat(),
        }
        info = self._client.publish(ht.topic(self.site, ht.HEAD), json.dumps(head), retain=True)
        if info.rc == 0:
            self._last_head = (self.mark.seq, now)
