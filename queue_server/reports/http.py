"""The ``/reports`` page for managers (Vietnamese with English), its charts and its downloads.

    GET  /reports?kind=month&value=2026-11&service=&counter=&officer=    the report as a page
    GET  /reports/chart/{name}.svg?<same query>                           a chart (matplotlib SVG)
    GET  /reports/export.{csv|xlsx|pdf}?<same query>                      the report as a file
    GET  /reports/static/reports.css

Open to a manager's or supervisor's account, logged in at ``/login`` (the console's session cookie),
and to an integration's API key with the ``read`` scope (``Authorization: Bearer <key>``). No or wrong
credentials: 401 and the way to log in; another role, or a key without that scope: 403. Pages are
Jinja2 templates with auto-escaping, no script at all, and a Content-Security-Policy that allows
nothing but this server's own styles and images. Reports are made in a process of their own (one,
kept for the next report) on the reporting module's own database connection: never the queue
engine's memory, never its interpreter lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from queue_server.access import Access
from queue_server.accounts import Role
from queue_server.console import COOKIE as SESSION_COOKIE
from queue_server.reports.build import Filters, ReportSettings, build_report
from queue_server.reports.charts import CHARTS, draw
from queue_server.reports.errors import ReportError
from queue_server.reports.period import KINDS, Period
from queue_server.reports.source import ReportSource
from queue_server.reports.tables import Report, show

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CACHE_S = 60.0


class _Reports:
    """Makes reports on its own connection and keeps the last few for the page's charts."""

    def __init__(self, queries: object) -> None:
        self._queries = queries
        self._url: str | None = None
        self.settings: ReportSettings | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Report]] = {}

    def resolve(self) -> ReportSettings | None:
        """The server's store URL and site, looked up on first use (the OpenAPI export has neither)."""
        if self.settings is None:
            try:
                store, site = self._queries.store, self._queries.site  # type: ignore[attr-defined]
            except (AttributeError, RuntimeError):
                return None
            self._url, self.settings = str(store.url), ReportSettings.from_site(site)
        return self.settings

    def get(self, period: Period, filters: Filters) -> Report:
        self.resolve()
        if self._url is None or self.settings is None:
            raise ReportError("this server has no store to report on")
        self.settings.check(filters)
        key = f"{period.first}|{period.last}|{period.name}|{filters}"
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < CACHE_S:
                return hit[1]
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        try:
            report = self._pool.submit(make_report, self._url, self.settings, period, filters).result()
        except BrokenProcessPool as err:
            with self._lock:
                self._pool = None
            raise ReportError("the report process stopped; try again") from err
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if time.monotonic() - v[0] < CACHE_S}
            self._cache[key] = (time.monotonic(), report)
        return report


def make_report(url: str, settings: ReportSettings, period: Period, filters: Filters) -> Report:
    """One report, in the page's report process: its reading and folding hold that process's
    interpreter lock, never the queue server's (a report in a thread of the server raised the
    worker's commit p99 from ~1 ms to ~75 ms in bench/reports.py)."""
    with ReportSource.open(url) as source:
        return build_report(source, settings, period, filters, officer_names=True)


def _templates() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = Path(str(resources.files("queue_server.reports").joinpath("templates")))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"]))
    env.filters["cell"] = show
    return env


def reports_router(queries: object, access: Access | None) -> APIRouter:
    """The /reports routes over the store of ``queries`` (the queue server: its ``store`` and ``site``).

    Open to a logged-in manager or supervisor (the console's session) and to an integration's API key
    with the ``read`` scope (``Authorization: Bearer``); without ``access`` (no accounts) they are off.
    """
    pages = _Pages(_Reports(queries), access)
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/reports", pages.report_page, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route("/reports/chart/{name}.svg", pages.chart, methods=["GET"])
    router.add_api_route("/reports/export.{fmt}", pages.export, methods=["GET"])
    router.add_api_route("/reports/static/reports.css", _css, methods=["GET"])
    return router


Authorization = Annotated[str | None, Header()]
KeyCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]
READERS = frozenset({Role.MANAGER, Role.SUPERVISOR})
READABLE = "reports are for managers, supervisors and API keys with the read scope"
LOGIN = "reports need a manager's login or an API key with the read scope (Authorization: Bearer)"


