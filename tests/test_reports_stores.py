"""The same report from SQLite, from PostgreSQL, and from a province hub's table of many centres."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from engine_support import MONDAY
from reports_support import Centre, busy_week, report_site
from test_db_support import BACKENDS, database_url

from queue_server.db import Store
from queue_server.reports import EventLog, Period, ReportSettings, ReportSource, build_report
from queue_server.reports.tables import Report

WEEK = Period.parse("week", "2026-W48")
AS_OF = MONDAY.replace(day=30)


def make(source: ReportSource) -> Report:
    return build_report(source, ReportSettings.from_site(report_site(day_starts="03:00")), WEEK, as_of=AS_OF)


def figures(report: Report) -> dict[str, list[list[object]]]:
    return {
        t.key: [[round(v, 6) if isinstance(v, float) else v for v in r] for r in t.rows]
        for t in report.tables
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_sqlite_and_postgres_give_the_same_report(backend: str, tmp_path: Path) -> None:
    site = report_site(day_starts="03:00")
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    with database_url(backend, tmp_path) as url:
        for target in {reference_url, url}:
            with Store.open(target) as store:
                busy_week(Centre(site, store), MONDAY)
        with ReportSource.open(reference_url) as ref, ReportSource.open(url) as other:
            expected, got = figures(make(ref)), figures(make(other))
    assert got == expected
    issued = expected["tickets"][0][1]
    assert isinstance(issued, int) and issued > 50  # the week did happen


def test_a_hub_table_of_many_sites_serves_each_centre_and_the_province(tmp_path: Path) -> None:
    site = report_site(day_starts="03:00")
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    with Store.open(url) as store:
        busy_week(Centre(site, store), MONDAY)
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = sa.create_engine(hub_url)
    with sa.create_engine(url).connect() as src, hub.begin() as dst:
        dst.exec_driver_sql(
            "CREATE TABLE hub_events (site TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, "
            "type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site, seq))"
        )
        rows = src.exec_driver_sql("SELECT seq, at, type, data FROM events ORDER BY seq").all()
        for name in ("xa-a", "xa-b"):
            dst.execute(
                sa.text("INSERT INTO hub_events VALUES (:site, :seq, :at, :type, :data)"),
                [{"site": name, "seq": r[0], "at": r[1], "type": r[2], "data": r[3]} for r in rows],
            )
    hub.dispose()
    with ReportSource.open(url) as centre:
        alone = make(centre)
    log = EventLog("hub_events", site_column="site")
    with ReportSource.open(hub_url, log, site="xa-a") as one:
        assert figures(make(one)) == figures(alone)
    with ReportSource.open(hub_url, log) as province:
        both = make(province)
    assert both.value("tickets", "issued") == 2 * int(alone.value("tickets", "issued") or 0)
    assert both.value("dossiers", "received") == 2 * int(alone.value("dossiers", "received") or 0)
