"""The managers' reports across a province's centres, read from the hub's ``hub_events``.

Each centre's report is the reports module's own (``queue_server.reports``), run on the hub's table
with that centre's site id and that centre's rules (target wait, five-level rating mapping, TT 01/2018
bands, calendar) from its site file, so a centre's figures at the hub are the figures its managers see
at home. The province report puts them side by side:

- ``centres``: one row per centre — tickets, waits (p50, p90, share within the centre's own target),
  ratings, the QĐ 766 satisfaction rate, dossiers early / on time / late / overdue and the centre's
  TT 01/2018 score (dossier-weighted mean of its officers' scores out of 18) — ranked by one measure;
- ``province``: the province's totals, each the sum of the centres' counts (rates are recomputed from
  the summed counts, never averaged), and the pooled wait percentiles, which no sum gives: they come
  from one more report over every centre's events at once.

Centres with no site file at the hub get the reports' defaults (15 min target, default mapping and
bands) and the report says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hub import HubError
from hub.config import Centre, HubConfig
from hub.store import HubStoreError, conninfo
from queue_server.reports import (
    EventLog,
    Period,
    Report,
    ReportError,
    ReportSettings,
    ReportSource,
    Table,
    build_report,
)
from queue_server.reports.tables import Column, Value, share

log = logging.getLogger(__name__)

HUB_LOG = EventLog("hub_events", site_column="site")
# Ranking measures: key -> (Vietnamese, English, higher is better).
RANKS: dict[str, tuple[str, str, bool]] = {
    "qd766_rate": ("Tỷ lệ hài lòng QĐ 766", "QĐ 766 satisfaction rate", True),
    "within_target": ("Tỷ lệ chờ trong mục tiêu", "share called within target", True),
    "p90_wait": ("Chờ P90", "P90 wait", False),
    "timely": ("Hồ sơ đúng hạn", "dossiers early or on time", True),
    "tt01": ("Điểm TT 01/2018", "TT 01/2018 score", True),
    "issued": ("Số đã phát", "tickets issued", True),
}
COUNTS: tuple[str, ...] = ("issued", "served", "waits", "within", "rated", "unsatisfied_ratings")
COUNTS += ("received", "early", "on_time", "late", "overdue", "open", "rated_unsatisfied")
#: Every column of the hub's centre ranking and province totals, once, by key.
_COLUMNS = {
    c.key: c
    for c in (
        Column("rank", "Hạng", "Rank"),
        Column("site", "Mã", "Site", "text"),
        Column("name", "Trung tâm", "Centre", "text"),
        Column("issued", "Đã phát", "Issued"),
        Column("served", "Đã phục vụ", "Served"),
        Column("p50_wait", "Chờ trung vị (phút)", "Median wait (min)", "minutes"),
        Column("p90_wait", "Chờ P90 (phút)", "P90 wait (min)", "minutes"),
        Column("target_min", "Mục tiêu (phút)", "Target (min)", "number"),
        Column("within_target", "Chờ trong mục tiêu", "Within target", "percent"),
        Column("rated", "Lượt đánh giá", "Ratings"),
        Column("satisfied_share", "Tỷ lệ hài lòng (lượt)", "Satisfied (ratings)", "percent"),
        Column("received", "Hồ sơ tiếp nhận", "Dossiers"),
        Column("early", "Trước hạn", "Early"),
        Column("on_time", "Đúng hạn", "On time"),
        Column("late", "Quá hạn", "Late"),
        Column("overdue", "Quá hạn chưa xong", "Overdue"),
        Column("qd766_rate", "Tỷ lệ hài lòng QĐ 766", "QĐ 766 rate", "percent"),
        Column("tt01", "Điểm TT 01 (/18)", "TT 01 score (/18)", "number"),
        Column("band", "Xếp loại", "Band", "text"),
        Column("centres", "Số trung tâm", "Centres"),
        Column("waits", "Lượt chờ đã gọi", "Waits measured"),
        Column("timely", "Đúng hạn (tỷ lệ)", "Early or on time", "percent"),
    )
}


def _columns(keys: str) -> list[Column]:
    """The columns named in ``keys`` (space-separated), in that order."""
    return [_COLUMNS[k] for k in keys.split()]


_CENTRE_COLS = _columns(
    "rank site name issued served p50_wait p90_wait target_min within_target rated "
    "satisfied_share received early on_time late overdue qd766_rate tt01 band"
)


class HubReportError(HubError):
    """A province report cannot be made as asked (unknown centre, bad period, unreadable site file)."""


@dataclass
class CentreFigures:
    """What the comparison table takes from one centre's report."""

    site: str
    name: str
    counts: dict[str, int]
    p50_wait: float | None
    p90_wait: float | None
    target_min: float
    tt01: float | None
    tt01_dossiers: int
    band: str

    def measure(self, key: str) -> float | None:
        """The value a ranking sorts by."""
        c = self.counts
        if key == "qd766_rate":
            return share(c["received"] - c["rated_unsatisfied"], c["received"])
        if key == "within_target":
            return share(c["within"], c["waits"])
        if key == "timely":
            return share(c["early"] + c["on_time"], c["early"] + c["on_time"] + c["late"] + c["overdue"])
        if key == "p90_wait":
            return self.p90_wait
        if key == "tt01":
            return self.tt01
        return float(c["issued"])

    def row(self, rank: int | None) -> list[Value]:
        c = self.counts
        return [
            rank, self.site, self.name, c["issued"], c["served"], self.p50_wait, self.p90_wait,
            self.target_min, share(c["within"], c["waits"]), c["rated"],
            share(c["rated"] - c["unsatisfied_ratings"], c["rated"]), c["received"], c["early"],
            c["on_time"], c["late"], c["overdue"], self.measure("qd766_rate"), self.tt01, self.band,
        ]  # fmt: skip


