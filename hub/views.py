"""What the province dashboard shows, read from the hub database (one query per kind of fact).

Per centre: the link (the bridge's own up/down notice, when the hub last heard from it, how many
events it is behind), the chain (verified, or broken at which event and why), devices with alerts,
people waiting and the longest wait now, counters open, today's tickets and ratings. Figures come from
the events the hub verified; device and counter state from the retained messages the bridge carries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hub.store import HubStore
from queue_server.device_texts import HEALTH_VI, PAPER_VI, short_vi
from siteconf.clock import business_day as shifted_day

_STALE_S = 60.0


@dataclass
class Device:
    id: str
    kind: str = "?"
    model: str = ""
    online: bool | None = None
    health: str | None = None
    paper: str | None = None
    alerts: list[str] = field(default_factory=list)


@dataclass
class CentreView:
    site: str
    name: str
    link: str
    last_heard_s: float | None
    behind: int
    head_seq: int
    chain_problem: str | None
    held: int
    server_online: bool | None = None
    devices: list[Device] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)
    queues: list[dict[str, Any]] = field(default_factory=list)
    tickets_today: int = 0
    served_today: int = 0
    waiting: int = 0
    longest_wait_min: int | None = None
    ratings: int = 0
    satisfaction_pct: int | None = None

    @property
    def counters_open(self) -> int:
        return sum(1 for c in self.counters if c.get("status") == "open")

    @property
    def alerts(self) -> list[str]:
        out = [f"{d.id}: {a}" for d in self.devices for a in d.alerts]
        if self.server_online is False:
            out.insert(0, "queue server offline")
        return out

    @property
    def link_state(self) -> str:
        """``up``, ``late`` (connected but silent), ``down`` or ``unknown``."""
        if self.link == "up" and self.last_heard_s is not None and self.last_heard_s > _STALE_S:
            return "late"
        return self.link


@dataclass(frozen=True)
class DayRule:
    """Where a centre's business day begins: the time zone and ``[queue] day_starts`` of its site
    file. The centre files each ticket under that day, so "today's tickets" must count the same way:
    at 01:30 a centre opening days at 03:00 is still in yesterday's."""

    tz: ZoneInfo
    day_starts: time = time(0, 0)

    def today(self, now: datetime | None = None) -> str:
        local = (now or datetime.now(UTC)).astimezone(self.tz)
        return shifted_day(local, self.day_starts).isoformat()


def _centres(conn: Any, site: str | None) -> dict[str, CentreView]:
    query = (
        "SELECT site, name, link, EXTRACT(EPOCH FROM now() - last_heard), GREATEST(centre_seq - head_seq, 0),"
        " head_seq, problem, held FROM hub_sites"
    )
    rows = conn.execute(
        query + (" WHERE site = %s" if site else "") + " ORDER BY name", (site,) if site else ()
    ).fetchall()
    return {
        r[0]: CentreView(
            r[0], r[1], r[2], None if r[3] is None else float(r[3]), int(r[4]), int(r[5]), r[6], r[7]
        )
        for r in rows
    }


