"""The queue server's HTTP API (FastAPI) and the counter console page.

- ``GET /api/v1/tickets/{token}``: a ticket followed by its QR (the token is unguessable, the number is
  not, so there is no lookup by number); no personal data.
- ``GET /api/v1/queues``, ``GET /api/v1/counters``, ``GET /api/v1/counters/{n}``: what the hall board
  and the dashboards show.
- ``POST /api/v1/counters/{n}/actions``: a clerk's operation, run exactly like the MQTT
  ``req/counter`` (same checks, same transaction, same idempotency by ``request_id``). Needs
  ``Authorization: Bearer <key>``, the key coming from ``MOTCUA_API_KEY`` or the file named by
  ``MOTCUA_API_KEY_FILE``; without a configured key, operations over HTTP are refused.
- ``GET /api/v1/dossiers/{code}``: where a dossier stands and its appointment date (lookup kiosks).
- ``POST /api/v1/dossiers``: a counter registers a received dossier; the server dates the appointment
  in working time (same key as counter operations).
- ``/api/v1/dossiers/{code}/uploads``, ``/api/v1/uploads/{id}``, ``/api/v1/dossiers/{code}/files``: the
  store of scanned dossiers (``queue_server/dossiers.py``: chunked, resumable, hash-checked uploads).
- ``GET /t/{token}``: the page a ticket's QR opens (``public_url`` + token), refreshed while waiting.
- ``GET /api/v1/devices`` and ``GET /dashboard``: every device's availability and health for staff.
- ``GET /console/{n}``: the counter console for clerks without a keypad.

The OpenAPI document is exported to ``docs/http/openapi.json`` by ``motcua http openapi``.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bus import models as m
from queue_server.reports.http import reports_router
from queue_server.views import CounterView, DeviceView, DossierView, QueueView, TicketView

log = logging.getLogger(__name__)

API_KEY_ENV = "MOTCUA_API_KEY"
DOSSIER_CODE = re.compile(r"[0-9A-Z]{1,5}(\.[0-9A-Z]{1,5}){0,4}-[0-9]{6}-[0-9]{4,7}")
API_KEY_FILE_ENV = "MOTCUA_API_KEY_FILE"


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CounterOperation(_View):
    """A clerk's operation; the fields mean what they mean in the MQTT ``req/counter``."""

    action: m.CounterAction
    request_id: str | None = Field(default=None, min_length=8, max_length=64, description="for retries")
    officer: str | None = None
    ticket: str | None = None
    to_service: str | None = None
    to_counter: int | None = None
    position: m.TransferPosition = m.TransferPosition.BACK


class DossierRegistration(_View):
    request_id: str | None = Field(default=None, min_length=8, max_length=64, description="for retries")
    code: str | None = Field(default=None, description="absent: the server allocates the next code")
    procedure: str
    days: int = Field(ge=0, le=365, description="processing time in working days")
    counter: int | None = None
    ticket: str | None = None


class Problem(_View):
    detail: str


class QueueQueries(Protocol):
    """What the HTTP API needs from the queue server."""

    def ticket_view(self, token: str) -> TicketView | None: ...
    def dossier_view(self, code: str) -> DossierView | None: ...
    def queue_views(self) -> list[QueueView]: ...
    def counter_views(self) -> list[CounterView]: ...
    def device_views(self) -> list[DeviceView]: ...
    def handle(self, request: m.CounterRequest | m.RegisterDossier) -> m.Response: ...


def configured_api_key() -> str | None:
    key = os.environ.get(API_KEY_ENV)
    path = os.environ.get(API_KEY_FILE_ENV)
    if not key and path:
        key = Path(path).read_text(encoding="utf-8").strip()
    return key or None


def create_app(
    queries: QueueQueries,
    api_key: str | None = None,
    site_name: str = "",
    dossier_dir: Path | None = None,
) -> FastAPI:
    """The API over ``queries``; with ``dossier_dir``, also the store of scanned dossier PDFs.

    Each group of routes is its own router; a new group joins with one ``app.include_router``.
    """
    app = FastAPI(
        title="motcua queue server",
        version="1",
        description="Tickets, queues and counter operations of a one-stop centre.",
        responses={404: {"model": Problem}},
    )
    authorise = _authoriser(api_key)
    app.include_router(_read_routes(queries))
    app.include_router(_operation_routes(queries, authorise))
    if dossier_dir is not None:

        def require_key(authorization: Annotated[str | None, Header()] = None) -> None:
            authorise(authorization)

        mount_dossier_store(app, dossier_dir, require_key)
    app.include_router(_page_routes(queries, site_name))
    app.include_router(reports_router(queries, api_key))
    return app


