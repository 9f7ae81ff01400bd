"""Making a report: read the period's slice of the log, fold it, compute every table.

    settings = ReportSettings.from_site(site)
    with ReportSource.open(site.database.url) as source:
        report = build_report(source, settings, Period.parse("month", "2026-11"), Filters(counter=3))

A province hub passes ``ReportSource(engine, EventLog("hub_events", site_column="site"), site="xa-a")``
and the settings of that centre (or of the province, without a site filter).
"""

from __future__ import annotations

import gc
import logging
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from operator import attrgetter
from zoneinfo import ZoneInfo

from queue_server.calendar import CalendarError, WorkingCalendar
from queue_server.reports import figures, regulatory, staff
from queue_server.reports.columns import Tickets, from_facts
from queue_server.reports.errors import ReportError
from queue_server.reports.facts import Facts, TicketFact, fold
from queue_server.reports.period import Period
from queue_server.reports.quick import quick_columns, quick_facts
from queue_server.reports.source import ReportSource, Row
from queue_server.reports.tables import Report
from siteconf.model import Site
from siteconf.reports import AgencyScores, ReportsConf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filters:
    """Only the tickets of one service (as issued), or called at least once by a counter or officer."""

    service: str | None = None
    counter: int | None = None
    officer: str | None = None

    def keeps(self, t: TicketFact) -> bool:
        if self.service is not None and t.service != self.service:
            return False
        if self.counter is not None and self.counter not in t.counters():
            return False
        return self.officer is None or self.officer in t.officers()

    def shown(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class ReportSettings:
    """What a report needs to know of the centre (from its site file)."""

    site_id: str
    site_name: str
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    day_starts: time = time(0, 0)
    conf: ReportsConf = field(default_factory=ReportsConf)
    calendar: WorkingCalendar | None = None
    service_names: dict[str, str] = field(default_factory=dict)
    officer_names: dict[str, str] = field(default_factory=dict)
    counters: tuple[int, ...] = ()

    @classmethod
    def from_site(cls, site: Site) -> ReportSettings:
        office = site.with_office_hours()
        return cls(
            site_id=site.site.id,
            site_name=site.site.name,
            tz=ZoneInfo(site.site.timezone),
            day_starts=time.fromisoformat(site.queue.day_starts),
            conf=site.reports,
            calendar=WorkingCalendar.from_site(office),
            service_names={s.code: s.name for s in site.services},
            officer_names={o.id: o.name for o in site.kiosk.officers},
            counters=tuple(sorted(c.number for c in site.counters)),
        )

    def check(self, filters: Filters) -> None:
        """Refuse a service or counter the site file does not have (``ReportError`` lists the known ones).

        An officer is not checked: one who has left the centre is no longer in the site file, yet the
        tickets they called are still theirs to report on.
        """
        if filters.service is not None and filters.service not in self.service_names:
            known = ", ".join(self.service_names)
            raise ReportError(f"service {filters.service!r}: the site has no such service (known: {known})")
        if filters.counter is not None and filters.counter not in self.counters:
            known = ", ".join(map(str, self.counters))
            raise ReportError(f"counter {filters.counter}: the site has no such counter (known: {known})")

    def working_days(self, period: Period) -> dict[date, bool]:
        """Each day of the period and whether the centre works on it (holidays off, làm bù on)."""
        out = {}
        for day in period.days():
            try:
                out[day] = self.calendar.is_working_day(day) if self.calendar else day.weekday() < 5
            except CalendarError:
                out[day] = day.weekday() < 5
        return out


def build_report(
    source: ReportSource,
    settings: ReportSettings,
    period: Period,
    filters: Filters = Filters(),
    *,
    as_of: datetime | None = None,
    officer_names: bool = False,
) -> Report:
    """The whole report of ``period``. ``as_of`` (default now) decides which dossiers are overdue and
    until when open counters count; ``officer_names`` adds names (for the manager role only)."""
    started = clock.perf_counter()
    now = (as_of or datetime.now(UTC)).timestamp()
    start, end = period.bounds(settings.tz, settings.day_starts)
    source.prepare()
    # Reading and folding allocate a million small objects and free none: the cyclic collector would
    # walk them again and again (a third of the time), and there is no cycle to collect.
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows: list[Row] = []
        columns: Tickets | None = None
        tz, day_starts = settings.tz, settings.day_starts
        found: tuple[Facts, Tickets] | None = None
        facts: Facts | None
        with source.snapshot() as conn:
            # Without filters the tables come from the projection's columns, no object per ticket.
            if filters == Filters():
                found = quick_columns(source, conn, period, tz=tz, day_starts=day_starts, until=now)
            if found is not None:
                facts, columns = found
            else:
                facts = quick_facts(source, conn, period, tz=tz, day_starts=day_starts, until=now)
            if facts is None:
                rows = source.read(conn, start, end)
        if facts is None:
            facts = fold(rows, period, settings.tz, settings.day_starts, now)
        report = assemble(
            facts, settings, period, filters, now=now, officer_names=officer_names, columns=columns
        )
        n = len(facts.tickets) if columns is None else len(columns)
        how = f"{len(rows)} events" if rows else f"{n} projected tickets"
        # Freed here, by their reference counts: the collector, once enabled again, would first walk
        # every object made while it was off (its youngest generation, a million for a year: 0.3 s).
        del facts, rows, columns
    finally:
        if collecting:
            gc.enable()
    log.info("report %s: %s in %.2f s", period.name, how, clock.perf_counter() - started)
    return report


def assemble(
    facts: Facts,
    settings: ReportSettings,
    period: Period,
    filters: Filters,
    *,
    now: float,
    officer_names: bool,
    columns: Tickets | None = None,
) -> Report:
    """Every table from the folded facts; ``columns``: their tickets as columns already (the facts then
    hold no tickets, and only a report without filters comes this way)."""
    conf, tz = settings.conf, settings.tz
    names = settings.officer_names if officer_names else None
    everything = filters == Filters()
    if columns is not None:
        tickets = columns
    else:
        kept = facts.tickets.values() if everything else filter(filters.keeps, facts.tickets.values())
        tickets = from_facts(list(kept))
    working = settings.working_days(period)
    report = Report(
        site=settings.site_id,
        site_name=settings.site_name,
        period=period.name,
        first_day=period.first.isoformat(),
        last_day=period.last.isoformat(),
        generated_at=datetime.fromtimestamp(now, tz).isoformat(timespec="seconds"),
        filters=filters.shown(),
    )
    load, cells = figures.load(tickets, tz)
    # Sorted once here: the tables below sort them again, which takes a single look when in order.
    wait_s, service_s = figures.sorted_waits(tickets), figures.sorted_services(tickets)
    report.tables += [
        figures.ticket_counts(tickets, sum(working.values()), len(tickets.tally.issued_by_day)),
        figures.time_stats(wait_s, service_s, conf.target_wait_min * 60),
        figures.bins(wait_s, service_s),
        figures.estimate_error(tickets, conf.estimate_tolerance_min * 60),
        figures.by_service(tickets, settings.service_names),
        load,
        figures.counters_vs_waiting(facts),
        figures.daily(tickets, working),
        staff.officers(tickets, facts, names),
        staff.counters(tickets),
        figures.rule_versions(tickets),
    ]
    report.tables += regulatory.ratings(tickets, conf, names)
    if everything:
        dossiers, every = list(facts.dossiers.values()), tickets
    else:  # the dossiers' tickets, whatever the filters: those a kept dossier was received on
        every_fact = list(facts.tickets.values())
        by_code = dict(zip(map(attrgetter("site", "day", "code"), every_fact), every_fact, strict=True))
        dossiers = [d for d in facts.dossiers.values() if _dossier_kept(d, by_code, filters)]
        linked = (by_code.get((d.site, d.day, d.ticket or "")) for d in dossiers)
        every = from_facts(list({id(t): t for t in linked if t is not None}.values()))
    scores = regulatory.score_dossiers(dossiers, every, conf, now, tz)
    report.tables += regulatory.dossier_tables(scores, tz, now)
    report.tables.append(regulatory.tt01(scores, _agency(conf, period), conf, names))
    report.charts = {"cells": cells, "peak_waiting": facts.peak_waiting, "peak_at": facts.peak_at}
    if facts.peak_at is not None:
        report.warnings.append(
            f"Đỉnh người chờ (cả trung tâm) / peak waiting (whole centre): {facts.peak_waiting} lúc "
            f"{datetime.fromtimestamp(facts.peak_at, tz):%Y-%m-%d %H:%M}"
        )
    return report


def _dossier_kept(d: object, by_code: dict[tuple[str, str, str], TicketFact], filters: Filters) -> bool:
    from queue_server.reports.facts import DossierFact

    assert isinstance(d, DossierFact)
    if filters == Filters():
        return True
    ticket = by_code.get((d.site, d.day, d.ticket or ""))
    if filters.counter is not None and d.counter == filters.counter:
        return filters.service is None and filters.officer is None
    return ticket is not None and filters.keeps(ticket)


def _agency(conf: ReportsConf, period: Period) -> AgencyScores:
    """The manager's per-agency scores: the period's quarter, else its year."""
    quarters = period.quarters()
    if len(quarters) == 1 and quarters[0] in conf.agency_scores:
        return conf.agency_scores[quarters[0]]
    return conf.agency_scores.get(str(period.first.year), AgencyScores())
