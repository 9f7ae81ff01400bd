"""The read models: what the queue server shows of its state, over MQTT and over HTTP.

``counter_state`` and ``queue_state`` are the retained ``counter/*/state`` and ``queue/*/state``
messages; ``ticket_view``, ``dossier_view``, ``queue_views`` and ``counter_views`` build the ``*View``
models the HTTP API returns (``queue_server/http.py``); ``DeviceView`` is filled by the device
registry (``queue_server/devices_registry.py``). The functions read the ``Core`` and change nothing;
the caller holds the server's lock. This module needs pydantic, not FastAPI, so the server imports it
without the web stack.
"""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bus import models as m
from queue_server.core import Core
from queue_server.dossiers_registry import STATUS_VI
from queue_server.engine_model import TicketStatus
from queue_server.snapshot_format import ticket_from_row
from siteconf.spoken import site_appointment_phrase


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TicketView(_View):
    number: str = Field(examples=["A1023"])
    service: str
    service_name: str
    status: str = Field(description="waiting, called, serving, parked, no_show, done, cancelled")
    issued_at: datetime
    waiting_before: int | None = Field(default=None, description="people ahead while waiting")
    estimated_wait_min: int | None = None
    counter: int | None = Field(default=None, description="the counter that called it")
    counter_name: str | None = None
    called_at: datetime | None = None


class QueueView(_View):
    service: str
    service_name: str
    waiting: int
    last_issued: str | None = None
    last_called: str | None = None
    estimated_wait_min: int | None = None
    open_counters: int = 0


class CounterView(_View):
    counter: int
    name: str
    status: str
    officer: str | None = None
    officer_name: str | None = Field(default=None, description="the officer's display name (staff only)")
    current: str | None = None
    services: list[str] = []
    waiting: int = Field(0, description="tickets waiting for this counter's services")


class DossierView(_View):
    code: str = Field(examples=["H21.65-220914-0011"])
    procedure: str
    status: str = Field(description="received, processing, supplement, ready, returned, rejected")
    status_vi: str = Field(examples=["Đang giải quyết"])
    received_at: datetime
    appointment: datetime = Field(description="ngày hẹn trả")
    provisional: bool = False
    procedure_name: str | None = Field(default=None, description="the procedure's name in the catalogue")
    appointment_text: str = Field(
        default="",
        description="the appointment as people say it",
        examples=["Thứ Hai, 07/12/2026, buổi sáng"],
    )
    appointment_text_en: str = Field(default="", examples=["Monday 7 December 2026, morning"])
    collect_at: str | None = Field(default=None, description="where the result is collected")


class DeviceView(_View):
    """A device as facility staff see it: is it there, is it well (paper, cover, errors), in Vietnamese."""

    id: str
    kind: str
    name: str | None = Field(default=None, description="the site file's name for it")
    location: str | None = Field(default=None, description="where it stands, from the site file")
    counter: int | None = None
    online: bool | None = Field(description="None: the device never said anything since the server started")
    since: datetime | None = None
    health: str = Field(description="ok, warning, error, offline (no connection), unknown")
    health_vi: str = Field(default="Chưa rõ", examples=["Mất kết nối"])
    paper: str | None = Field(default=None, description="printers: ok, near_end, out")
    cover_open: bool | None = None
    errors: list[str] = []
    problems_vi: list[str] = Field(default=[], description="every open incident, in plain Vietnamese")
    detail: str | None = Field(default=None, description="the device's own words, for engineers")
    paper_used_m: float | None = Field(
        default=None, description="printers: paper used since the roll changed"
    )
    roll_length_m: float | None = None
    paper_left_pct: int | None = None
    print_rate_m_per_h: float | None = None
    paper_runs_out_at: datetime | None = Field(default=None, description="at the recent printing rate")


# --- the retained MQTT state ----------------------------------------------------------------------


