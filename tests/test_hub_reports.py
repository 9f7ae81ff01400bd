"""The province's reports from the hub's PostgreSQL: each centre as at home, the comparison and
ranking of the centres, and province totals that are the sum of the centres and of ``hub_events``.

Three centres with their own site files (different target waits and volumes) run the real engine
through a week; their events are shipped into a hub schema of this test's own as the ingest stores
them (``hub_reports_rig``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import MONDAY
from hub_reports_rig import PLANS, POSTGRES, Province, build_province, hub_schema
from openpyxl import load_workbook
from reports_support import direct_counts

from hub.config import HubConfigError, load_config
from hub.reports import RANKS, HubReportError, ProvinceReports
from queue_server.db import Store
from queue_server.reports import Period, ReportSettings, ReportSource, build_report
from queue_server.reports.tables import Report, Value, percentile
from siteconf.model import load_site

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not POSTGRES, reason="MOTCUA_TEST_POSTGRES is not set"),
]
WEEK = Period.parse("week", "2026-W48")
AS_OF = MONDAY.replace(day=30)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    with hub_schema("hub_reports") as url:
        yield build_province(tmp_path_factory.mktemp("province"), url)


def rounded(report: Report) -> dict[str, list[list[object]]]:
    return {
        t.key: [[round(v, 6) if isinstance(v, float) else v for v in r] for r in t.rows]
        for t in report.tables
    }


def test_each_centre_at_the_hub_gets_the_report_of_its_own_store(province: Province) -> None:
    reports = ProvinceReports(province.config)
    try:
        for plan in PLANS:
            centre = province.config.centre(plan.site)
            assert centre is not None and centre.site_file is not None
            settings = ReportSettings.from_site(load_site(centre.site_file))
            with ReportSource.open(province.centre_urls[plan.site]) as home:
                expected = build_report(home, settings, WEEK, as_of=AS_OF)
            got = reports.centre_report(plan.site, WEEK, AS_OF)
            assert rounded(got) == rounded(expected), plan.site
            assert got.site == plan.site and got.warnings == expected.warnings
            with reports.engine().connect() as conn:  # the hub keeps the reports' projections per centre
                count = "SELECT count(*) FROM report_tickets WHERE site = %(site)s"
                assert conn.exec_driver_sql(count, {"site": plan.site}).scalar_one() > 0
    finally:
        reports.close()


def test_province_totals_are_the_sums_of_the_centres_and_of_the_events(province: Province) -> None:
    reports = ProvinceReports(province.config)
    try:
        report = reports.province_report(WEEK, AS_OF)
    finally:
        reports.close()
    rows = report.table("centres").as_dicts()
    (totals,) = report.table("province").as_dicts()
    assert len(rows) == len(PLANS) == totals["centres"]
    for key in ("issued", "served", "rated", "received", "early", "on_time", "late", "overdue"):
        assert totals[key] == sum(int(r[key] or 0) for r in rows), key

    # A direct count over hub_events, with none of the reports' code.
    with province.store.connect() as conn:
        (issued,) = conn.execute(
            "SELECT count(*) FROM hub_events WHERE type = 'ticket_issued' AND (data::jsonb ->> 'day') "
            "BETWEEN %s AND %s",
            (WEEK.first.isoformat(), WEEK.last.isoformat()),
        ).fetchone() or (0,)
        rated_row = conn.execute("SELECT count(*) FROM hub_events WHERE type = 'ticket_rated'").fetchone()
    rated = rated_row[0] if rated_row else 0
    assert totals["issued"] == issued > 100
    assert totals["rated"] == rated > 0

    # And from each centre's own store: counts, then the pooled percentiles of every wait.
    direct = {}
    for site, url in province.centre_urls.items():
        with Store.open(url) as store:
            direct[site] = direct_counts(store, WEEK)
    assert totals["served"] == sum(d["served"] for d in direct.values())
    assert totals["received"] == sum(d["received"] for d in direct.values())
    waits = sorted(w for d in direct.values() for w in d["waits"])
    assert totals["waits"] == len(waits)
    assert totals["p50_wait"] == pytest.approx(percentile(waits, 0.5))
    assert totals["p90_wait"] == pytest.approx(percentile(waits, 0.9))
    targets = {plan.site: plan.target_wait_min * 60 for plan in PLANS}
    within = sum(1 for site, d in direct.items() for w in d["waits"] if w <= targets[site])
    assert totals["within_target"] == pytest.approx(within / len(waits))
    for site, d in direct.items():
        row = next(r for r in rows if r["site"] == site)
        assert row["issued"] == d["issued"] and row["served"] == d["served"], site
    rate = totals["qd766_rate"]
    assert isinstance(rate, float) and 0 <= rate <= 1


def test_each_centre_is_measured_against_its_own_target(province: Province) -> None:
    reports = ProvinceReports(province.config)
    try:
        rows = {r["site"]: r for r in reports.province_report(WEEK, AS_OF).table("centres").as_dicts()}
    finally:
        reports.close()
    for plan in PLANS:
        row = rows[plan.site]
        assert row["target_min"] == plan.target_wait_min
        with Store.open(province.centre_urls[plan.site]) as store:
            waits = direct_counts(store, WEEK)["waits"]
        within = sum(1 for w in waits if w <= plan.target_wait_min * 60) / len(waits)
        assert row["within_target"] == pytest.approx(within), plan.site


@pytest.mark.parametrize("rank", list(RANKS))
def test_the_ranking_orders_centres_by_the_chosen_measure(province: Province, rank: str) -> None:
    reports = ProvinceReports(province.config)
    try:
        table = reports.province_report(WEEK, AS_OF, rank=rank).table("centres")
    finally:
        reports.close()
    higher_better = RANKS[rank][2]
    values = [r for r in table.as_dicts() if r["rank"] is not None]

    def measured(r: dict[str, Value]) -> float:
        if rank == "timely":
            done = [int(str(r[k] or 0)) for k in ("early", "on_time", "late", "overdue")]
            return (done[0] + done[1]) / sum(done)
        return float(str(r[rank] or 0))

    assert [measured(r) for r in values] == sorted(map(measured, values), reverse=higher_better)
    ranks = [int(r["rank"] or 0) for r in values]
    assert ranks[0] == 1 and ranks == sorted(ranks)


def test_bad_requests_are_named(province: Province) -> None:
    reports = ProvinceReports(province.config)
    try:
        with pytest.raises(HubReportError, match="'nowhere' is not one of this hub's centres"):
            reports.centre_report("nowhere", WEEK)
        with pytest.raises(HubReportError, match="rank 'best'"):
            reports.province_report(WEEK, rank="best")
    finally:
        reports.close()


def test_a_site_file_of_another_centre_or_missing_is_refused(province: Province, tmp_path: Path) -> None:
    ba_dinh = province.config.centre("ba-dinh")
    assert ba_dinh is not None and ba_dinh.site_file is not None
    text = f'[hub]\nprovince = "HN"\nname = "HN"\n[database]\nurl = "{province.url}"\n'
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(text + f'[[centres]]\nsite = "dong-da"\nname = "x"\nsite_file = "{ba_dinh.site_file}"\n')
    with pytest.raises(HubReportError, match="is of site 'ba-dinh'"):
        ProvinceReports(load_config(wrong)).province_report(WEEK, AS_OF)
    missing = tmp_path / "missing.toml"
    missing.write_text(text + '[[centres]]\nsite = "dong-da"\nname = "x"\nsite_file = "nope.toml"\n')
    with pytest.raises(HubReportError, match=r"centre dong-da: its site file .*nope\.toml: cannot read"):
        ProvinceReports(load_config(missing)).centre_report("dong-da", WEEK)
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '[[centres]]\nsite = "dong-da"\nname = "x"\nsite_file = 3\n')
    with pytest.raises(HubConfigError, match=r"centres\.0\.site_file"):
        load_config(bad)


def test_a_centre_without_site_file_gets_defaults_and_a_warning(province: Province, tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(
        f'[hub]\nprovince = "HN"\nname = "HN"\n[database]\nurl = "{province.url}"\n'
        '[[centres]]\nsite = "dong-da"\nname = "Đống Đa"\n'
    )
    reports = ProvinceReports(load_config(path))
    try:
        report = reports.province_report(WEEK, AS_OF)
        alone = reports.centre_report("dong-da", WEEK, AS_OF)
    finally:
        reports.close()
    assert report.table("centres").as_dicts()[0]["target_min"] == 15
    assert any("defaults used: dong-da" in w for w in report.warnings)
    assert any("defaults used" in w for w in alone.warnings)


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua_cli.main", "hub", "report", *args],
        check=False, capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip


def test_cli_formats_and_errors(province: Province, tmp_path: Path) -> None:
    config = str(province.config_path)
    table = motcua("--config", config, "--period", "week", "2026-W48")
    assert table.returncode == 0, table.stderr
    assert "Centres compared and ranked" in table.stdout and "Province totals" in table.stdout
    assert "Trung tâm PVHCC phường Ba Đình" in table.stdout

    csv = motcua("--config", config, "--period", "week", "2026-W48", "--format", "csv", "--rank", "p90_wait")
    assert csv.returncode == 0, csv.stderr
    assert "# centres:" in csv.stdout and "Ranked by P90 wait (lower first)" in csv.stdout

    out = tmp_path / "hn.xlsx"
    xlsx = motcua("--config", config, "--period", "week", "2026-W48", "--format", "xlsx", "--out", str(out))
    assert xlsx.returncode == 0, xlsx.stderr
    book = load_workbook(out)
    assert {"centres", "province"} <= set(book.sheetnames)
    assert book["centres"].max_row == 4 + len(PLANS)

    one = motcua("--config", config, "--period", "week", "2026-W48", "--centre", "hoan-kiem")
    assert one.returncode == 0 and "Trung tâm PVHCC phường Hoàn Kiếm (hoan-kiem)" in one.stdout
    assert "Within 30 min" in one.stdout

    for args, message in [
        (["--period", "month", "2026-13"], "month '2026-13'"),
        (["--period", "week", "2026-W48", "--centre", "x"], "'x' is not one of this hub's centres"),
        (["--period", "week", "2026-W48", "--format", "xlsx"], "--format xlsx needs --out"),
    ]:
        bad = motcua("--config", config, *args)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)


def test_ties_share_a_rank_and_centres_without_the_measure_come_last() -> None:
    from hub.reports import COUNTS, CentreFigures, ranked

    def centre(site: str, received: int, unsatisfied: int) -> CentreFigures:
        counts = dict.fromkeys(COUNTS, 0) | {"received": received, "rated_unsatisfied": unsatisfied}
        return CentreFigures(site, site, counts, None, None, 15, None, 0, "")

    rows = [centre("c", 10, 5), centre("a", 4, 1), centre("none", 0, 0), centre("b", 8, 2)]
    order = [(rank, r.site) for rank, r in ranked(rows, "qd766_rate")]
    assert order == [(1, "a"), (1, "b"), (3, "c"), (None, "none")]


def test_cli_names_a_database_that_is_not_the_hubs(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('[hub]\nprovince = "HN"\nname = "HN"\n[database]\nurl = "sqlite:///x.db"\n')
    bad = motcua("--config", str(config), "--period", "month", "2026-11")
    assert bad.returncode == 2 and "the hub needs PostgreSQL" in bad.stderr
    missing = motcua("--config", str(tmp_path / "nope.toml"), "--period", "month", "2026-11")
    assert missing.returncode == 2 and "cannot read it" in missing.stderr