def _authoriser(api_key: str | None) -> Callable[[str | None], None]:
    """The check of an ``Authorization`` header against the configured key (none: operations off)."""

    def authorise(authorization: str | None) -> None:
        if api_key is None:
            raise HTTPException(403, "counter operations over HTTP are off: the server has no API key")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key (Authorization: Bearer <key>)")

    return authorise


def _read_routes(queries: QueueQueries) -> APIRouter:
    """Tickets, dossiers, queues, counters and devices as the boards, kiosks and dashboards read them."""
    router = APIRouter()

    @router.get("/api/v1/tickets/{token}", response_model=TicketView, tags=["tickets"])
    def ticket(token: str) -> TicketView:
        """The ticket whose QR carries ``token``."""
        view = queries.ticket_view(token)
        if view is None:
            raise HTTPException(404, "no ticket with this token today")
        return view

    @router.get(
        "/api/v1/dossiers/{code}",
        response_model=DossierView,
        tags=["dossiers"],
        responses={422: {"model": Problem}},
    )
    def dossier(code: str) -> DossierView:
        """Where a dossier stands, by the code on its receipt (typed, or read from the receipt's QR)."""
        code = code.strip().upper()
        if not DOSSIER_CODE.fullmatch(code):
            raise HTTPException(
                422, f"{code!r} is not a dossier code: agency-yymmdd-sequence, e.g. H21.65-220914-0011"
            )
        view = queries.dossier_view(code)
        if view is None:
            raise HTTPException(404, f"no dossier {code}")
        return view

    _board_routes(router, queries)
    return router


def _board_routes(router: APIRouter, queries: QueueQueries) -> None:
    """Queues, counters and devices: lists for the hall board and the staff dashboard."""

    @router.get("/api/v1/queues", response_model=list[QueueView], tags=["queues"])
    def queues() -> list[QueueView]:
        return queries.queue_views()

    @router.get("/api/v1/counters", response_model=list[CounterView], tags=["counters"])
    def counters() -> list[CounterView]:
        return queries.counter_views()

    @router.get("/api/v1/devices", response_model=list[DeviceView], tags=["devices"])
    def devices() -> list[DeviceView]:
        """Every device of the site: online or not, health, paper, cover, errors."""
        return queries.device_views()

    @router.get("/api/v1/counters/{number}", response_model=CounterView, tags=["counters"])
    def counter(number: int) -> CounterView:
        for view in queries.counter_views():
            if view.counter == number:
                return view
        raise HTTPException(404, f"no counter {number}")


_GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Problem},
}


def _operation_routes(queries: QueueQueries, authorise: Callable[[str | None], None]) -> APIRouter:
    """A clerk's counter operations and dossier registrations, behind the API key."""
    router = APIRouter()

    @router.post(
        "/api/v1/counters/{number}/actions", response_model=m.Response, tags=["counters"], responses=_GUARDED
    )
    def act(
        number: int, operation: CounterOperation, authorization: Annotated[str | None, Header()] = None
    ) -> m.Response:
        """Run one counter operation; a refused one answers 200 with ``ok: false`` and the reason."""
        authorise(authorization)
        fields: dict[str, Any] = operation.model_dump(exclude={"request_id"}, exclude_none=True)
        if operation.request_id:
            fields["id"] = operation.request_id
        try:
            request = m.CounterRequest(counter=number, **fields)
        except ValueError as err:
            raise HTTPException(422, str(err)) from err
        return queries.handle(request)

    @router.post("/api/v1/dossiers", response_model=m.Response, tags=["dossiers"], responses=_GUARDED)
    def register(
        registration: DossierRegistration, authorization: Annotated[str | None, Header()] = None
    ) -> m.Response:
        """Register a dossier received at a counter; the answer carries its code and appointment."""
        authorise(authorization)
        fields: dict[str, Any] = registration.model_dump(exclude={"request_id"}, exclude_none=True)
        if registration.request_id:
            fields["id"] = registration.request_id
        try:
            request = m.RegisterDossier(**fields)
        except ValueError as err:
            raise HTTPException(422, str(err)) from err
        return queries.handle(request)

    return router


