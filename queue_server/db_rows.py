"""Rows of the store's tables checked against their column kinds (``schema.KINDS``) on the way in,
times and JSON turned into text, and JSON turned back on the way out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from queue_server import schema
from queue_server.chain import canonical_json
from queue_server.errors import StoreError

Row = dict[str, Any]


def time_text(value: object, what: str) -> str:
    """ISO 8601 text with an offset, from an aware datetime or such a text."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise StoreError(f"{what}: {value!r} is not an ISO 8601 time") from None
    else:
        raise StoreError(f"{what}: expected a datetime or ISO 8601 text, got {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"{what}: {value!r} has no UTC offset")
    return value if isinstance(value, str) else moment.isoformat()


def json_text(value: object, what: str) -> str:
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as err:
        raise StoreError(f"{what}: not JSON ({err})") from None


def encode_row(table: sa.Table, row: Mapping[str, Any]) -> Row:
    """Check a row against its table's columns and turn times and JSON into text."""
    kinds = schema.KINDS[table.name]
    given, wanted = set(row), set(kinds)
    if given != wanted:
        parts = []
        if wanted - given:
            parts.append("missing " + ", ".join(sorted(wanted - given)))
        if given - wanted:
            parts.append("unknown " + ", ".join(sorted(given - wanted)))
        raise StoreError(f"{table.name} row: {'; '.join(parts)}")
    out: Row = {}
    for name, kind in kinds.items():
        value, what = row[name], f"{table.name}.{name}"
        if value is None:
            if not table.c[name].nullable:
                raise StoreError(f"{what}: may not be empty")
            out[name] = None
        elif kind == "time":
            out[name] = time_text(value, what)
        elif kind == "json":
            out[name] = json_text(value, what)
        elif not schema.fits(kind, value):
            raise StoreError(f"{what}: expected {kind}, got {type(value).__name__} {value!r}")
        else:
            out[name] = value
    return out


def decode_row(table: sa.Table, row: sa.Row[Any]) -> Row:
    kinds = schema.KINDS[table.name]
    out = dict(row._mapping)
    for name, kind in kinds.items():
        if kind == "json" and out[name] is not None:
            out[name] = json.loads(out[name])
    return out