def figures_of(report: Report, site: str, name: str, target_min: float) -> CentreFigures:
    """The comparison row of one centre's report (its tables, by key)."""
    times = report.table("times").as_dicts()
    wait = next(r for r in times if r["measure"] == "wait")
    waits = int(wait["count"] or 0)
    within = round(float(wait["within_target"] or 0.0) * waits)
    by_counter = report.table("ratings_by_counter").as_dicts()
    counts = {
        "issued": _int(report.value("tickets", "issued")),
        "served": _int(report.value("tickets", "served")),
        "waits": waits,
        "within": within,
        "rated": sum(_int(r["rated"]) for r in by_counter),
        "unsatisfied_ratings": sum(_int(r["unsatisfied"]) for r in by_counter),
    }
    for key in ("received", "early", "on_time", "late", "overdue", "open", "rated_unsatisfied"):
        counts[key] = _int(report.value("dossiers", key))
    scored = [r for r in report.table("tt01").as_dicts() if r["of18"] is not None]
    dossiers = sum(_int(r["dossiers"]) for r in scored)
    weighted = sum(_int(r["dossiers"]) * float(r["of18"] or 0) for r in scored)
    bands = {str(r["band"]) for r in scored}
    return CentreFigures(
        site=site,
        name=name,
        counts=counts,
        p50_wait=_float(wait["p50"]),
        p90_wait=_float(wait["p90"]),
        target_min=target_min,
        tt01=weighted / dossiers if dossiers else None,
        tt01_dossiers=dossiers,
        band=bands.pop() if len(bands) == 1 else "",
    )


def _int(value: Value) -> int:
    return int(value or 0)


def _float(value: Value) -> float | None:
    return None if value is None else float(value)