def _tickets(conn: Any, centres: dict[str, CentreView], days: dict[str, str], site: str | None) -> None:
    """Today's figures of each centre, ``days`` giving each centre's own business day."""
    query = (
        "SELECT site, day, count(*), count(*) FILTER (WHERE status = 'done'),"
        " count(*) FILTER (WHERE status = 'waiting'),"
        " EXTRACT(EPOCH FROM now() - min(issued_at) FILTER (WHERE status = 'waiting')), count(score),"
        " avg(score::float / NULLIF(scale - 1, 0)) FROM hub_tickets WHERE day = ANY(%s)"
    )
    params: tuple[Any, ...] = (sorted(set(days.values())),)
    if site:
        query, params = query + " AND site = %s", (*params, site)
    for s, day, tickets, served, waiting, oldest_s, ratings, satisfaction in conn.execute(
        query + " GROUP BY site, day", params
    ).fetchall():
        c = centres.get(s)
        if c is None or days.get(s) != day:
            continue
        c.tickets_today, c.served_today, c.waiting = int(tickets), int(served), int(waiting)
        c.longest_wait_min = None if oldest_s is None else max(0, int(float(oldest_s) // 60))
        c.ratings = int(ratings)
        c.satisfaction_pct = None if satisfaction is None else round(float(satisfaction) * 100)


def _device(devices: dict[str, Device], device_id: str) -> Device:
    return devices.setdefault(device_id, Device(device_id))


def _apply_state(c: CentreView, leaf: str, payload: str, devices: dict[str, Device]) -> None:
    parts = leaf.split("/")
    if leaf == "server/availability":
        c.server_online = payload == "online"
        return
    if parts[0] == "device" and len(parts) == 3:
        d = _device(devices, parts[1])
        if parts[2] == "availability":
            d.online = payload == "online"
            return
        body = _json(payload)
        if parts[2] == "info":
            d.kind, d.model = str(body.get("device_kind", "?")), str(body.get("model", ""))
        elif parts[2] == "status":
            d.health, d.paper = body.get("health"), body.get("paper")
            d.alerts += [short_vi(e) for e in body.get("errors", []) if isinstance(e, str)]
            if body.get("cover_open"):
                d.alerts.append(short_vi("cover_open"))
        return
    body = _json(payload)
    if parts[0] == "counter":
        c.counters.append(body)
    elif parts[0] == "queue":
        c.queues.append(body)


def _json(payload: str) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _finish_devices(c: CentreView, devices: dict[str, Device]) -> None:
    for d in sorted(devices.values(), key=lambda d: d.id):
        # The same words as the centre's own dashboard (queue_server.device_texts), each said once.
        if d.online is False:
            d.alerts.insert(0, short_vi("offline"))
        if d.health in ("warning", "error"):
            d.alerts.append(HEALTH_VI[str(d.health)])
        if d.paper in ("near_end", "out"):
            d.alerts.append(PAPER_VI[str(d.paper)])
        d.alerts = list(dict.fromkeys(d.alerts))
        c.devices.append(d)
    c.counters.sort(key=lambda x: int(x.get("counter", 0)))
    c.queues.sort(key=lambda x: str(x.get("service", "")))


def _state(conn: Any, centres: dict[str, CentreView], site: str | None) -> None:
    query = "SELECT site, leaf, payload FROM hub_state" + (" WHERE site = %s" if site else "")
    devices: dict[str, dict[str, Device]] = {s: {} for s in centres}
    for s, leaf, payload in conn.execute(query, (site,) if site else ()).fetchall():
        if s in centres:
            _apply_state(centres[s], leaf, payload, devices[s])
    for s, c in centres.items():
        _finish_devices(c, devices[s])


def overview(
    store: HubStore,
    rules: dict[str, DayRule],
    default: DayRule,
    site: str | None = None,
    now: datetime | None = None,
) -> list[CentreView]:
    """Every centre (or one) as the dashboard shows it now; ``rules`` gives each centre's business
    day (``default`` for a centre without a site file at the hub)."""
    with store.connect() as conn:
        centres = _centres(conn, site)
        days = {s: rules.get(s, default).today(now) for s in centres}
        _tickets(conn, centres, days, site)
        _state(conn, centres, site)
    return list(centres.values())


def held_events(store: HubStore, site: str, limit: int = 20) -> list[tuple[int, str, datetime]]:
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT seq, problem, received_at FROM hub_held WHERE site = %s ORDER BY seq LIMIT %s",
            (site, limit),
        ).fetchall()
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]


def totals(centres: list[CentreView]) -> dict[str, Any]:
    """Province totals for the head of the page."""
    rated = [c for c in centres if c.satisfaction_pct is not None]
    return {
        "centres": len(centres),
        "links_up": sum(1 for c in centres if c.link_state == "up"),
        "alerts": sum(len(c.alerts) for c in centres),
        "broken": sum(1 for c in centres if c.chain_problem),
        "waiting": sum(c.waiting for c in centres),
        "tickets": sum(c.tickets_today for c in centres),
        "counters_open": sum(c.counters_open for c in centres),
        "satisfaction_pct": round(sum(c.satisfaction_pct or 0 for c in rated) / len(rated))
        if rated
        else None,
    }