def counter_state(core: Core, number: int) -> m.CounterState:
    state = core.engine.counters[number]
    ticket = core.engine.tickets.get(state.ticket_id) if state.ticket_id else None
    return m.CounterState(
        counter=number,
        name=core.site.counter(number).name,
        status=m.CounterStatus(state.status),
        current=ticket.code if ticket else None,
        call_seq=core.lookups.counter_seq.get(number),
        officer=state.officer,
        officer_name=core.officer_name(state.officer),
        current_ticket_id=ticket.id if ticket else None,
        services=list(core.site.counter(number).services),
    )


def queue_state(core: Core, code: str) -> m.QueueState:
    day = core.today()
    open_counters = [
        c.number
        for c in core.site.counters
        if code in c.services and core.engine.counters[c.number].status == "open"
    ]
    return m.QueueState(
        service=code,
        service_name=core.site.service(code).name,
        waiting=len(core.engine.waiting(code, day)),
        last_issued=core.lookups.last_issued.get((day, code)),
        last_called=core.lookups.last_called.get((day, code)),
        estimated_wait_min=math.ceil(core.engine.estimate(code, core.now()) / 60),
        open_counters=len(open_counters),
    )


# --- the HTTP read models -------------------------------------------------------------------------


def ticket_view(core: Core, token: str) -> TicketView | None:
    ticket_id = core.lookups.by_token.get(token)
    ticket = core.engine.tickets.get(ticket_id) if ticket_id else None
    if ticket is None:  # a past day's ticket, no longer in memory (``KEEP_DAYS``), is in the store
        row = core.store.ticket_by_token(token)
        if row is None:
            return None
        ticket = ticket_from_row(row)
    waiting_before = None
    if ticket.status is TicketStatus.WAITING:
        ids = [t.id for t in core.engine.waiting(ticket.service, ticket.day)]
        waiting_before = ids.index(ticket.id) if ticket.id in ids else None
    return TicketView(
        number=ticket.code,
        service=ticket.service,
        service_name=core.site.service(ticket.service).name,
        status=str(ticket.status),
        issued_at=ticket.issued_at,
        waiting_before=waiting_before,
        estimated_wait_min=math.ceil((ticket.estimate_s or 0) / 60),
        counter=ticket.counter,
        counter_name=core.site.counter(ticket.counter).name if ticket.counter else None,
        called_at=ticket.called_at,
    )


def dossier_view(core: Core, code: str) -> DossierView | None:
    dossier = core.dossiers.dossiers.get(code)
    if dossier is None:
        return None
    procedure = core.site.kiosk.procedure(dossier.procedure)
    return DossierView(
        code=dossier.code,
        procedure=dossier.procedure,
        status=str(dossier.status),
        status_vi=STATUS_VI[dossier.status],
        received_at=dossier.received_at,
        appointment=dossier.due_at,
        provisional=dossier.provisional,
        procedure_name=procedure.name if procedure else None,
        appointment_text=site_appointment_phrase(core.site, dossier.due_at, "vi"),
        appointment_text_en=site_appointment_phrase(core.site, dossier.due_at, "en"),
        collect_at=core.site.kiosk.results_place(procedure) or None,
    )


def queue_views(core: Core) -> list[QueueView]:
    views = []
    for service in core.site.services:
        state = queue_state(core, service.code)
        views.append(
            QueueView(
                **state.model_dump(include={"service", "service_name", "waiting", "last_issued"}),
                last_called=state.last_called,
                estimated_wait_min=state.estimated_wait_min,
                open_counters=state.open_counters or 0,
            )
        )
    return views


def counter_views(core: Core) -> list[CounterView]:
    day = core.today()
    views = []
    for counter in core.site.counters:
        state = counter_state(core, counter.number)
        views.append(
            CounterView(
                counter=counter.number,
                name=counter.name,
                status=str(state.status),
                officer=state.officer,
                officer_name=state.officer_name,
                current=state.current,
                services=list(counter.services),
                waiting=sum(1 for _ in core.engine.eligible(counter.number, day)),
            )
        )
    return views
