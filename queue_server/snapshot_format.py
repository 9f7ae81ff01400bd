"""The snapshot format: the engine's, the lookups' and the dossiers' state as versioned JSON (pure, no I/O).

A snapshot is one JSON object::

    {"format": 1, "seq": 812345, "hash": "9f…", "day": "2027-03-02",
     "engine": {...}, "lookups": {...}, "dossiers": {...}}

``seq`` and ``hash`` name the last event the state covers; ``day`` is the business day it was taken on.
``engine`` holds every field of ``EngineState`` — tickets, counters and ratings as the store's rows
(``engine_model.ticket_row`` …) and the private tables as lists in their insertion order, so that a
loaded engine iterates exactly like the one that was dumped. ``dump`` then ``load`` gives an engine
whose ``dump`` is equal, and whose next decisions are the same as the original's.

A change to what the state holds bumps ``FORMAT``; a snapshot of another format is not loaded (the
server falls back to an older one or to the event log), never misread.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from bus import models as m
from queue_server.dossiers_registry import Dossier, DossierRegistry
from queue_server.engine import Engine
from queue_server.engine_model import (
    Block,
    CounterStatus,
    Rating,
    Ticket,
    TicketStatus,
    counter_row,
    rating_row,
    ticket_row,
)
from queue_server.errors import QueueServerError
from queue_server.events import JSON

FORMAT = 2  # 2: offline_floor (blocks taken from the top of a series)


class SnapshotFormatError(QueueServerError):
    """A snapshot that cannot be read into state (another format, a missing or mistyped field)."""


def _time(text: JSON) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


def ticket_from_row(row: dict[str, JSON]) -> Ticket:
    """The ticket a ``ticket_row`` was made from."""
    d = row["data"]
    issued = _time(row["issued_at"])
    assert issued is not None
    return Ticket(
        id=row["id"], day=row["business_day"], service=row["service"], series=row["series"],
        number=row["number"], code=row["code"], token=row["token"], priority=row["priority"],
        rules_version=row["rules_version"], issued_at=issued, estimate_s=row["estimate_s"],
        order=d["order"], device=d["device"], offline=d["offline"], status=TicketStatus(row["status"]),
        counter=row["counter"], officer=row["officer"], target_counter=d["target_counter"],
        called_at=_time(row["called_at"]), first_called_at=_time(d["first_called_at"]),
        finished_at=_time(row["finished_at"]), no_show_at=_time(d["no_show_at"]),
        waited_s=row["waited_s"], service_s=d["service_s"], recalls=row["recalls"], calls=d["calls"],
        transfers=d["transfers"], parked_by=d["parked_by"],
    )  # fmt: skip


def dump_engine(e: Engine) -> dict[str, JSON]:
    """Every field of the engine's state, in iteration order."""
    return {
        "tickets": [ticket_row(t) for t in e.tickets.values()],
        "counters": [counter_row(c) for c in e.counters.values()],
        "ratings": [rating_row(r) for r in e.ratings.values()],
        "call_seq": e.call_seq,
        "normals_since_priority": e.normals_since_priority,
        "order": [e._order_back, e._order_front],
        "latest_day": e.latest_day,
        "forgotten_before": e.forgotten_before,
        "next_number": [[*k, v] for k, v in e._next_number.items()],
        "allocated": [[*k, v] for k, v in e._allocated.items()],
        "blocks": [vars(b) for bs in e._blocks.values() for b in bs],
        "offline_floor": [[*k, v] for k, v in e._offline_floor.items()],
        "waiting": [[*k, list(v)] for k, v in e._waiting.items()],
        "targeted": [[k, list(v)] for k, v in e._targeted.items()],
        "service_times": [[k, list(v)] for k, v in e._service_times.items()],
        "last_issued": [[*k, v] for k, v in e._last_issued.items()],
        "last_called": [[*k, v] for k, v in e._last_called.items()],
    }


def load_engine(e: Engine, s: dict[str, JSON]) -> None:
    """Fill a new engine (made with the site's rules) from ``dump_engine``'s output."""
    e.tickets = {t.id: t for t in map(ticket_from_row, s["tickets"])}
    e.tokens = {t.token for t in e.tickets.values()}
    for row in s["counters"]:
        c = e.counters.get(row["number"])
        if c is not None:  # a counter the site file no longer has is left out, as the rules left it
            c.status, c.officer, c.ticket_id = CounterStatus(row["status"]), row["officer"], row["ticket_id"]
            c.credits, c.served = dict(row["data"]["credits"]), row["data"]["served"]
    e.ratings = {
        r["ticket_id"]: Rating(
            r["ticket_id"], r["counter"], r["officer"], r["score"], r["scale"], r["answers"],
            datetime.fromisoformat(r["at"]),
        )
        for r in s["ratings"]
    }  # fmt: skip
    e.call_seq, e.normals_since_priority = s["call_seq"], s["normals_since_priority"]
    e._order_back, e._order_front = s["order"]
    e.latest_day, e.forgotten_before = s["latest_day"], s["forgotten_before"]
    e._next_number = {(d, x): n for d, x, n in s["next_number"]}
    e._allocated = {(d, x): n for d, x, n in s["allocated"]}
    e._blocks = {}
    for b in s["blocks"]:
        block = Block(**b)
        e._blocks.setdefault((block.day, block.series), []).append(block)
    e._offline_floor = {(d, x): n for d, x, n in s["offline_floor"]}
    e._waiting = {(d, x): dict.fromkeys(ids) for d, x, ids in s["waiting"]}
    e._targeted = {int(k): dict.fromkeys(ids) for k, ids in s["targeted"]}
    window = e.rules.service_time_window
    e._service_times = {k: deque(v, maxlen=window) for k, v in s["service_times"]}
    e._last_issued = {(d, x): c for d, x, c in s["last_issued"]}
    e._last_called = {(d, x): c for d, x, c in s["last_called"]}


def dump_dossiers(r: DossierRegistry) -> dict[str, JSON]:
    dossiers = [
        [d.code, d.procedure, str(d.status), d.received_at.isoformat(), d.due_at.isoformat(), d.provisional]
        for d in r.dossiers.values()
    ]
    return {"dossiers": dossiers, "last_sequence": list(r._last_sequence.items())}


def load_dossiers(r: DossierRegistry, s: dict[str, JSON]) -> None:
    r.dossiers = {
        code: Dossier(
            code, procedure, m.DossierStatus(status), datetime.fromisoformat(received),
            datetime.fromisoformat(due), bool(provisional),
        )
        for code, procedure, status, received, due, provisional in s["dossiers"]
    }  # fmt: skip
    r._last_sequence = {prefix: int(n) for prefix, n in s["last_sequence"]}


def check_header(body: dict[str, JSON], seq: int, hash_: str) -> None:
    """The snapshot's own header agrees with the row that stores it, and its format is this one."""
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        found = body.get("format") if isinstance(body, dict) else type(body).__name__
        raise SnapshotFormatError(f"format {found!r}, this server reads format {FORMAT}")
    if body.get("seq") != seq or body.get("hash") != hash_:
        raise SnapshotFormatError(f"its header names event {body.get('seq')!r}, the row event {seq}")


def must(condition: bool, what: str) -> None:
    if not condition:
        raise SnapshotFormatError(what)


def as_dict(value: Any, what: str) -> dict[str, JSON]:
    must(isinstance(value, dict), f"{what} is not an object")
    return dict(value)
