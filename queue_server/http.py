"""The queue server's HTTP API (FastAPI) and the counter console page.

- ``GET /api/v1/tickets/{token}``: a ticket followed by its QR (the token is unguessable, the number is
  not, so there is no lookup by number); no personal data.
- ``GET /api/v1/queues``, ``GET /api/v1/counters``, ``GET /api/v1/counters/{n}``: what the hall board
  and the dashboards show.
- ``POST /api/v1/counters/{n}/actions``: an integration's counter operation, run exactly like the MQTT
  ``req/counter`` (same checks, same transaction, same idempotency by ``request_id``). Needs
  ``Authorization: Bearer <key>`` with a key of the ``counter`` scope (``motcua apikey add``, see
  ``queue_server/access.py``). Opening a counter needs an officer: the console's login or the keypad.
- ``GET /api/v1/dossiers/{code}?k=``: where a dossier stands, with the receipt's lookup key (kiosks).
- ``POST /api/v1/dossiers``: register a received dossier (``dossier`` scope); the server dates the
  appointment in working time and answers the lookup key and URL to print on the receipt.
- ``/api/v1/dossiers/{code}/uploads``, ``/api/v1/uploads/{id}``, ``/api/v1/dossiers/{code}/files``: the
  store of scanned dossiers (``queue_server/dossiers.py``: chunked, resumable, hash-checked uploads).
- ``GET /t/{token}``: the page a ticket's QR opens (``public_url`` + token), refreshed while waiting.
- ``GET /api/v1/devices`` and ``GET /dashboard``: every device's availability and health for staff;
  ``GET /api/v1/device-incidents``: their incident history; ``GET /metrics`` (``metrics`` scope).
- ``GET /login``, ``GET /console/{n}``: the counter console for logged-in officers (``console.py``).
- ``/docs`` and ``/redoc``: the API's documentation, offline.

The pages, their templates and the security headers of every response are in ``queue_server/web.py``.

The OpenAPI document is exported to ``docs/http/openapi.json`` by ``motcua http openapi``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from bus import models as m
from queue_server.access import Access
from queue_server.console import ConsoleDeps, console_routes, login_routes, names_routes
from queue_server.console_print import PrintDeps, ReceiptDesk, print_routes
from queue_server.metrics import MetricSource, device_routes
from queue_server.public import LookupKeys, Public
from queue_server.reports.http import reports_router
from queue_server.sealed import load_key
from queue_server.views import CounterView, DeviceView, DossierView, QueueView, TicketView
from queue_server.web import page_routes, secure

log = logging.getLogger(__name__)

DOSSIER_CODE = re.compile(r"[0-9A-Z]{1,5}(\.[0-9A-Z]{1,5}){0,4}-[0-9]{6}-[0-9]{4,7}")


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CounterOperation(_View):
    """A clerk's operation; the fields mean what they mean in the MQTT ``req/counter``."""

    action: m.CounterAction
    request_id: str | None = Field(default=None, min_length=8, max_length=64, description="for retries")
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


class QueueQueries(MetricSource, Protocol):
    """What the HTTP API needs from the queue server (the metrics' reads, and these)."""

    def ticket_view(self, token: str) -> TicketView | None: ...
    def dossier_view(self, code: str) -> DossierView | None: ...
    def handle(self, request: m.CounterRequest | m.RegisterDossier) -> m.Response: ...


