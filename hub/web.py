"""The province dashboard over HTTP (FastAPI): sign-in, every centre at a glance, one centre in detail.

Pages are Jinja2 templates with auto-escaping and no script at all (they refresh themselves with a
meta refresh); styles come from the package; every answer carries a strict Content-Security-Policy.
The session cookie is HttpOnly and SameSite=Strict; every POST carries a CSRF token (the session's, or
for the sign-in form a double-submit cookie). Only accounts of the hub's province see anything.
``/api/overview`` gives the same figures as JSON for other tools; ``/reports`` (``hub.report_pages``)
compares and ranks the centres over a period.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from bus.topics import check_level
from hub import views
from hub.auth import Accounts, Session, same
from hub.config import HubConfig
from hub.report_pages import ReportPages
from hub.reports import HubReportError, centre_settings
from hub.store import HubStore

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)
SESSION_COOKIE = "motcua_hub_session"
LOGIN_CSRF_COOKIE = "motcua_hub_login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_MAX_FORM = 4096


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:  # more fields than any of our forms has: treat as an empty (refused) form
        return {}
    return {k: v[-1] for k, v in fields.items()}


def _day_rules(config: HubConfig) -> dict[str, views.DayRule]:
    """Each centre's business day as its site file counts it (read once, when the hub starts)."""
    rules: dict[str, views.DayRule] = {}
    for centre in config.centres:
        try:
            settings = centre_settings(config, centre)
        except HubReportError as err:
            log.warning("%s; its tickets of today are counted from midnight", err)
            continue
        rules[centre.site] = views.DayRule(settings.tz, settings.day_starts)
    return rules


class _Pages:
    """The dashboard's pages and forms for one province's hub (routes are bound methods)."""

    def __init__(self, config: HubConfig, store: HubStore) -> None:
        self.config = config
        self.store = store
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
        )
        self.accounts = Accounts(store)
        self.default_day = views.DayRule(ZoneInfo(config.hub.timezone))
        self.day_rules = _day_rules(config)

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(hub=self.config.hub, **values)
        return HTMLResponse(html, status_code=status)

    def session_of(self, request: Request) -> Session | None:
        found = self.accounts.session(request.cookies.get(SESSION_COOKIE))
        return found if found is not None and found.user.province == self.config.hub.province else None

    def login_form(self, request: Request, failed: int = 0) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = self.page("login.html", csrf=token, failed=bool(failed))
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", max_age=900,
        )  # fmt: skip
        return response

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        if not same(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return self.page("error.html", 403, message="The sign-in form expired; open it again.")
        found = self.accounts.login(form.get("username", "")[:64], form.get("password", "")[:200])
        if found is None:
            return RedirectResponse("/login?failed=1", status_code=303)
        token, session = found
        if session.user.province != self.config.hub.province:
            self.accounts.logout(token)
            return self.page("error.html", 403, message="This account belongs to another province.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session_of(request)
        form = await _form(request)
        if session is None or not same(form.get("csrf"), session.csrf):
            return self.page("error.html", 403, message="Sign-out refused: missing or wrong form token.")
        self.accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    def province(self, request: Request) -> Response:
        session = self.session_of(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        centres = views.overview(self.store, self.day_rules, self.default_day)
        return self.page("overview.html", session=session, centres=centres, totals=views.totals(centres))

    def centre(self, request: Request, site: str) -> Response:
        session = self.session_of(request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        try:
            check_level(site, "site id")
        except ValueError:
            return self.page("error.html", 404, message="No such centre.")
        found = views.overview(self.store, self.day_rules, self.default_day, site)
        if not found:
            return self.page("error.html", 404, message="No such centre.")
        return self.page("centre.html", session=session, c=found[0], held=views.held_events(self.store, site))

    def api_overview(self, request: Request) -> Response:
        if self.session_of(request) is None:
            return JSONResponse({"error": "sign in first"}, status_code=401)
        centres = views.overview(self.store, self.day_rules, self.default_day)
        rows = [
            {
                **dataclasses.asdict(c),
                "link_state": c.link_state,
                "alerts": c.alerts,
                "counters_open": c.counters_open,
            }
            for c in centres
        ]
        return JSONResponse(
            {"province": self.config.hub.province, "totals": views.totals(centres), "centres": rows}
        )


def create_app(config: HubConfig, store: HubStore) -> FastAPI:
    """The dashboard app for one province's hub."""
    app = FastAPI(title=f"motcua hub {config.hub.province}", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = _Pages(config, store)
    app.get("/login", response_class=HTMLResponse)(pages.login_form)
    app.post("/login")(pages.login)
    app.post("/logout")(pages.logout)
    app.get("/", response_class=HTMLResponse)(pages.province)
    app.get("/centre/{site}", response_class=HTMLResponse)(pages.centre)
    app.get("/api/overview")(pages.api_overview)
    reports = ReportPages(pages)
    app.get("/reports", response_class=HTMLResponse)(reports.province)
    app.get("/reports/centre/{site}", response_class=HTMLResponse)(reports.centre)
    return app


class HttpServer:
    """uvicorn in a background thread of the hub's process."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hub-http", daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self, timeout: float = 10.0) -> HttpServer:
        self._thread.start()
        started = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self._server.started:
                return self
            started.wait(0.02)
        raise RuntimeError(f"the hub dashboard did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
