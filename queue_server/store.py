"""Compatibility name for the store, for code written before ``queue_server.db`` (to be removed)."""

from __future__ import annotations

from pathlib import Path

from queue_server.db import Store


def TicketStore(path: str | Path) -> Store:  # noqa: N802 - the old class name, kept for callers
    """An SQLite store at ``path`` (WAL, durable commits)."""
    return Store.open(f"sqlite:///{path}")
