"""Databases for the store tests: a SQLite file in tmp_path, and a PostgreSQL schema of its own per test
when ``MOTCUA_TEST_POSTGRES`` gives a DSN (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

POSTGRES_DSN = os.environ.get("MOTCUA_TEST_POSTGRES")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(not POSTGRES_DSN, reason="MOTCUA_TEST_POSTGRES is not set"),
    ),
]
VN = timezone(timedelta(hours=7))
DAY = "2026-11-23"


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database; a PostgreSQL schema is dropped again afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
        return
    assert POSTGRES_DSN
    schema = f"motcua_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_DSN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = sa.make_url(POSTGRES_DSN).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def at(minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, 8, minute, second, tzinfo=VN)


def ticket_row(number: int, series: str = "A", **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"{DAY}/{series}/{number}",
        "business_day": DAY,
        "service": "ho-tich",
        "series": series,
        "number": number,
        "code": f"{series}{number:03d}",
        "token": f"tok-{series}-{number}-{uuid.uuid4().hex[:8]}",
        "priority": None,
        "status": "waiting",
        "counter": None,
        "officer": None,
        "rules_version": "2026-01-01",
        "issued_at": at(number % 60),
        "called_at": None,
        "finished_at": None,
        "estimate_s": 300,
        "waited_s": None,
        "recalls": 0,
        "data": {"kênh": "kiosk"},
    }
    row.update(changes)
    return row


def raw(url: str, *statements: str) -> list[Any]:
    """Run SQL on the database directly, outside the store (a tamperer's view); returns the last rows."""
    engine = sa.create_engine(url)
    rows: list[Any] = []
    try:
        with engine.begin() as conn:
            for statement in statements:
                result = conn.exec_driver_sql(statement)
                rows = list(result) if result.returns_rows else []
    finally:
        engine.dispose()
    return rows
