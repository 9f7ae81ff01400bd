"""The per-ticket projection (report_tickets): the facts it gives are the fold's, to the last field;
when they could differ (a late event, times going backwards) the report folds the events instead."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from engine_support import MONDAY
from reports_support import Centre, busy_week, day_at, report_site
from test_db_support import BACKENDS, POSTGRES_DSN, database_url

from queue_server.db import Store
from queue_server.reports import EventLog, Period, ReportSettings, ReportSource, build_report, quick
from queue_server.reports import tickets as ticket_projection
from queue_server.reports.facts import Facts, fold
from queue_server.reports.quick import quick_columns, quick_facts
from queue_server.reports.tables import Report

WEEK = Period.parse("week", "2026-W48")
MONDAY_ONLY = Period(MONDAY.date(), MONDAY.date())
SITE = report_site(day_starts="03:00")
SETTINGS = ReportSettings.from_site(SITE)


def week(url: str, tmp_path: Path, *, close_days: bool = False, in_order: bool = True) -> None:
    """``busy_week`` (its finishes are stamped after the next call), written in time order or as is."""
    scratch = f"sqlite:///{tmp_path / 'scratch.db'}"
    with Store.open(scratch if in_order else url) as store:
        centre = Centre(SITE, store)
        busy_week(centre, MONDAY)
        if close_days:
            for n in range(5):
                day = (MONDAY + timedelta(days=n)).date().isoformat()
                closing = day_at(MONDAY + timedelta(days=n + 1), 4)  # business days end at 03:00
                assert centre.run(partial(centre.engine.close_day, day, closing))
        events = list(store.events())
    if in_order:
        with Store.open(url) as store, store.transaction() as tx:
            for _i, e in sorted(enumerate(events), key=lambda ie: (ie[1].at, ie[0])):
                tx.append(e.type, e.data, e.at)


def both(url: str, period: Period, until: float) -> tuple[Facts | None, Facts]:
    """The projection's facts (None if it declined) and the fold's, from one snapshot."""
    with ReportSource.open(url) as source:
        source.prepare()
        assert source.tickets_projected
        with source.snapshot() as conn:
            start, end = period.bounds(SETTINGS.tz, SETTINGS.day_starts)
            quick = quick_facts(
                source, conn, period, tz=SETTINGS.tz, day_starts=SETTINGS.day_starts, until=until
            )
            rows = source.read(conn, start, end)
    return quick, fold(rows, period, SETTINGS.tz, SETTINGS.day_starts, until)


def same(quick: Facts | None, folded: Facts) -> None:
    assert quick is not None
    assert list(quick.tickets) == list(folded.tickets)  # the order sums are made in
    assert quick.tickets == folded.tickets
    assert quick.samples == folded.samples
    assert (quick.peak_waiting, quick.peak_at) == (folded.peak_waiting, folded.peak_at)
    assert quick.officer_time == folded.officer_time
    assert quick.dossiers == folded.dossiers
    assert folded.peak_waiting > 0 and any(s[2] for s in folded.samples.values())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("close_days", [False, True])
def test_projected_tickets_are_the_folded_ones(backend: str, close_days: bool, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        week(url, tmp_path, close_days=close_days)
        until = (MONDAY + timedelta(days=7)).timestamp()
        for period in (WEEK, MONDAY_ONLY):
            same(*both(url, period, until))


def test_small_batches_fold_tickets_across_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ticket issued in one batch and called, finished and rated in later ones; days closed late."""
    monkeypatch.setattr(ticket_projection, "BATCH", 7)
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    week(url, tmp_path, close_days=True)
    same(*both(url, WEEK, (MONDAY + timedelta(days=7)).timestamp()))


