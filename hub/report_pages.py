"""The province's reports on the hub dashboard: ``/reports`` and ``/reports/centre/{site}``.

Both take the period in the query (``kind=month&value=2026-11``; default: this month in the hub's
zone), the province page also ``rank`` (a measure of ``hub.reports.RANKS``), and ``format=csv|xlsx``
for a download made by the reports' own exports, so a figure reads the same on the page and in the
file. Pages are rendered like the dashboard's (Jinja2 auto-escaping, no script, the hub's CSP) and only
for a signed-in account of the hub's province; a bad period or centre gets a page naming it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from bus.topics import check_level
from hub.reports import RANKS, HubReportError, ProvinceReports
from queue_server.reports import Period, Report, ReportError
from queue_server.reports.export import csv_text, xlsx_bytes
from queue_server.reports.tables import show

if TYPE_CHECKING:
    from hub.web import _Pages

log = logging.getLogger(__name__)

KINDS = ("day", "week", "month", "quarter", "year", "custom")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportPages:
    """Routes of the reports, sharing the dashboard's templates, sessions and security headers."""

    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.reports = ProvinceReports(pages.config)
        pages.env.filters["cell"] = show

    def _period(self, request: Request) -> tuple[str, str, Period]:
        tz = ZoneInfo(self.pages.config.hub.timezone)
        kind = request.query_params.get("kind", "month")[:10]
        value = request.query_params.get("value", "")[:40] or datetime.now(tz).strftime("%Y-%m")
        if kind not in KINDS:
            raise ReportError(f"period kind {kind!r}: use one of {', '.join(KINDS)}")
        return kind, value, Period.parse(kind, value)

    def province(self, request: Request) -> Response:
        session = self.pages.session_of(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        rank = request.query_params.get("rank", "qd766_rate")
        try:
            kind, value, period = self._period(request)
            if rank not in RANKS:
                raise HubReportError(f"rank {rank[:40]!r}: use one of {', '.join(RANKS)}")
            report = self.reports.province_report(period, rank=rank)
        except (ReportError, HubReportError) as err:
            return self.pages.page("error.html", 400, session=session, message=str(err))
        query = {"kind": kind, "value": value, "rank": rank}
        download = _download(request, report, f"{self.pages.config.hub.province}-{period.name}")
        if download is not None:
            return download
        return self.pages.page(
            "reports.html", session=session, report=report, kind=kind, value=value, rank=rank,
            kinds=KINDS, ranks=RANKS, query=urlencode(query),
            period_query=urlencode({"kind": kind, "value": value}),
        )  # fmt: skip

    def centre(self, request: Request, site: str) -> Response:
        session = self.pages.session_of(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        try:
            check_level(site, "site id")
            self.reports.centre(site)
        except (ValueError, HubReportError):
            return self.pages.page("error.html", 404, session=session, message="No such centre.")
        try:
            kind, value, period = self._period(request)
            report = self.reports.centre_report(site, period)
        except (ReportError, HubReportError) as err:
            return self.pages.page("error.html", 400, session=session, message=str(err))
        download = _download(request, report, f"{site}-{period.name}")
        if download is not None:
            return download
        return self.pages.page(
            "report_centre.html", session=session, report=report, kind=kind, value=value, kinds=KINDS,
            site=site, query=urlencode({"kind": kind, "value": value}),
        )  # fmt: skip


def _download(request: Request, report: Report, name: str) -> Response | None:
    """The report as a file when ``format`` asks for one (the name holds only safe characters)."""
    fmt = request.query_params.get("format")
    if fmt not in ("csv", "xlsx"):
        return None
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    headers = {"Content-Disposition": f'attachment; filename="motcua-{safe}.{fmt}"'}
    if fmt == "csv":
        return Response(csv_text(report), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(xlsx_bytes(report), media_type=_XLSX, headers=headers)
