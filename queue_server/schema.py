"""The store's tables as SQLAlchemy Core objects, and the kind of value each column holds.

Kinds: ``text``, ``int``, ``real`` (an int or a float), ``time`` (ISO 8601 text with an offset; an aware
datetime is accepted and written as text) and ``json`` (any JSON value, written as canonical JSON text).
The migrations in ``queue_server/migrations/versions`` create exactly these tables.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite makes an INTEGER PRIMARY KEY the rowid itself; BIGINT would add a second index.
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

KINDS: dict[str, dict[str, str]] = {
    "events": {
        "seq": "int",
        "at": "time",
        "type": "text",
        "data": "json",
        "request_id": "text",
        "prev_hash": "text",
        "hash": "text",
    },
    "tickets": {
        "id": "text",
        "business_day": "text",
        "service": "text",
        "series": "text",
        "number": "int",
        "code": "text",
        "token": "text",
        "priority": "text",
        "status": "text",
        "counter": "int",
        "officer": "text",
        "rules_version": "text",
        "issued_at": "time",
        "called_at": "time",
        "finished_at": "time",
        "estimate_s": "real",
        "waited_s": "real",
        "recalls": "int",
        "data": "json",
    },
    "counters": {"number": "int", "status": "text", "officer": "text", "ticket_id": "text", "data": "json"},
    "ratings": {
        "ticket_id": "text",
        "counter": "int",
        "officer": "text",
        "score": "int",
        "scale": "int",
        "answers": "json",
        "at": "time",
    },
    "requests": {"id": "text", "verb": "text", "response": "json", "at": "time"},
    # What must reach the bus after commit (today: calls), keyed by the call's seq; ``published`` is
    # 1 once the broker acknowledged it. ``payload`` is the message's JSON, sent byte for byte again.
    "outbox": {"seq": "int", "topic": "text", "payload": "text", "at": "time", "published": "int"},
}

_NULLABLE = {
    "events": {"request_id"},
    "tickets": {"priority", "counter", "officer", "called_at", "finished_at", "estimate_s", "waited_s"},
    "counters": {"officer", "ticket_id"},
    "ratings": {"officer"},
    "requests": set(),
    "outbox": set(),
}
_TYPES = {"text": sa.Text, "int": sa.Integer, "real": sa.Float, "time": sa.Text, "json": sa.Text}


def _columns(table: str, key: str) -> list[sa.Column[Any]]:
    columns: list[sa.Column[Any]] = []
    for name, kind in KINDS[table].items():
        type_: sa.types.TypeEngine[Any] = _SEQ if name == key == "seq" else _TYPES[kind]()
        columns.append(
            sa.Column(
                name,
                type_,
                primary_key=name == key,
                autoincrement=False,
                nullable=name in _NULLABLE[table],
            )
        )
    return columns


events = sa.Table("events", metadata, *_columns("events", "seq"))
tickets = sa.Table(
    "tickets",
    metadata,
    *_columns("tickets", "id"),
    sa.UniqueConstraint("business_day", "series", "number", name="tickets_number_unique"),
    sa.UniqueConstraint("token", name="tickets_token_unique"),
    sa.Index("tickets_day_status", "business_day", "status"),
)
counters = sa.Table("counters", metadata, *_columns("counters", "number"))
ratings = sa.Table("ratings", metadata, *_columns("ratings", "ticket_id"))
requests = sa.Table("requests", metadata, *_columns("requests", "id"))
# Engine snapshots (queue_server/snapshots.py): the state after event ``seq`` (whose chain hash is
# ``hash``), as the JSON text ``body`` whose SHA-256 is ``digest``. Written by the server, never edited.
snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("format", sa.Integer, nullable=False),
    sa.Column("day", sa.Text, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)

outbox = sa.Table(
    "outbox", metadata, *_columns("outbox", "seq"), sa.Index("outbox_unpublished", "published", "seq")
)


# Facility staff's history of every device (queue_server/incidents.py): one row per incident (paper
# near end / out, a jam, offline ...) from the status change that opened it to the one that closed it.
# Written by the server's incident thread, never by the queue worker.
device_incidents = sa.Table(
    "device_incidents",
    metadata,
    sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
    sa.Column("device_id", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("ended_at", sa.Text, nullable=True),
    sa.Column("duration_s", sa.Float, nullable=True),
    sa.Index("device_incidents_device", "device_id", "started_at"),
)
# Paper each printer used since its roll was last changed (queue_server/paper.py).
printer_paper = sa.Table(
    "printer_paper",
    metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("roll_since", sa.Text, nullable=False),
    sa.Column("used_mm", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)


def fits(kind: str, value: object) -> bool:
    """Whether a non-null value may go into a column of this kind (times and JSON are checked apart)."""
    if kind == "text":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "real":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True
