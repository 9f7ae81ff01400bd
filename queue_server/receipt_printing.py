"""Form 01 receipts printed on a counter's own receipt printer, through the printer's command topic.

The site file binds receipt printers to counters (``[printing] receipt_printers = { 3 = "printer-c3" }``).
A console asks ``print_receipt(counter, receipt)``; the printer is always the one bound to that
counter, never one the page names. The server publishes ``print_receipt`` on ``device/{printer}/cmd``
(with an ``expires_at``, so the printer gives up rather than print long after the clerk moved on) and
waits for that printer's ``job_printed`` or ``job_failed`` with the same ``job_id``. A printer that is
offline or reports an error is not sent the job at all. Every outcome other than printed lets the
console offer the A5 PDF instead.

The receipt carries the applicant's name by regulation: it travels only in the command to the
printer and is never logged (log lines name the dossier code and the printer).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from bus import models as m
from bus.client import BusClient
from bus.topics import Topics
from queue_server.devices_registry import DeviceRegistry
from siteconf import Site

log = logging.getLogger(__name__)

PRINT_WAIT_S = 20.0
"""How long a console waits for its receipt; the job expires then, so it cannot print much later."""


@dataclass(frozen=True)
class PrintOutcome:
    """What became of a receipt: ``printed``, or why not (``code`` for programs, words for the clerk)."""

    printed: bool
    printer: str | None
    code: str | None = None
    message: str | None = None
    message_en: str | None = None


_FAILED_VI = {
    "paper_out": "máy in hết giấy",
    "cover_open": "nắp máy in đang mở",
    "cutter_error": "dao cắt giấy bị kẹt",
    "offline": "máy in mất kết nối",
    "no_reply": "máy in không trả lời",
    "unconfirmed": "máy in không xác nhận đã in (có thể đã in, hãy kiểm tra)",
    "expired": "máy in bận quá lâu",
    "bad_data": "nội dung phiếu không in được",
}


def failed(printer: str | None, code: str, en: str) -> PrintOutcome:
    why = _FAILED_VI.get(code, "máy in báo lỗi")
    vi = f"Không in được trên máy in của quầy ({why}): tải bản PDF A5 để in."
    return PrintOutcome(False, printer, code, vi, en)


NO_PRINTER = PrintOutcome(
    False,
    None,
    "no_printer",
    "Quầy này chưa gắn máy in phiếu: tải bản PDF A5 để in.",
    "no receipt printer is bound to this counter in the site file",
)


class ReceiptPrinting:
    """Sends receipts to the counters' printers and matches each printer's answer to its job."""

    def __init__(self, site: Site, bus: BusClient, topics: Topics, devices: DeviceRegistry) -> None:
        self.bindings = dict(site.printing.receipt_printers)
        self.bus, self.topics, self.devices = bus, topics, devices
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[str, threading.Event, list[m.JobPrinted | m.JobFailed]]] = {}

    def printer_of(self, counter: int) -> str | None:
        return self.bindings.get(counter)

    def print_receipt(
        self, counter: int, receipt: m.ReceiptPrint, wait_s: float = PRINT_WAIT_S
    ) -> PrintOutcome:
        """Print ``receipt`` on ``counter``'s printer and wait for its answer (at most ``wait_s``)."""
        printer = self.printer_of(counter)
        if printer is None:
            return NO_PRINTER
        unwell = self._unwell(printer)
        if unwell is not None:
            return unwell
        job_id = f"f01-{uuid.uuid4().hex[:16]}"
        done, answers = threading.Event(), list[m.JobPrinted | m.JobFailed]()
        with self._lock:
            self._waiting[job_id] = (printer, done, answers)
        try:
            command = m.PrintReceipt(job_id=job_id, receipt=receipt, expires_at=m.expires_in(wait_s))
            self.bus.publish(self.topics.device_cmd(printer), command)
            log.info("receipt of dossier %s sent to %s as job %s", receipt.dossier_code, printer, job_id)
            if not done.wait(wait_s + 5.0):
                return failed(printer, "no_reply", f"{printer} did not answer job {job_id}")
        finally:
            with self._lock:
                self._waiting.pop(job_id, None)
        answer = answers[0]
        if isinstance(answer, m.JobPrinted):
            return PrintOutcome(True, printer)
        log.info("receipt job %s failed on %s: %s", job_id, printer, answer.code)
        return failed(printer, answer.code or "failed", answer.reason)

    def on_event(self, device_id: str, event: m.JobPrinted | m.JobFailed) -> None:
        """A printer's answer (from the bus thread); only the printer a job went to can answer it."""
        with self._lock:
            waiting = self._waiting.get(event.job_id)
        if waiting is None or waiting[0] != device_id:
            return
        _, done, answers = waiting
        if not answers:
            answers.append(event)
        done.set()

    def _unwell(self, printer: str) -> PrintOutcome | None:
        view = next((v for v in self.devices.views() if v.id == printer), None)
        if view is None:
            return failed(printer, "offline", f"{printer} is not a device of the site")
        if view.online is False:
            return failed(printer, "offline", f"{printer} is offline")
        if view.health == "error":
            code = "cover_open" if view.cover_open else "printer_error"
            code = "paper_out" if view.paper == "out" else code
            return failed(printer, code, f"{printer} reports an error: {view.detail or view.health}")
        return None