def _page_routes(queries: QueueQueries, site_name: str) -> APIRouter:
    """The HTML pages: a ticket's QR page, the staff dashboard, the counter console."""
    router = APIRouter(include_in_schema=False)

    @router.get("/t/{token}", response_class=HTMLResponse)
    def ticket_page(token: str) -> HTMLResponse:
        """What the QR on a ticket opens: the number, where it stands, refreshed every 15 s."""
        view = queries.ticket_view(token)
        if view is None:
            body = "<h1>Không tìm thấy số thứ tự</h1><p>Vé đã hết hạn hoặc mã không đúng.</p>"
            return HTMLResponse(_ticket_html(site_name, body, refresh=False), status_code=404)
        return HTMLResponse(_ticket_html(site_name, _ticket_body(view), refresh=view.status == "waiting"))

    @router.get("/dashboard", response_class=HTMLResponse)
    def dashboard() -> str:
        return _static("dashboard.html").replace("{{SITE}}", json.dumps(site_name))

    @router.get("/console/{number}", response_class=HTMLResponse)
    def console(number: int) -> str:
        page = _static("console.html")
        return page.replace("{{COUNTER}}", str(number)).replace("{{SITE}}", json.dumps(site_name))

    return router


def _static(name: str) -> str:
    return resources.files("queue_server").joinpath(f"static/{name}").read_text(encoding="utf-8")


_STATUS_VI = {
    "waiting": "Đang chờ",
    "called": "Đã được gọi",
    "parked": "Tạm giữ",
    "no_show": "Vắng mặt khi được gọi",
    "done": "Đã phục vụ",
    "cancelled": "Đã hủy",
    "expired": "Hết hạn",
}


def _ticket_body(view: TicketView) -> str:
    lines = [f"<p class=service>{html.escape(view.service_name)}</p>", f"<p class=number>{view.number}</p>"]
    lines.append(f"<p class=status>{_STATUS_VI.get(view.status, html.escape(view.status))}</p>")
    if view.status == "waiting" and view.waiting_before is not None:
        lines.append(f"<p>Còn <b>{view.waiting_before}</b> người trước bạn")
        if view.estimated_wait_min is not None:
            lines[-1] += f", dự kiến khoảng <b>{view.estimated_wait_min}</b> phút"
        lines[-1] += ".</p>"
    if view.counter_name:
        lines.append(f"<p class=counter>Mời đến <b>{html.escape(view.counter_name)}</b></p>")
    return "\n".join(lines)


def _ticket_html(site_name: str, body: str, refresh: bool) -> str:
    meta = '<meta http-equiv="refresh" content="15">' if refresh else ""
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{meta}<title>Số thứ tự</title>
<style>body{{font-family:"Noto Sans","DejaVu Sans",sans-serif;text-align:center;margin:24px;color:#102a43}}
.number{{font-size:72px;font-weight:700;margin:8px}}.service{{font-size:20px}}.status{{font-size:24px}}</style>
</head><body><p>{html.escape(site_name)}</p>{body}</body></html>"""


def mount_dossier_store(app: FastAPI, dossier_dir: Path, require_key: Callable[..., None]) -> None:
    """The scanning stations' uploads go to ``dossier_dir`` through ``/api/v1/dossiers/{code}/uploads``,
    with the same API key as counter operations."""
    from queue_server.dossiers import dossier_router

    def uploaded(code: str, sha256: str) -> None:
        log.info("dossier %s: scanned file %s stored", code, sha256[:12])

    app.include_router(
        dossier_router(dossier_dir, uploaded), prefix="/api/v1", dependencies=[Depends(require_key)]
    )


class HttpServer:
    """uvicorn in a background thread of the queue server's process."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self.host, self.port = host, port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> HttpServer:
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self._server.started:
                return self
            deadline.wait(0.02)
        raise RuntimeError(f"the HTTP API did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def openapi_document(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
