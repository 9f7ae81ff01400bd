"""The ``/reports`` page for managers (Vietnamese with English), its charts and its downloads.

    GET  /reports?kind=month&value=2026-11&service=&counter=&officer=    the report as a page
    GET  /reports/chart/{name}.svg?<same query>                           a chart (matplotlib SVG)
    GET  /reports/export.{csv|xlsx|pdf}?<same query>                      the report as a file
    POST /reports/login   (form: key)                                     keeps the key in a cookie
    GET  /reports/static/reports.css

Until officer accounts exist, the page is behind the server's API key (a manager holds it): sent as
``Authorization: Bearer <key>`` or typed once into the login form, which keeps it in an HttpOnly,
SameSite=Strict cookie limited to ``/reports``. Pages are Jinja2 templates with auto-escaping, no
script at all, and a Content-Security-Policy that allows nothing but this server's own styles and
images. Reports are made in a process of their own (one, kept for the next report) on the reporting
module's own database connection: never the queue engine's memory, never its interpreter lock.
"""

from __future__ import annotations

import hmac
import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Cookie, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from queue_server.reports.build import Filters, ReportSettings, build_report
from queue_server.reports.charts import CHARTS, draw
from queue_server.reports.errors import ReportError
from queue_server.reports.period import KINDS, Period
from queue_server.reports.source import ReportSource
from queue_server.reports.tables import Report, show

log = logging.getLogger(__name__)

COOKIE = "motcua_reports"
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


def reports_router(queries: object, api_key: str | None) -> APIRouter:
    """The /reports routes over the store of ``queries`` (the queue server: its ``store`` and ``site``)."""
    pages = _Pages(_Reports(queries), api_key)
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/reports", pages.report_page, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route("/reports/login", pages.login, methods=["POST"])
    router.add_api_route("/reports/chart/{name}.svg", pages.chart, methods=["GET"])
    router.add_api_route("/reports/export.{fmt}", pages.export, methods=["GET"])
    router.add_api_route("/reports/static/reports.css", _css, methods=["GET"])
    return router


Authorization = Annotated[str | None, Header()]
KeyCookie = Annotated[str | None, Cookie(alias=COOKIE)]


class _Pages:
    """The route handlers: the key check, the page, the login form, charts and downloads."""

    def __init__(self, reports: _Reports, api_key: str | None) -> None:
        self.reports, self.api_key = reports, api_key
        self.env = _templates()

    def allowed(self, authorization: str | None, cookie: str | None) -> bool:
        if self.api_key is None:
            return False
        scheme, _, given = (authorization or "").partition(" ")
        candidates = [given] if scheme.lower() == "bearer" else []
        candidates += [cookie] if cookie else []
        return any(hmac.compare_digest(c.encode(), self.api_key.encode()) for c in candidates)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        settings = self.reports.resolve()
        name = settings.site_name if settings is not None else ""
        html = self.env.get_template(template).render(site_name=name, **values)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    async def report_page(
        self, request: Request, authorization: Authorization = None, cookie: KeyCookie = None
    ) -> HTMLResponse:
        if not self.allowed(authorization, cookie):
            return self.page("login.html", 401, keyless=self.api_key is None)
        query = dict(request.query_params)
        try:
            period, filters = _parse(query)
            report = await run_in_threadpool(self.reports.get, period, filters)
        except ReportError as err:
            return self.page("report.html", 400, error=str(err), query=query, kinds=KINDS, report=None)
        shown = urlencode({k: v for k, v in query.items() if v})
        return self.page("report.html", query=query, kinds=KINDS, report=report, charts=CHARTS, qs=shown)

    async def login(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        key = (form.get("key") or [""])[0]
        if self.api_key is None or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return self.page("login.html", 401, wrong=True, keyless=self.api_key is None)
        redirect = RedirectResponse("/reports", status_code=303, headers=_HEADERS)
        redirect.set_cookie(COOKIE, key, httponly=True, samesite="strict", path="/reports", max_age=8 * 3600)
        return redirect

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
        if not self.allowed(authorization, cookie):
            raise HTTPException(401, "reports need the API key (Authorization: Bearer <key>, or log in)")
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