class _Pages:
    """The route handlers: the key check, the page, the login form, charts and downloads."""

    def __init__(self, reports: _Reports, access: Access | None) -> None:
        self.reports, self.access = reports, access
        self.env = _templates()

    def refusal(self, authorization: str | None, cookie: str | None) -> tuple[int, str] | None:
        """Why the asker may not see reports, as a status and a message; ``None``: they may.

        401 without credentials or with wrong ones; 403 for an officer whose role is not a manager's
        or supervisor's, or an API key without the ``read`` scope (the rest of the server's rule).
        """
        if self.access is None:
            return 401, "reports are off: the server has no officer accounts"
        session = self.access.sessions.get(cookie)
        if session is not None:
            role = session.officer.role
            if role in READERS:
                return None
            return 403, f"an officer with the {role.value} role may not see reports ({READABLE})"
        if not authorization:
            return 401, LOGIN
        try:
            self.access.require("read", authorization)
        except HTTPException as err:
            if err.status_code == 403:
                return 403, f"this API key lacks the read scope that reports need ({READABLE})"
            return 401, LOGIN
        return None

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        settings = self.reports.resolve()
        name = settings.site_name if settings is not None else ""
        html = self.env.get_template(template).render(site_name=name, **values)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    async def report_page(
        self, request: Request, authorization: Authorization = None, cookie: KeyCookie = None
    ) -> HTMLResponse:
        refused = self.refusal(authorization, cookie)
        if refused is not None:
            status, message = refused
            forbidden = message if status == 403 else None
            return self.page("login.html", status, keyless=self.access is None, forbidden=forbidden)
        query = dict(request.query_params)
        try:
            period, filters = _parse(query)
            report = await run_in_threadpool(self.reports.get, period, filters)
        except ReportError as err:
            return self.page("report.html", 400, error=str(err), query=query, kinds=KINDS, report=None)
        shown = urlencode({k: v for k, v in query.items() if v})
        return self.page("report.html", query=query, kinds=KINDS, report=report, charts=CHARTS, qs=shown)

    async def chart(
        self, name: str, request: Request, authorization: Authorization = None, cookie: KeyCookie = None
    ) -> Response:
        report = await self.authorised_report(request, authorization, cookie)
        if name not in CHARTS:
            raise HTTPException(404, f"no chart {name!r}; charts: {', '.join(CHARTS)}")
        svg = await run_in_threadpool(draw, report, name, "svg")
        return Response(svg, media_type="image/svg+xml", headers=_HEADERS)

    async def export(
        self, fmt: str, request: Request, authorization: Authorization = None, cookie: KeyCookie = None
    ) -> Response:
        if fmt not in _TYPES:
            raise HTTPException(404, f"no export as {fmt!r}: csv, xlsx or pdf")
        report = await self.authorised_report(request, authorization, cookie)
        body = await run_in_threadpool(_export, report, fmt)
        name = f"bao-cao-{report.site}-{report.first_day}-{report.last_day}.{fmt}"
        headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type=_TYPES[fmt], headers=headers)

    async def authorised_report(
        self, request: Request, authorization: str | None, cookie: str | None
    ) -> Report:
        refused = self.refusal(authorization, cookie)
        if refused is not None:
            raise HTTPException(*refused)
        try:
            period, filters = _parse(dict(request.query_params))
            return await run_in_threadpool(self.reports.get, period, filters)
        except ReportError as err:
            raise HTTPException(400, str(err)) from err


def _css() -> Response:
    text = resources.files("queue_server.reports").joinpath("templates/reports.css").read_text("utf-8")
    return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


def _parse(query: dict[str, str]) -> tuple[Period, Filters]:
    """Period and filters from the page's query; ``ReportError`` names the bad field."""
    kind = query.get("kind") or "month"
    value = query.get("value") or time.strftime("%Y-%m")
    period = Period.parse(kind, value)
    counter_text = (query.get("counter") or "").strip()
    if counter_text and not counter_text.isdigit():
        raise ReportError(f"counter {counter_text!r}: give a counter number")
    return period, Filters(
        service=(query.get("service") or "").strip() or None,
        counter=int(counter_text) if counter_text else None,
        officer=(query.get("officer") or "").strip() or None,
    )


def _export(report: Report, fmt: str) -> bytes:
    from queue_server.reports.export import csv_text, xlsx_bytes

    if fmt == "csv":
        return ("\ufeff" + csv_text(report)).encode("utf-8")  # the BOM makes Excel read UTF-8
    if fmt == "xlsx":
        return xlsx_bytes(report)
    from queue_server.reports.pdf import pdf_bytes

    return pdf_bytes(report)