def create_app(
    queries: QueueQueries,
    access: Access | None = None,
    site_name: str = "",
    dossier_dir: Path | None = None,
    public: Public | None = None,
    *,
    dossier_key: Path | None = None,
    receipts: ReceiptDesk | None = None,
    form01_pdf: Callable[[m.ReceiptPrint], bytes] | None = None,
) -> FastAPI:
    """The API over ``queries``; with ``dossier_dir``, also the store of scanned dossier PDFs.

    ``access`` holds the API keys, officer accounts and console sessions (without it, operations,
    uploads and the console are refused). ``public`` holds the dossier lookup keys, the public rate
    limit and the base of printed lookup URLs (by default: a secret for this process only, a burst of
    30 requests then 2 per second per client). ``dossier_key`` is the file of the key sealing stored
    dossiers (default: ``secrets/dossier-store.key`` beside ``dossier_dir``, made on first use).

    ``receipts`` prints the console's Form 01 receipts on the counters' printers (default: the
    ``receipts`` of ``queries``, a ``QueueServer``'s); ``form01_pdf`` renders the A5 PDF the console
    offers when a receipt cannot print (the printer package's, given by whoever assembles the process).

    Each group of routes is its own router; a new group joins with one ``app.include_router``.
    """
    app = FastAPI(
        title="motcua queue server",
        version="1",
        description="Tickets, queues and counter operations of a one-stop centre.",
        responses={404: {"model": Problem}},
        docs_url=None,  # served by queue_server.web from the installed assets (no CDN)
        redoc_url=None,
    )
    secure(app)
    require = _requirer(access)
    public = public or Public(LookupKeys.ephemeral())
    is_staff = access.is_staff if access is not None else (lambda request: False)
    app.include_router(_read_routes(queries, public, is_staff))
    app.include_router(_operation_routes(queries, require, public))
    if dossier_dir is not None:

        def require_upload(authorization: Annotated[str | None, Header()] = None) -> None:
            require("upload", authorization)

        key_file = dossier_key or dossier_dir.parent / "secrets" / "dossier-store.key"
        mount_dossier_store(app, dossier_dir, load_key(key_file, dossier_dir), require_upload)
    if access is not None:
        deps = ConsoleDeps(
            queries.handle,
            access.officers,
            access.sessions,
            public,
            site_name,
            _receipt(public),
            queries.dossier_view,
        )
        app.include_router(login_routes(deps))
        app.include_router(console_routes(deps))
        app.include_router(names_routes(deps))
        desk = receipts if receipts is not None else getattr(queries, "receipts", None)
        printing = PrintDeps(deps, desk, queries.dossier_view, queries.counter_views, form01_pdf)
        app.include_router(print_routes(printing))
    app.include_router(page_routes(queries, site_name, public))
    app.include_router(device_routes(queries, require))
    app.include_router(reports_router(queries, access))
    return app


Requirer = Callable[[str, str | None], object]


def _requirer(access: Access | None) -> Requirer:
    """The check of an ``Authorization`` header for a scope (no accounts: everything refused)."""

    def require(scope: str, authorization: str | None) -> object:
        if access is None:
            raise HTTPException(403, "operations over HTTP are off: the server has no account store")
        return access.require(scope, authorization)

    return require


def _read_routes(queries: QueueQueries, public: Public, is_staff: Callable[[Request], bool]) -> APIRouter:
    """Tickets, dossiers, queues, counters and devices as the boards, kiosks and dashboards read them."""
    router = APIRouter()
    limited = [Depends(public.limit)]

    @router.get("/api/v1/tickets/{token}", response_model=TicketView, tags=["tickets"], dependencies=limited)
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
        responses={422: {"model": Problem}, 429: {"model": Problem}},
        dependencies=limited,
    )
    def dossier(
        code: str,
        request: Request,
        k: Annotated[
            str | None, Query(max_length=40, description="the lookup key printed on the receipt")
        ] = None,
    ) -> DossierView:
        """Where a dossier stands, by the code and lookup key on its receipt (typed, or its QR).

        Staff (a ``read`` key, a console session) need no lookup key. A wrong key answers exactly like
        an unknown code.
        """
        code = _dossier_code(code)
        view = queries.dossier_view(code)
        if view is None or not (public.lookup_keys.matches(code, k) or is_staff(request)):
            raise HTTPException(404, f"no dossier {code} with this lookup key")
        return view

    _board_routes(router, queries, is_staff)
    return router


def _dossier_code(code: str) -> str:
    code = code.strip().upper()
    if not DOSSIER_CODE.fullmatch(code):
        raise HTTPException(
            422, f"{code!r} is not a dossier code: agency-yymmdd-sequence, e.g. H21.65-220914-0011"
        )
    return code


def _board_routes(router: APIRouter, queries: QueueQueries, is_staff: Callable[[Request], bool]) -> None:
    """Queues, counters and devices: lists for the hall board and the staff dashboard.

    Officer ids are shown only to staff (a ``read`` key, a console session): the public sees counters
    and tickets.
    """

    def shown(view: CounterView, request: Request) -> CounterView:
        return (
            view
            if view.officer is None or is_staff(request)
            else view.model_copy(update={"officer": None, "officer_name": None})
        )

    @router.get("/api/v1/queues", response_model=list[QueueView], tags=["queues"])
    def queues() -> list[QueueView]:
        return queries.queue_views()

    @router.get("/api/v1/counters", response_model=list[CounterView], tags=["counters"])
    def counters(request: Request) -> list[CounterView]:
        return [shown(view, request) for view in queries.counter_views()]

    @router.get("/api/v1/devices", response_model=list[DeviceView], tags=["devices"])
    def devices() -> list[DeviceView]:
        """Every device of the site: online or not, health, paper, cover, errors."""
        return queries.device_views()

    @router.get("/api/v1/counters/{number}", response_model=CounterView, tags=["counters"])
    def counter(number: int, request: Request) -> CounterView:
        for view in queries.counter_views():
            if view.counter == number:
                return shown(view, request)
        raise HTTPException(404, f"no counter {number}")


_GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Problem},
}


class RegisteredDossier(m.Response):
    """The answer to a registration, with what the receipt prints for the citizen's own lookups."""

    lookup_key: str | None = Field(
        default=None, description="print on the receipt: the public lookup needs it"
    )
    lookup_url: str | None = Field(default=None, description="print as the receipt's QR")


def _operation_routes(queries: QueueQueries, require: Requirer, public: Public) -> APIRouter:
    """An integration's counter operations and dossier registrations, behind scoped API keys."""
    router = APIRouter()

    @router.post(
        "/api/v1/counters/{number}/actions", response_model=m.Response, tags=["counters"], responses=_GUARDED
    )
    def act(
        number: int, operation: CounterOperation, authorization: Annotated[str | None, Header()] = None
    ) -> m.Response:
        """Run one counter operation; a refused one answers 200 with ``ok: false`` and the reason.

        ``open`` is refused here (403): a counter opens for an officer who logged in (console, keypad).
        """
        require("counter", authorization)
        if operation.action is m.CounterAction.OPEN:
            raise HTTPException(403, "opening a counter needs an officer's login: the console or the keypad")
        fields: dict[str, Any] = operation.model_dump(exclude={"request_id"}, exclude_none=True)
        if operation.request_id:
            fields["id"] = operation.request_id
        try:
            request = m.CounterRequest(counter=number, **fields)
        except ValueError as err:
            raise HTTPException(422, str(err)) from err
        return queries.handle(request)

    @router.post("/api/v1/dossiers", response_model=RegisteredDossier, tags=["dossiers"], responses=_GUARDED)
    def register(
        registration: DossierRegistration, authorization: Annotated[str | None, Header()] = None
    ) -> RegisteredDossier:
        """Register a dossier received at a counter; the answer carries its code, appointment and the
        lookup key and URL to print on the receipt."""
        require("dossier", authorization)
        fields: dict[str, Any] = registration.model_dump(exclude={"request_id"}, exclude_none=True)
        if registration.request_id:
            fields["id"] = registration.request_id
        try:
            request = m.RegisterDossier(**fields)
        except ValueError as err:
            raise HTTPException(422, str(err)) from err
        return _receipt(public)(queries.handle(request))

    return router


def _receipt(public: Public) -> Callable[[m.Response], RegisteredDossier]:
    """A registration's answer with the dossier's lookup key and URL (when a dossier was registered)."""

    def receipt(answer: m.Response) -> RegisteredDossier:
        if answer.dossier is None:
            return RegisteredDossier(**answer.model_dump())
        code = answer.dossier.code
        key = public.lookup_keys.key(code)
        return RegisteredDossier(**answer.model_dump(), lookup_key=key, lookup_url=public.lookup_url(code))

    return receipt


def mount_dossier_store(
    app: FastAPI, dossier_dir: Path, key: bytes, require_key: Callable[..., None]
) -> None:
    """The scanning stations' uploads go to ``dossier_dir`` through ``/api/v1/dossiers/{code}/uploads``,
    with an API key of the ``upload`` scope."""
    from queue_server.dossiers import dossier_router

    def uploaded(code: str, sha256: str) -> None:
        log.info("dossier %s: scanned file %s stored", code, sha256[:12])

    app.include_router(
        dossier_router(dossier_dir, key, uploaded), prefix="/api/v1", dependencies=[Depends(require_key)]
    )


class HttpServer:
    """uvicorn in a background thread of the queue server's process; HTTPS with ``tls`` (certificate
    chain file, private key file), as the site file's ``http.certificate`` and ``http.private_key``."""

    def __init__(self, app: FastAPI, host: str, port: int, tls: tuple[Path, Path] | None = None) -> None:
        import uvicorn

        ssl: dict[str, Any] = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", **ssl)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self.host, self.port, self.scheme = host, port, "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

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
