"""Driving the real queue engine and dossier registry through days, writing every event to a real store,
and counting the events directly — the yardstick the reports are checked against."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any

from engine_support import TZ, Tokens, site_data

from bus import models as m
from queue_server.calendar import WorkingCalendar
from queue_server.db import Store
from queue_server.dossiers_registry import DossierRegistry
from queue_server.engine import Engine, Event, Refused
from queue_server.reports import Period
from queue_server.rules import RuleBook
from siteconf.model import Site, parse_site


def report_site(**queue: Any) -> Site:
    data = site_data(**queue)
    data["site"]["agency_code"] = "H21.65"
    data["kiosk"] = {
        "officers": [{"id": "cb-1", "name": "Nguyễn Thị Lan"}, {"id": "cb-2", "name": "Trần Văn Bình"}]
    }
    return parse_site(data)


@dataclass
class Centre:
    """A centre's engine, dossier registry and store, moved by commands at chosen times."""

    site: Site
    store: Store
    tokens: Tokens = field(default_factory=Tokens)

    def __post_init__(self) -> None:
        self.engine = Engine(RuleBook.from_site(self.site))
        self.dossiers = DossierRegistry(WorkingCalendar.from_site(self.site), self.site.site.agency_code)

    def run(self, command: Callable[[], list[Event]]) -> bool:
        """Decide, apply and commit one command; False when the rules refused it."""
        try:
            events = command()
        except Refused:
            return False
        with self.store.transaction() as tx:
            for event in events:
                tx.append(event.type, event.data, event.at)
                if event.type.startswith("dossier_"):
                    self.dossiers.apply(event)
                else:
                    self.engine.apply(event)
        return bool(events)

    def issue(self, service: str, at: datetime, priority: str | None = None) -> str | None:
        before = set(self.engine.tickets)
        self.run(lambda: self.engine.issue(service, at, self.tokens(), priority))
        new = set(self.engine.tickets) - before
        return new.pop() if new else None

    def register(self, at: datetime, days: int, counter: int, ticket: str | None) -> str | None:
        request = m.RegisterDossier(procedure="1.001", days=days, counter=counter, ticket=ticket)
        before = set(self.dossiers.dossiers)
        self.run(lambda: self.dossiers.register(request, at))
        new = set(self.dossiers.dossiers) - before
        return new.pop() if new else None

    def set_status(self, code: str, status: str, at: datetime) -> bool:
        request = m.UpdateDossier(code=code, status=m.DossierStatus(status))
        return self.run(lambda: self.dossiers.update(request, at))


def direct_counts(store: Store, period: Period, day_starts: time = time(0, 0)) -> dict[str, Any]:
    """Counts and sums straight from the stored events, with none of the report's code.

    As the reports define it (docs/reports.md), what happens to a period's tickets counts up to one day
    after the period's last business day: a ticket left open at a counter longer than that is not served.
    """
    until = period.bounds(TZ, day_starts)[1] + timedelta(days=1)
    events = [e for e in store.events() if e.type == "ticket_issued" or e.at < until]
    issued = {e.data["ticket_id"]: e.data for e in events if e.type == "ticket_issued"}
    mine = {t for t, d in issued.items() if period.contains(str(d["day"]))}
    by_type: dict[str, set[str]] = {}
    first_call: dict[str, datetime] = {}
    service_s: list[float] = []
    scores: Counter[tuple[int, int]] = Counter()
    for e in events:
        tid = e.data.get("ticket_id")
        if tid not in mine:
            continue
        by_type.setdefault(e.type, set()).add(str(tid))
        if e.type == "ticket_called" and tid not in first_call:
            first_call[str(tid)] = e.at
        elif e.type == "ticket_finished":
            service_s.append(float(e.data["service_s"]))
        elif e.type == "ticket_rated":
            scores[(int(e.data["scale"]), int(e.data["score"]))] += 1
    waits = [
        max(0.0, (at - datetime.fromisoformat(str(issued[t]["issued_at"]))).total_seconds())
        for t, at in first_call.items()
    ]
    received = [
        e.data
        for e in events
        if e.type == "dossier_received"
        and period.first
        <= datetime.fromisoformat(str(e.data["received_at"])).astimezone(TZ).date()
        <= period.last
    ]
    return {
        "issued": len(mine),
        "offline": sum(1 for t in mine if issued[t]["offline"]),
        "priority": sum(1 for t in mine if issued[t]["priority"] is not None),
        **{
            k: len(by_type.get(f"ticket_{k}", set()))
            for k in ("no_show", "cancelled", "transferred", "parked")
        },
        "served": len(by_type.get("ticket_finished", set())),
        "waits": waits,
        "service_s": service_s,
        "scores": scores,
        "received": len(received),
        "days": {str(issued[t]["day"]) for t in mine},
    }


def day_at(day: datetime, hh: int, mm: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm, second=0, microsecond=0, tzinfo=TZ)


def next_weekday(day: datetime) -> datetime:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def busy_week(centre: Centre, monday: datetime, days: int = 5) -> datetime:
    """A scripted week: two counters, tickets every few minutes, ratings, dossiers (some late)."""
    e = centre.engine
    day = monday
    at = day_at(day, 7, 30)
    for n in range(days):
        at = day_at(day, 7, 30)
        centre.run(partial(e.open_counter, 1, "cb-1", at))
        centre.run(partial(e.open_counter, 2, "cb-2", at))
        for i in range(12 + 3 * n):
            centre.issue("land" if i % 3 else "civil", at + timedelta(minutes=3 * i + 1))
        at += timedelta(minutes=5)
        for i in range(10 + 2 * n):
            counter = 1 + i % 2
            at += timedelta(minutes=4 + (i * 7) % 9)
            if not centre.run(partial(e.call_next, counter, at)):
                continue
            current = e.counters[counter].ticket_id
            if current is None:
                continue
            code = e.tickets[current].code
            if i % 4 == 0:
                done = at + timedelta(minutes=6)
                centre.run(partial(e.finish, counter, done))
                centre.run(partial(e.rate, current, 2 - (i % 3 == 2) * 2, 3, {}, done))
                dossier = centre.register(done, 1 + i % 3, counter, code)
                if dossier is not None and i % 8 == 0:
                    centre.set_status(dossier, "ready", done + timedelta(minutes=1))
        at += timedelta(minutes=10)
        for counter in (1, 2):
            centre.run(partial(e.finish, counter, at))
        centre.run(partial(e.pause_counter, 2, at))
        day = next_weekday(day)
    return at
