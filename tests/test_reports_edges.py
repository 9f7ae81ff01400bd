"""Edges of the reports: bands, periods, day_starts, 16:59 / 17:05, holidays and make-up days, an empty
period, a rule-version change, the reader beside a writer, officer names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from engine_support import MONDAY, TZ
from reports_support import Centre, busy_week, day_at, report_site

from queue_server.db import Store
from queue_server.reports import (
    Filters,
    Period,
    ReportError,
    ReportSettings,
    ReportSource,
    build_report,
    figures,
)
from queue_server.reports.export import csv_text, text_tables
from queue_server.reports.figures import BIN_S, BINS
from queue_server.reports.regulatory import UNCLASSIFIED, classify
from queue_server.reports.tables import Report
from siteconf.model import SiteFileError, parse_site
from siteconf.reports import Band, ReportsConf, band_gaps

THANH_HOA = [
    Band(name="Xuất sắc", above=15),
    Band(name="Tốt", at_least=12, below=15),
    Band(name="Khá", at_least=9, below=12),
    Band(name="Trung bình", at_least=6, below=9),
    Band(name="Yếu", below=6),
]


def test_thanh_hoa_bands_leave_exactly_15_unclassified() -> None:
    assert band_gaps(THANH_HOA) == ["a score of 15 falls in no band"]
    conf = ReportsConf.model_construct(bands=THANH_HOA)
    assert classify(15.0, conf) == UNCLASSIFIED
    assert classify(15.0001, conf) == "Xuất sắc" and classify(14.999, conf) == "Tốt"


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (18, "Xuất sắc"),
        (15, "Xuất sắc"),
        (14.99, "Tốt"),
        (12, "Tốt"),
        (11.99, "Khá"),
        (9, "Khá"),
        (8.99, "Trung bình"),
        (6, "Trung bình"),
        (5.99, "Yếu"),
        (0, "Yếu"),
    ],
)
def test_default_bands_at_every_edge(score: float, band: str) -> None:
    conf = ReportsConf()
    assert band_gaps(conf.bands) == []
    assert classify(score, conf) == band


def test_a_site_file_with_a_gap_or_an_overlap_is_refused_naming_the_score() -> None:
    data = report_site().model_dump(mode="json", exclude_none=True)
    data["reports"] = {"bands": [b.model_dump(exclude_none=True) for b in THANH_HOA]}
    with pytest.raises(SiteFileError, match=r"reports\.bands: a score of 15 falls in no band"):
        parse_site(data)
    data["reports"] = {"bands": [{"name": "A", "at_most": 10}, {"name": "B", "at_least": 10}]}
    with pytest.raises(SiteFileError, match="a score of 10 falls in 2 bands"):
        parse_site(data)
    data["reports"] = {"agency_scores": {"Q4-2026": {"i5": 2}}}
    with pytest.raises(SiteFileError, match="not a period"):
        parse_site(data)


@pytest.mark.parametrize(
    ("kind", "value", "first", "last"),
    [
        ("day", "2026-11-23", "2026-11-23", "2026-11-23"),
        ("week", "2026-W01", "2025-12-29", "2026-01-04"),
        ("week", "2026-11-25", "2026-11-23", "2026-11-29"),
        ("month", "2024-02", "2024-02-01", "2024-02-29"),
        ("quarter", "2026-Q4", "2026-10-01", "2026-12-31"),
        ("year", "2026", "2026-01-01", "2026-12-31"),
        ("custom", "2026-11-01..2026-11-20", "2026-11-01", "2026-11-20"),
    ],
)
def test_periods(kind: str, value: str, first: str, last: str) -> None:
    period = Period.parse(kind, value)
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        ("month", "2026-13", "month must be in 1..12"),
        ("custom", "2026-11-20..2026-11-01", "before the first"),
        ("decade", "2020", "use one of"),
        ("quarter", "2026-Q5", "YYYY-Qn"),
        ("custom", "2020-01-01..2026-01-01", "at most"),
    ],
)
def test_bad_periods_say_what_was_wrong(kind: str, value: str, says: str) -> None:
    with pytest.raises(ReportError, match=says):
        Period.parse(kind, value)


def _report(url: str, site_kwargs: Mapping[str, object], period: Period, **kw: object) -> object:
    site = report_site(**site_kwargs)
    with ReportSource.open(url) as source:
        return build_report(source, ReportSettings.from_site(site), period, **kw)  # type: ignore[arg-type]


def test_issued_1659_served_1705_counts_on_its_day_and_day_starts_moves_the_boundary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    site = report_site(day_starts="03:00")
    with Store.open(url) as store:
        c = Centre(site, store)
        e = c.engine
        c.run(lambda: e.open_counter(1, "cb-1", day_at(MONDAY, 16, 50)))
        assert c.issue("land", day_at(MONDAY, 16, 59))
        assert c.run(lambda: e.call_next(1, day_at(MONDAY, 17, 3)))
        assert c.run(lambda: e.finish(1, day_at(MONDAY, 17, 5)))
    monday = Period(MONDAY.date(), MONDAY.date())
    report = _report(url, {"day_starts": "03:00"}, monday)
    assert report.value("tickets", "issued") == 1 and report.value("tickets", "served") == 1  # type: ignore[attr-defined]
    times = report.table("times").as_dicts()  # type: ignore[attr-defined]
    assert times[0]["mean"] == pytest.approx(240.0) and times[1]["mean"] == pytest.approx(120.0)
    tuesday = Period(MONDAY.date() + timedelta(days=1), MONDAY.date() + timedelta(days=1))
    assert _report(url, {"day_starts": "03:00"}, tuesday).value("tickets", "issued") == 0  # type: ignore[attr-defined]


def test_an_empty_period_has_every_table_and_no_division_by_zero(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store.open(url).close()
    report = _report(url, {}, Period.parse("month", "2026-02"))
    assert report.value("tickets", "issued") == 0  # type: ignore[attr-defined]
    assert report.value("tickets", "issued_per_working_day") == 0  # type: ignore[attr-defined]
    assert report.value("dossiers", "qd766_rate") is None  # type: ignore[attr-defined]
    assert "—" in text_tables(report)  # type: ignore[arg-type]
    assert csv_text(report).count("# ") > 20  # type: ignore[arg-type]


def test_holidays_and_make_up_saturdays_in_working_days() -> None:
    site = report_site()
    data = site.model_dump(mode="json", exclude_none=True)
    data["calendar"] = {
        "days": [
            {"date": "2026-11-24", "kind": "holiday", "reason": "test"},
            {"date": "2026-11-28", "kind": "makeup", "reason": "test"},
        ]
    }
    settings = ReportSettings.from_site(parse_site(data))
    working = settings.working_days(Period.parse("week", "2026-W48"))
    assert sum(working.values()) == 5  # Mon, Wed, Thu, Fri + Saturday worked; Tuesday off
    assert not working[date(2026, 11, 24)] and working[date(2026, 11, 28)]


def test_a_period_across_a_rule_version_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    versions = {
        "day_starts": "03:00",
        "versions": [{"effective": "2026-11-25", "id": "v2", "normal_per_priority": 1}],
    }
    with Store.open(url) as store:
        busy_week(Centre(report_site(**versions), store), MONDAY, days=4)
    report = _report(url, versions, Period.parse("week", "2026-W48"))
    rules = {r[0]: r for r in report.table("rules").rows}  # type: ignore[attr-defined]
    assert set(rules) == {"base", "v2"}
    assert rules["base"][3] == "2026-11-24" and rules["v2"][2] == "2026-11-25"
    assert rules["base"][1] + rules["v2"][1] == report.value("tickets", "issued")  # type: ignore[attr-defined]


def test_officer_names_only_when_asked_and_no_personal_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Store.open(url) as store:
        busy_week(Centre(report_site(), store), MONDAY, days=2)
    week = Period.parse("week", "2026-W48")
    plain = csv_text(_report(url, {}, week))  # type: ignore[arg-type]
    assert "cb-1" in plain and "Nguyễn Thị Lan" not in plain
    assert "tok0" not in plain  # ticket tokens (the QR secret) never appear
    named = csv_text(_report(url, {}, week, officer_names=True))  # type: ignore[arg-type]
    assert "Nguyễn Thị Lan" in named
    only = _report(url, {}, week, filters=Filters(counter=2))
    assert set(only.table("counters").column("counter")) >= {2}  # type: ignore[attr-defined]


def test_a_report_reads_while_the_server_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    site = report_site()
    with Store.open(url) as store:
        centre = Centre(site, store)
        busy_week(centre, MONDAY, days=1)
        with ReportSource.open(url) as source, source.snapshot() as conn:
            before = source.count(conn, datetime(2026, 11, 23, tzinfo=TZ), datetime(2026, 11, 24, tzinfo=TZ))
            assert centre.issue("land", day_at(MONDAY, 10, 55))  # the writer commits during the read
            again = source.count(conn, datetime(2026, 11, 23, tzinfo=TZ), datetime(2026, 11, 24, tzinfo=TZ))
            assert again == before  # one snapshot: the report does not see half a change
            with pytest.raises(Exception, match=r"readonly|read-only|query_only|attempt to write"):
                conn.exec_driver_sql("DELETE FROM events")


def test_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no SQLite file"):
        ReportSource.open(f"sqlite:///{tmp_path / 'nothing.db'}")


def test_officer_time_open_and_paused_and_tt01_per_dossier(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    site = report_site(day_starts="03:00")
    with Store.open(url) as store:
        c = Centre(site, store)
        e = c.engine
        c.run(partial(e.open_counter, 1, "cb-1", day_at(MONDAY, 8)))
        ticket = c.issue("land", day_at(MONDAY, 8, 5))
        assert ticket is not None
        c.run(partial(e.call_next, 1, day_at(MONDAY, 8, 10)))
        c.run(partial(e.finish, 1, day_at(MONDAY, 8, 20)))
        c.run(partial(e.rate, ticket, 0, 3, {}, day_at(MONDAY, 8, 21)))  # không hài lòng
        code = e.tickets[ticket].code
        early = c.register(day_at(MONDAY, 8, 22), 3, 1, code)  # due Thursday
        late = c.register(day_at(MONDAY, 8, 23), 1, 1, None)  # due Tuesday
        c.run(partial(e.pause_counter, 1, day_at(MONDAY, 10)))
        c.run(partial(e.open_counter, 1, "cb-1", day_at(MONDAY, 10, 30)))
        c.run(partial(e.close_counter, 1, day_at(MONDAY, 11)))
        assert early and late
        c.set_status(early, "supplement", day_at(MONDAY, 9))
        c.set_status(early, "ready", day_at(MONDAY + timedelta(days=1), 9))
        c.set_status(late, "ready", day_at(MONDAY + timedelta(days=3), 9))
    report = _report(
        url, {"day_starts": "03:00"}, Period.parse("week", "2026-W48"), as_of=MONDAY.replace(day=30)
    )
    officers = {r["officer"]: r for r in report.table("officers").as_dicts()}  # type: ignore[attr-defined]
    assert officers["cb-1"]["open"] == pytest.approx(2.5 * 3600)
    assert officers["cb-1"]["paused"] == pytest.approx(0.5 * 3600)
    assert officers["cb-1"]["served"] == 1
    assert report.value("dossiers", "early") == 1 and report.value("dossiers", "late") == 1  # type: ignore[attr-defined]
    assert report.value("dossiers", "qd766_rate") == pytest.approx(0.5)  # type: ignore[attr-defined]
    late_list = report.table("late_dossiers").as_dicts()  # type: ignore[attr-defined]
    assert [d["code"] for d in late_list] == [late] and late_list[0][
        "days_late"
    ] == 3  # 2 days 37 min, rounded up
    rows = {r["officer"]: r for r in report.table("tt01").as_dicts()}  # type: ignore[attr-defined]
    cb1 = rows["cb-1"]  # the early dossier: index 1 = 2, index 3 = 1 (one supplement), index 7 = 0
    assert (cb1["i1"], cb1["i3"], cb1["i7"], cb1["total"]) == (2.0, 1.0, 0.0, 3.0)
    assert cb1["of18"] == pytest.approx(9.0) and cb1["band"] == "Khá"


def _bins_by_definition(values: list[float]) -> list[int]:
    out = [0] * (BINS + 1)
    for v in values:
        out[min(BINS, int(v // BIN_S))] += 1
    return out


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0.0, 119.99999999999999, 120.0, 120.00000000000001, 3599.9999999, 3600.0, 86400.0, 7.5],
        [float(s) for s in range(0, 4000, 7)],
        [-5.0, 0.0, 130.0, 4000.0],  # a negative time (a clock stepped back) falls where it always did
    ],
)
def test_bins_by_bisection_count_as_each_value_tested(values: list[float]) -> None:
    waits = sorted(values)
    services = list(reversed(values))
    table = figures.bins(waits, services)
    assert table.column("waits") == _bins_by_definition(values)
    assert table.column("services") == _bins_by_definition(values)
    stats = figures.time_stats(waits, services, 900.0)
    within = None if not values else sum(1 for v in values if v <= 900.0) / len(values)
    assert stats.rows[0][6] == within


def test_a_service_filter_gives_that_service_s_row_of_the_whole_report(tmp_path: Path) -> None:
    """A filtered report builds its tickets one by one; without a filter the tables come from the
    projection's columns: the service's row of the whole report is the filtered report's totals."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Store.open(url) as store:
        busy_week(Centre(report_site(), store), MONDAY)
    week = Period.parse("week", "2026-W48")
    whole: Report = _report(url, {}, week)  # type: ignore[assignment]
    rows = whole.table("services").as_dicts()
    assert len(rows) >= 2
    for row in rows:
        only: Report = _report(url, {}, week, filters=Filters(service=str(row["service"])))  # type: ignore[assignment]
        assert only.value("tickets", "issued") == row["issued"]
        assert only.value("tickets", "served") == row["served"]
        assert only.value("tickets", "no_show") == row["no_show"]
        wait, service = only.table("times").as_dicts()
        assert (wait["mean"], wait["p90"], service["mean"]) == (
            row["mean_wait"],
            row["p90_wait"],
            row["mean_service"],
        )
        received = only.value("dossiers", "received")
        assert isinstance(received, int) and received <= int(whole.value("dossiers", "received") or 0)