class ProvinceReports:
    """Reports of one province's hub: per centre, and the comparison of all of them."""

    def __init__(self, config: HubConfig, url: str | None = None) -> None:
        self.config = config
        self.url = url or config.database.url
        self._settings: dict[str, ReportSettings] = {}
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            try:
                conninfo(self.url)  # a PostgreSQL URL, or an error that says so
            except HubStoreError as err:
                raise HubReportError(str(err)) from None
            parsed = sa.make_url(self.url)
            self._engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def settings(self, centre: Centre) -> ReportSettings:
        """The centre's rules: from its site file, read once; defaults (and the hub's zone) without."""
        if centre.site not in self._settings:
            self._settings[centre.site] = centre_settings(self.config, centre)
        return self._settings[centre.site]

    def centre(self, site: str) -> Centre:
        found = self.config.centre(site)
        if found is None:
            known = ", ".join(c.site for c in self.config.centres) or "none"
            raise HubReportError(f"centre {site!r} is not one of this hub's centres (known: {known})")
        return found

    def centre_report(self, site: str, period: Period, as_of: datetime | None = None) -> Report:
        """One centre's whole report, as its managers would get it at home."""
        centre = self.centre(site)
        settings = self.settings(centre)
        report = self._build(site, settings, period, as_of)
        if centre.site_file is None:
            report.warnings.append(_NO_SITE_FILE)
        return report

    def province_report(
        self, period: Period, as_of: datetime | None = None, rank: str = "qd766_rate"
    ) -> Report:
        """The comparison and ranking of every centre, and the province's totals."""
        if rank not in RANKS:
            raise HubReportError(f"rank {rank!r}: use one of {', '.join(RANKS)}")
        as_of = as_of or datetime.now(UTC)
        rows = []
        for centre in self.config.centres:
            settings = self.settings(centre)
            report = self._build(centre.site, settings, period, as_of)
            rows.append(figures_of(report, centre.site, centre.name, settings.conf.target_wait_min))
        pooled = self.pooled_report(period, as_of)
        result = Report(
            site=self.config.hub.province,
            site_name=self.config.hub.name,
            period=period.name,
            first_day=period.first.isoformat(),
            last_day=period.last.isoformat(),
            generated_at=as_of.astimezone(ZoneInfo(self.config.hub.timezone)).isoformat(timespec="seconds"),
            filters={"rank": rank},
        )
        result.tables = [centres_table(rows, rank), province_table(rows, pooled)]
        missing = [c.site for c in self.config.centres if c.site_file is None]
        if missing:
            result.warnings.append(f"{_NO_SITE_FILE}: {', '.join(missing)}")
        return result

    def pooled_report(self, period: Period, as_of: datetime | None = None) -> Report:
        """One report over every centre's events at once (the province's wait percentiles)."""
        hub = self.config.hub
        settings = ReportSettings(site_id=hub.province, site_name=hub.name, tz=ZoneInfo(hub.timezone))
        return self._build(None, settings, period, as_of)

    def _build(
        self, site: str | None, settings: ReportSettings, period: Period, as_of: datetime | None
    ) -> Report:
        source = ReportSource(self.engine(), HUB_LOG, site=site, writer=self.engine())
        try:
            return build_report(source, settings, period, as_of=as_of)
        except ReportError as err:
            raise HubReportError(f"report of {site or 'the province'}: {err}") from err


_NO_SITE_FILE = "Không có tệp cấu hình trung tâm, dùng mặc định / no site file at the hub, defaults used"


def centre_settings(config: HubConfig, centre: Centre) -> ReportSettings:
    """The report settings of ``centre``: its site file's, or the defaults in the hub's time zone."""
    if centre.site_file is None:
        return ReportSettings(site_id=centre.site, site_name=centre.name, tz=ZoneInfo(config.hub.timezone))
    from siteconf import SiteFileError, load_site

    try:
        site = load_site(centre.site_file)
    except SiteFileError as err:
        raise HubReportError(f"centre {centre.site}: its site file {err}") from err
    if site.site.id != centre.site:
        raise HubReportError(
            f"centre {centre.site}: its site file {centre.site_file} is of site {site.site.id!r}"
        )
    return ReportSettings.from_site(site)