def test_the_projection_follows_the_log_between_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    until = (MONDAY + timedelta(days=7)).timestamp()
    with Store.open(url) as store:
        centre = Centre(SITE, store)
        e = centre.engine
        at = day_at(MONDAY, 7, 30)
        centre.run(partial(e.open_counter, 1, "cb-1", at))
        for i in range(4):
            centre.issue("land", at + timedelta(minutes=i + 1))
        same(*both(url, MONDAY_ONLY, until))  # four waiting
        centre.run(partial(e.call_next, 1, at + timedelta(minutes=10)))
        centre.run(partial(e.finish, 1, at + timedelta(minutes=15)))
        assert centre.run(partial(e.close_day, MONDAY.date().isoformat(), at + timedelta(hours=20)))
    quick, folded = both(url, MONDAY_ONLY, until)
    same(quick, folded)
    assert quick is not None
    assert sorted(t.status for t in quick.tickets.values()) == ["done", "expired", "expired", "expired"]


def test_a_rating_after_the_slice_makes_the_report_fold(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    week(url, tmp_path)
    with Store.open(url) as store:
        events = list(store.events())
        rated = {e.data["ticket_id"] for e in events if e.type == "ticket_rated"}
        monday = MONDAY.date().isoformat()
        ticket = next(
            t for e in events if e.type == "ticket_finished" and (t := e.data["ticket_id"]) not in rated
            and t.startswith(monday)
        )  # fmt: skip
        with store.transaction() as tx:  # Monday's ticket rated on Saturday
            tx.append("ticket_rated", {"ticket_id": ticket, "counter": 1, "officer": "cb-1", "score": 2,
                                       "scale": 3, "answers": {}}, MONDAY + timedelta(days=5))  # fmt: skip
    quick, folded = both(url, MONDAY_ONLY, (MONDAY + timedelta(days=7)).timestamp())
    assert quick is None
    assert folded.tickets[("", ticket)].rating is None  # beyond a day after the period
    quick, folded = both(url, WEEK, (MONDAY + timedelta(days=7)).timestamp())
    same(quick, folded)  # within the week's slice: the projection serves
    assert folded.tickets[("", ticket)].rating is not None


def test_times_going_backwards_turn_the_projection_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    week(url, tmp_path, in_order=False)
    quick, _folded = both(url, WEEK, (MONDAY + timedelta(days=7)).timestamp())
    assert quick is None
    with ReportSource.open(url) as source, ReportSource.open(url, EventLog(projection=None)) as direct:
        report, expected = build_report(source, SETTINGS, WEEK), build_report(direct, SETTINGS, WEEK)
    assert [t.rows for t in report.tables[:-1]] == [t.rows for t in expected.tables[:-1]]


def test_two_readers_catching_up_at_once_fold_each_ticket_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'centre.db'}"
    week(url, tmp_path, close_days=True)
    errors: list[BaseException] = []

    def prepare() -> None:
        try:
            with ReportSource.open(url) as source:
                source.prepare()
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            errors.append(err)

    threads = [threading.Thread(target=prepare) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    same(*both(url, WEEK, (MONDAY + timedelta(days=7)).timestamp()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_tables_from_the_projections_columns_are_the_folds(backend: str, tmp_path: Path) -> None:
    """Without filters a report's tables come from report_tickets' columns (counts and rule versions
    summed by the database): cell for cell what the fold's tickets give."""
    with database_url(backend, tmp_path) as url:
        week(url, tmp_path, close_days=True)
        as_of = MONDAY + timedelta(days=7)
        for period in (WEEK, MONDAY_ONLY):
            columns, report, expected, _ = _columns_and_reports(url, period, as_of)
            assert columns is not None and len(columns[1]) > 0
            assert [t.rows for t in report.tables] == [t.rows for t in expected.tables]
            assert (report.charts, report.warnings) == (expected.charts, expected.warnings)


@pytest.mark.parametrize("threshold", [1, 10**9])
def test_a_large_catch_up_renews_postgres_statistics(
    threshold: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After folding many tickets at once, PostgreSQL's planner has the table's statistics (a year's
    totals hashed, not sorted on disk), whether or not autovacuum runs."""
    if not POSTGRES_DSN:
        pytest.skip("MOTCUA_TEST_POSTGRES is not set")
    monkeypatch.setattr(ticket_projection, "ANALYZE_AFTER", threshold)
    with database_url("postgres", tmp_path) as url:
        week(url, tmp_path)
        with ReportSource.open(url) as source:
            source.prepare()
            with source.snapshot() as conn:
                tuples = conn.exec_driver_sql(
                    "SELECT reltuples FROM pg_class WHERE oid = 'report_tickets'::regclass"
                ).scalar()
                tickets = conn.exec_driver_sql("SELECT count(*) FROM report_tickets").scalar()
    assert tickets and tickets > 0
    assert (tuples == tickets) == (threshold == 1)  # never analysed: -1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_ticket_registered_after_the_next_days_tickets_keeps_its_day(backend: str, tmp_path: Path) -> None:
    """A kiosk's offline ticket of Monday registered on Tuesday afternoon comes after Tuesday's tickets
    in issue order: the days are no longer one run each (the report reads each ticket's day), and the
    tables are still the fold's."""
    scratch = f"sqlite:///{tmp_path / 'scratch.db'}"
    with Store.open(scratch) as store:
        centre = Centre(SITE, store)
        busy_week(centre, MONDAY)
        e = centre.engine
        assert centre.run(partial(e.reserve_block, "kiosk-1", "land", 2, day_at(MONDAY, 16)))
        (block,) = [b for blocks in e._blocks.values() for b in blocks if b.device == "kiosk-1"]
        tuesday = MONDAY + timedelta(days=1)
        register = partial(
            e.register_offline_ticket, "kiosk-1", "land", block.first, priority=None,
            token=centre.tokens(), issued_at=day_at(MONDAY, 16, 30), at=day_at(tuesday, 16, 45),
        )  # fmt: skip
        assert centre.run(register)
        events = list(store.events())
    as_of = MONDAY + timedelta(days=7)
    with database_url(backend, tmp_path) as url:
        with Store.open(url) as store, store.transaction() as tx:
            for _i, ev in sorted(enumerate(events), key=lambda ie: (ie[1].at, ie[0])):
                tx.append(ev.type, ev.data, ev.at)
        columns, report, expected, rows = _columns_and_reports(url, WEEK, as_of)
    folded = fold(rows, WEEK, SETTINGS.tz, SETTINGS.day_starts, as_of.timestamp())
    assert columns is not None
    days = list(columns[1].day)
    assert days == [t.day for t in folded.tickets.values()]
    assert days != sorted(days)  # Monday's ticket after Tuesday's
    assert [t.rows for t in report.tables] == [t.rows for t in expected.tables]
    assert (report.charts, report.warnings) == (expected.charts, expected.warnings)


def test_sqlite_answers_the_totals_and_ratings_from_their_indexes(tmp_path: Path) -> None:
    """Migration 0010's indexes hold every column the grouped totals and the rated tickets read: SQLite
    never looks up the table's rows for them (a column added to either query without its index would
    make a year's pass a third slower)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    week(url, tmp_path)
    params = ("", 0, 10**9, "2026-01-01", "2026-12-31")
    with ReportSource.open(url) as source:
        source.prepare()
        with source.snapshot() as conn:
            for sql, index in (
                (quick.TOTALS_SQL, "report_tickets_groups"),
                (quick.RATED_SQL, "report_tickets_rated"),
            ):
                plan = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql.replace("{where}", quick._WHERE), params
                )
                assert [row[3].split(" (")[0] for row in plan] == [
                    f"SEARCH report_tickets USING COVERING INDEX {index}"
                ]


def _columns_and_reports(url: str, period: Period, as_of: datetime) -> tuple[Any, Report, Report, list[Any]]:
    """The period's columns from the projection, its report from them, the same report folded from
    the events alone, and the period's events."""
    with (
        ReportSource.open(url) as source,
        ReportSource.open(url, EventLog(projection=None)) as direct,
    ):
        source.prepare()
        with source.snapshot() as conn:
            columns = quick_columns(
                source, conn, period, tz=SETTINGS.tz, day_starts=SETTINGS.day_starts, until=as_of.timestamp()
            )
            rows = source.read(conn, *period.bounds(SETTINGS.tz, SETTINGS.day_starts))
        return (
            columns,
            build_report(source, SETTINGS, period, as_of=as_of),
            build_report(direct, SETTINGS, period, as_of=as_of),
            rows,
        )
