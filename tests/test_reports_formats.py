"""How exports hold numbers: counters in numeric order everywhere, XLSX cells typed and formatted."""

from __future__ import annotations

import io
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from engine_support import MONDAY, site_data
from reports_support import Centre, day_at

from queue_server.db import Store
from queue_server.reports import Period, ReportSettings, ReportSource, build_report
from queue_server.reports.export import csv_text, text_tables, xlsx_bytes
from queue_server.reports.tables import Report
from siteconf.model import parse_site

COUNTERS = [1, 2, 6, 11, 16]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    data = site_data()
    data["site"]["agency_code"] = "H21.65"
    data["counters"] = [{"number": n, "name": f"Quầy {n}", "services": ["land"]} for n in COUNTERS]
    site = parse_site(data)
    url = f"sqlite:///{tmp_path_factory.mktemp('formats') / 'centre.db'}"
    with Store.open(url) as store:
        centre = Centre(site, store)
        e = centre.engine
        at = day_at(MONDAY, 7, 30)
        for i, n in enumerate(reversed(COUNTERS)):
            centre.run(partial(e.open_counter, n, f"cb-{n}", at))
            ticket = centre.issue("land", at + timedelta(minutes=1 + i))
            assert ticket is not None
            centre.run(partial(e.call_next, n, at + timedelta(minutes=10 + i)))
            done = at + timedelta(minutes=20 + i)
            centre.run(partial(e.finish, n, done))
            centre.run(partial(e.rate, ticket, 2 - i % 3, 3, {}, done))
            assert centre.register(done, 2, n, e.tickets[ticket].code) is not None
    with ReportSource.open(url) as source:
        day = Period(MONDAY.date(), MONDAY.date())
        return build_report(source, ReportSettings.from_site(site), day, as_of=MONDAY + timedelta(days=1))


def test_counters_are_numbers_in_numeric_order_in_every_export(report: Report) -> None:
    assert report.table("counters").column("counter") == COUNTERS
    assert report.table("ratings_by_counter").column("counter") == COUNTERS
    csv = csv_text(report).split("# ratings_by_counter:")[1].splitlines()
    assert [line.split(",")[0] for line in csv[3 : 3 + len(COUNTERS)]] == [str(n) for n in COUNTERS]
    text = text_tables(report).split("== Đánh giá theo quầy")[1].splitlines()
    assert [line.split()[0] for line in text[3 : 3 + len(COUNTERS)]] == [str(n) for n in COUNTERS]


def cells(book: Any, sheet: str, column: int) -> dict[Any, Any]:
    """The cells of ``column`` by the first cell of their row (the measure, counter or scale)."""
    rows = book[sheet].iter_rows(min_row=5)
    return {row[0].value: row[column] for row in rows}


def test_xlsx_counts_are_whole_rates_are_percentages_and_ids_are_numbers(report: Report) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx_bytes(report)))
    tickets, dossiers = cells(book, "tickets", 1), cells(book, "dossiers", 1)
    assert tickets["issued"].value == len(COUNTERS)
    assert tickets["issued"].number_format == "#,##0"
    assert dossiers["received"].number_format == "#,##0"
    assert dossiers["qd766_rate"].number_format == "0.0%"
    assert cells(book, "estimate", 1)["count"].number_format == "#,##0"
    by_counter = cells(book, "ratings_by_counter", 0)
    assert list(by_counter) == COUNTERS
    assert all(c.data_type == "n" and c.number_format == "0" for c in by_counter.values())
    assert all(c.number_format == "#,##0" for c in cells(book, "ratings_by_counter", 1).values())
    assert [c.number_format for c in cells(book, "ratings_by_counter", 5).values()] == ["0.0%"] * 5
    scales = [row[0] for row in book["ratings"].iter_rows(min_row=5)]
    assert {c.value for c in scales if c.value is not None} == {3}
    assert all(c.data_type == "n" for c in scales if c.value is not None)
    assert list(cells(book, "counters", 0)) == COUNTERS


def test_the_page_shows_the_qd766_rate_as_a_percentage(report: Report) -> None:
    from queue_server.reports.tables import show

    dossiers = report.table("dossiers")
    row = next(r for r in dossiers.rows if r[0] == "qd766_rate")
    assert show(row[1], dossiers.kinds(row)[1]).endswith("%")
