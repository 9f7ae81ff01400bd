"""The console's "In phiếu": Form 01 on the counter's receipt printer, or the A5 PDF when it cannot.

``POST /console/{n}/receipts`` with ``{code, applicant_name, applicant_address?, applicant_phone?}``
prints the receipt of a registered dossier on counter ``n``'s printer (``receipt_printing.py``) and
answers ``{printed, code, message, pdf}``. ``POST /console/{n}/receipts/pdf`` with the same body
answers the A5 PDF (the fallback when no printer is bound or the printer failed). Only the officer who
opened counter ``n`` may print for it, and only on its own printer: the page never names a printer.
The applicant's details are printed, never logged or stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bus import models as m
from queue_server import console_messages as msg
from queue_server.console import ConsoleDeps, Session, json_body, session_of
from queue_server.receipt_printing import PrintOutcome
from queue_server.views import CounterView, DossierView

log = logging.getLogger(__name__)


class ReceiptDesk(Protocol):
    def print_receipt(self, counter: int, receipt: m.ReceiptPrint) -> PrintOutcome: ...


@dataclass(frozen=True)
class PrintDeps:
    console: ConsoleDeps
    desk: ReceiptDesk | None
    dossier: Callable[[str], DossierView | None]
    counters: Callable[[], list[CounterView]]
    pdf: Callable[[m.ReceiptPrint], bytes] | None


class ReceiptRequest(BaseModel):
    """What the clerk types for the receipt: the applicant's details (printed, never kept)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    code: m.DossierCode
    applicant_name: str = Field(min_length=1, max_length=300)
    applicant_address: str | None = Field(default=None, max_length=300)
    applicant_phone: str | None = Field(default=None, max_length=20)


def print_routes(deps: PrintDeps) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.post("/console/{number}/receipts")
    async def print_receipt(number: int, request: Request) -> dict[str, object]:
        receipt = await _receipt(deps, number, request)
        outcome = NO_DESK
        if deps.desk is not None:
            outcome = await run_in_threadpool(deps.desk.print_receipt, number, receipt)
        return {
            "printed": outcome.printed,
            "code": outcome.code,
            "message": outcome.message,
            "message_en": outcome.message_en,
            "pdf": deps.pdf is not None,
        }

    @router.post("/console/{number}/receipts/pdf")
    async def receipt_pdf(number: int, request: Request) -> Response:
        receipt = await _receipt(deps, number, request)
        if deps.pdf is None:
            raise HTTPException(
                404, msg.problem("no_pdf", "Máy chủ này không tạo được bản PDF.", "no PDF renderer here")
            )
        data = await run_in_threadpool(deps.pdf, receipt)
        name = f"phieu-tiep-nhan-{receipt.dossier_code}.pdf"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(data, media_type="application/pdf", headers=disposition)

    return router


NO_DESK = PrintOutcome(
    False, None, "no_printer", "Máy chủ không gửi được lệnh in: tải bản PDF A5 để in.", "no receipt printing"
)


async def _receipt(deps: PrintDeps, number: int, request: Request) -> m.ReceiptPrint:
    """The receipt to print for counter ``number``, after the session, CSRF and counter checks."""
    session = session_of(deps.console, request, request.headers.get("x-csrf-token"))
    _at_the_counter(deps, session, number)
    try:
        asked = ReceiptRequest.model_validate(await json_body(request))
    except ValidationError as err:
        raise msg.refuse_invalid(err) from err
    dossier = deps.dossier(asked.code)
    if dossier is None:
        raise HTTPException(
            404,
            msg.problem(
                "unknown_dossier", f"Không có hồ sơ {asked.code}.", f"no dossier {asked.code}", "code"
            ),
        )
    return m.ReceiptPrint(
        agency_name=deps.console.site_name,
        dossier_code=dossier.code,
        applicant_name=asked.applicant_name,
        applicant_address=asked.applicant_address or None,
        applicant_phone=asked.applicant_phone or None,
        request=f"Thủ tục {dossier.procedure}",
        received_at=dossier.received_at,
        return_at=dossier.appointment,
        receiver_name=session.officer.display_name,
        lookup_url=deps.console.public.lookup_url(dossier.code),
    )


def _at_the_counter(deps: PrintDeps, session: Session, number: int) -> None:
    """Only the officer who opened counter ``number`` prints on its printer."""
    view = next((c for c in deps.counters() if c.counter == number), None)
    if view is None or view.status != "open" or view.officer != session.officer.id:
        log.warning("officer %s: a receipt print for counter %d was refused", session.officer.id, number)
        raise HTTPException(
            403,
            msg.problem(
                "not_your_counter",
                f"Chỉ cán bộ đang mở Quầy {number} mới in được phiếu trên máy in của quầy này.",
                f"only the officer who opened counter {number} may print on its printer",
            ),
        )