def ranked(rows: list[CentreFigures], rank: str) -> list[tuple[int | None, CentreFigures]]:
    """Rows in rank order (1 is best); ties share a rank; centres without the measure come last unranked."""
    higher_better = RANKS[rank][2]
    have = [r for r in rows if r.measure(rank) is not None]
    lack = [r for r in rows if r.measure(rank) is None]
    sign = -1.0 if higher_better else 1.0
    have.sort(key=lambda r: (sign * (r.measure(rank) or 0.0), r.site))
    out: list[tuple[int | None, CentreFigures]] = []
    for i, row in enumerate(have):
        same = i > 0 and row.measure(rank) == have[i - 1].measure(rank)
        out.append((out[-1][0] if same else i + 1, row))
    return out + [(None, r) for r in sorted(lack, key=lambda r: r.site)]


def centres_table(rows: list[CentreFigures], rank: str) -> Table:
    vi, en, higher = RANKS[rank]
    order_vi, order_en = ("cao hơn", "higher") if higher else ("thấp hơn", "lower")
    return Table(
        "centres",
        "So sánh và xếp hạng các trung tâm",
        "Centres compared and ranked",
        f"Xếp hạng theo {vi} ({order_vi} xếp trước). Mỗi trung tâm theo quy định "
        "của chính nó (mục tiêu chờ, thang đánh giá, khung xếp loại). Điểm TT 01: trung bình điểm quy về "
        "18 của cán bộ, theo số hồ sơ.",
        f"Ranked by {en} ({order_en} first). Each centre by its own rules "
        "(target wait, rating mapping, bands). TT 01 score: officers' scores out of 18, weighted by their "
        "dossiers.",
        _CENTRE_COLS,
        [row.row(position) for position, row in ranked(rows, rank)],
    )


def province_totals(rows: list[CentreFigures]) -> dict[str, int]:
    """Every count summed over the centres."""
    return {key: sum(r.counts[key] for r in rows) for key in COUNTS}


_PROVINCE_COLS = _columns(
    "centres issued served waits p50_wait p90_wait within_target rated satisfied_share received "
    "early on_time late overdue timely qd766_rate tt01"
)


def province_table(rows: list[CentreFigures], pooled: Report) -> Table:
    """The province's totals (sums of the centres) and its pooled wait percentiles, in one row."""
    t = province_totals(rows)
    wait = next(r for r in pooled.table("times").as_dicts() if r["measure"] == "wait")
    timely = t["early"] + t["on_time"]
    scored = sum(r.tt01_dossiers for r in rows)
    tt01 = None if not scored else sum((r.tt01 or 0.0) * r.tt01_dossiers for r in rows) / scored
    row: list[Value] = [
        len(rows), t["issued"], t["served"], t["waits"], _float(wait["p50"]), _float(wait["p90"]),
        share(t["within"], t["waits"]), t["rated"], share(t["rated"] - t["unsatisfied_ratings"], t["rated"]),
        t["received"], t["early"], t["on_time"], t["late"], t["overdue"],
        share(timely, timely + t["late"] + t["overdue"]),
        share(t["received"] - t["rated_unsatisfied"], t["received"]), tt01,
    ]  # fmt: skip
    return Table(
        "province",
        "Tổng hợp toàn tỉnh",
        "Province totals",
        "Mỗi số đếm là tổng của các trung tâm; các tỷ lệ tính lại từ tổng, không lấy trung bình (chờ trong "
        "mục tiêu: theo mục tiêu của từng trung tâm); trung vị và P90 tính trên mọi lượt chờ của tỉnh; "
        "điểm TT 01 bình quân theo số hồ sơ.",
        "Every count is the sum of the centres'; rates are recomputed from the sums, never averaged "
        "(within target: each centre's own target); the median and P90 are over every wait in the "
        "province; the TT 01 score is weighted by dossiers.",
        _PROVINCE_COLS,
        [row],
    )
