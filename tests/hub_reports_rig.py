"""A province for the hub's reports: centres run by the real engine, shipped into a real hub schema.

Each centre has its own site file (written to disk, so the hub reads its rules from it as in
production: its own target wait), drives the real queue engine and dossier registry through a busy week
into its own SQLite store, and its events go into the hub the way the ingest stores them: checked by
the hub's ``ChainFollower`` and written by ``HubStore.write`` (COPY into ``hub_events``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from engine_support import MONDAY, site_data
from reports_support import Centre, busy_week

from hub.config import HubConfig, load_config
from hub.follow import ChainFollower, ShippedEvent
from hub.store import HubStore, WriteBatch
from hub.tickets import TicketFold
from queue_server.db import Store
from siteconf.model import load_site

POSTGRES = os.environ.get("MOTCUA_TEST_POSTGRES")


def toml_value(value: Any) -> str:
    """A TOML value of plain data, written inline (strings as JSON strings, which TOML accepts)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def write_site(path: Path, site: str, name: str, target_wait_min: int) -> Path:
    data = site_data(day_starts="03:00")
    data["site"] = {"id": site, "name": name, "agency_code": "H21.65"}
    data["kiosk"] = {"officers": [{"id": "cb-1", "name": "Nguyễn Thị Lan"}, {"id": "cb-2", "name": "Trần B"}]}
    data["reports"] = {"target_wait_min": target_wait_min}
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in data.items()), encoding="utf-8")
    return path


@dataclass(frozen=True)
class CentrePlan:
    site: str
    name: str
    target_wait_min: int
    days: int  # how many days of the busy week it works (volumes differ)


PLANS = (
    CentrePlan("ba-dinh", "Trung tâm PVHCC phường Ba Đình", 10, 5),
    CentrePlan("hoan-kiem", "Trung tâm PVHCC phường Hoàn Kiếm", 30, 3),
    CentrePlan("dong-da", "Trung tâm PVHCC phường Đống Đa", 15, 4),
)


def ship(store: HubStore, site: str, centre_url: str) -> int:
    """Every event of the centre's store into the hub, verified and written as the ingest does."""
    engine = sa.create_engine(centre_url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, at, type, data, request_id, prev_hash, hash FROM events ORDER BY seq"
        ).all()
    engine.dispose()
    follower = ChainFollower(site)
    offered = follower.offer([ShippedEvent(*r) for r in rows])
    assert not offered.held and len(offered.accepted) == len(rows), "the centre's chain must verify"
    fold = TicketFold()
    fold.add(site, offered.accepted)
    batch = WriteBatch(
        [(site, e) for e in offered.accepted], [], fold, {site: (follower.head_seq, follower.head_hash, None)}
    )
    with store.connect() as conn:
        store.write(conn, batch)
    return len(rows)


@dataclass
class Province:
    config: HubConfig
    store: HubStore
    url: str
    centre_urls: dict[str, str]
    config_path: Path


@contextmanager
def hub_schema(prefix: str) -> Iterator[str]:
    """A PostgreSQL schema of its own; the URL (SQLAlchemy form) whose search_path is that schema."""
    assert POSTGRES
    plain = POSTGRES.replace("postgresql+psycopg://", "postgresql://")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def build_province(tmp: Path, url: str, plans: tuple[CentrePlan, ...] = PLANS, extra: str = "") -> Province:
    """Centres' weeks in their stores, shipped into the hub at ``url``; a hub config naming them."""
    lines = [f'[hub]\nprovince = "HN"\nname = "Hà Nội"\n[database]\nurl = "{url}"\n{extra}']
    centre_urls = {}
    store = HubStore.open(url)
    store.create()
    for plan in plans:
        site_file = write_site(tmp / f"{plan.site}.toml", plan.site, plan.name, plan.target_wait_min)
        centre_url = f"sqlite:///{tmp / (plan.site + '.db')}"
        with Store.open(centre_url) as centre_store:
            busy_week(Centre(load_site(site_file), centre_store), MONDAY, days=plan.days)
        ship(store, plan.site, centre_url)
        centre_urls[plan.site] = centre_url
        name = json.dumps(plan.name)
        lines.append(f'[[centres]]\nsite = "{plan.site}"\nname = {name}\nsite_file = "{site_file.name}"\n')
    config_path = tmp / "hub.toml"
    config_path.write_text("".join(lines), encoding="utf-8")
    config = load_config(config_path)
    store.register((c.site, c.name) for c in config.centres)
    return Province(config, store, url, centre_urls, config_path)
