"""The queue server's HTML pages and what keeps them safe in a browser.

Every page is a Jinja2 template from ``queue_server/templates/`` rendered with auto-escaping, so a
site name, a service name or a device's error text is always text, never markup. Pages carry no
inline script: their scripts are static files under ``/static/`` that build the DOM with
``textContent`` and read what the server hands them from ``data-`` attributes (escaped like any other
attribute) or from the JSON API. Every response carries a Content-Security-Policy that allows scripts
only from the server itself, ``frame-ancestors 'none'``, ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy`` (a ticket's token is in its page's URL and must not leak to another site).

``/docs`` (Swagger UI) and ``/redoc`` load their assets from the installed ``fastapi_offline``
package, so they work on a centre's network without Internet access.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from queue_server.public import Public
from queue_server.views import DossierView, TicketView

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Swagger UI and ReDoc set style attributes; no page lets data become a style.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_TEMPLATES = Environment(
    loader=PackageLoader("queue_server", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

STATUS_VI = {
    "waiting": "Đang chờ",
    "called": "Đã được gọi",
    "parked": "Tạm giữ",
    "no_show": "Vắng mặt khi được gọi",
    "done": "Đã phục vụ",
    "cancelled": "Đã hủy",
    "expired": "Hết hạn",
}


class PageQueries(Protocol):
    """What the pages need from the queue server."""

    def ticket_view(self, token: str) -> TicketView | None: ...
    def dossier_view(self, code: str) -> DossierView | None: ...


def render(template: str, **context: object) -> str:
    """``template`` rendered with auto-escaping: every value is text unless the template says otherwise."""
    return _TEMPLATES.get_template(template).render(**context)


def secure(app: FastAPI) -> None:
    """Add the security headers to every response of ``app`` and serve the pages' static files."""

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith(("/console", "/dashboard", "/login", "/api/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # The more specific mount first: ``/static`` would otherwise answer ``/static/docs/...`` with 404.
    app.mount("/static/docs", StaticFiles(directory=_docs_assets()), name="docs-assets")
    app.mount("/static", StaticFiles(directory=_package_dir("static")), name="static")


def _package_dir(name: str) -> str:
    return str(resources.files("queue_server").joinpath(name))


def _docs_assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def page_routes(queries: PageQueries, site_name: str, public: Public) -> APIRouter:
    """The HTML pages: a ticket's and a dossier's QR pages, the staff dashboard, the counter console,
    the API docs. The public pages are rate-limited like the public API."""
    router = APIRouter(include_in_schema=False)
    limited = [Depends(public.limit)]

    @router.get("/d/{code}", response_class=HTMLResponse, dependencies=limited)
    def dossier_page(code: str, k: str | None = None) -> HTMLResponse:
        """What the QR on a dossier receipt opens: the dossier's status and appointment."""
        code = code.strip().upper()[:40]
        view = queries.dossier_view(code)
        if view is None or not public.lookup_keys.matches(code, k):
            return HTMLResponse(
                render("dossier.html", site=site_name, code=code, dossier=None), status_code=404
            )
        return HTMLResponse(render("dossier.html", site=site_name, code=code, dossier=view))

    @router.get("/t/{token}", response_class=HTMLResponse, dependencies=limited)
    def ticket_page(token: str) -> HTMLResponse:
        """What the QR on a ticket opens: the number, where it stands, refreshed every 15 s."""
        view = queries.ticket_view(token)
        if view is None:
            return HTMLResponse(render("ticket.html", site=site_name, ticket=None), status_code=404)
        status = STATUS_VI.get(view.status, view.status)
        return HTMLResponse(render("ticket.html", site=site_name, ticket=view, status=status))

    @router.get("/dashboard", response_class=HTMLResponse)
    def dashboard() -> HTMLResponse:
        return HTMLResponse(render("dashboard.html", site=site_name))

    @router.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(render("docs.html", title="motcua — API"))

    @router.get("/redoc", response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return HTMLResponse(render("redoc.html", title="motcua — API"))

    return router
