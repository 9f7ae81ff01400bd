"""The printer device service: executes ``print_ticket`` / ``print_receipt`` and reports paper and health.

Every job goes into an on-disk spool (:mod:`printer.spool`) before anything else, so a restart takes
up what was left; jobs run one at a time in arrival order on a worker thread, and each is answered with
exactly one event:

- ``job_printed`` once the printer confirmed it (``GS r 1``); a job id already printed (commands may be
  redelivered, the kiosk may retry) is not printed again but answered with the same ``bytes_sent``;
- ``job_failed`` with a ``code`` if it cannot print (the kiosk then shows a virtual ticket): bad data,
  expired while queued, a fault (paper out, cover open, cutter error, offline) that did not clear
  within the hold time (8 s for a ticket, 120 s for a receipt; ``[printing]`` sets them) or the
  job's ``expires_at``, or ``unconfirmed`` when the bytes were sent but the
  printer went silent, since printing it again could print it twice.

Faults met during a job: the job waits, polling the status, and is retried when the printer can print
again: sent again if the page was lost (paper ran out), only confirmed if the printer kept it (cover
opened, cutter jammed: the page comes out when the operator clears the fault).

The status is polled with ``DLE EOT`` at start and every ``STATUS_POLL_S`` between jobs (and while a
job waits for recovery), and published (retained) as soon as it changes; a printer that stops
answering is an error after one reply timeout. ASB blocks met while reading are decoded and published.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import ValidationError

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from device_service.base import DeviceService, Service
from device_service.registry import KindEntry, ServiceContext, register_kind
from printer.driver import EscposPrinter
from printer.errors import (
    CoverOpenError,
    CutterError,
    PaperOutError,
    PrinterError,
    PrinterLinkError,
    PrinterNotReadyError,
    PrinterTimeoutError,
)
from printer.glyphs import GlyphFallback
from printer.layout import RenderedJob
from printer.paper_length import paper_mm
from printer.profiles import PrinterProfile, profile_for, profile_for_width
from printer.receipt import ReceiptData, receipt_job
from printer.render import glyph_fallback
from printer.spool import JobSpool, JobState, SpooledJob
from printer.status import PaperState, PrinterStatus
from printer.ticket import TicketData, ticket_job
from siteconf.model import Device
from transport import open_transport
from transport.base import TransportError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from siteconf.model import Site

STATUS_POLL_S = 0.5
RECOVERY_POLL_S = 0.2
TICKET_HOLD_S = 8.0
"""Longest a ticket waits for a fault to clear (a citizen stands at the kiosk) before it is reported."""
RECEIPT_HOLD_S = 120.0
"""Longest a Form 01 receipt waits for a fault to clear (the clerk can load paper) before it is reported."""
CONFIRM_BASE_S = 2.0


def device_status(status: PrinterStatus) -> m.DeviceStatus:
    """The bus form of a printer status: error if it cannot print, warning near the paper end."""
    paper = m.PaperLevel(status.paper.value)
    if not status.can_print:
        health = m.Health.ERROR
    elif status.paper is PaperState.NEAR_END:
        health = m.Health.WARNING
    else:
        health = m.Health.OK
    problems = status.problems or (["paper near end"] if health is m.Health.WARNING else [])
    return m.DeviceStatus(
        health=health,
        paper=paper,
        cover_open=status.cover_open,
        errors=[p.replace(" ", "_") for p in problems],
        detail=", ".join(problems) or None,
    )


class PrinterService(DeviceService):
    """Owns one ESC/POS printer: spooled, idempotent jobs and a live status.

    Its threads (jobs, status) and bus link start and stop as every device service's do
    (``device_service.base.DeviceService``).
    """

    join_timeout_s = 10.0

    def __init__(
        self,
        site_id: str,
        device: Device,
        broker: str | BrokerUrl,
        *,
        profile: PrinterProfile | None = None,
        spool: str | Path = ":memory:",
        ticket_hold_s: float = TICKET_HOLD_S,
        receipt_hold_s: float = RECEIPT_HOLD_S,
        fallback: GlyphFallback | None = None,
    ) -> None:
        assert device.url is not None
        self.device = device
        self.fallback = fallback or GlyphFallback()
        self.profile = profile or profile_for_width(device.width_dots)
        self.hold_s = {"print_ticket": ticket_hold_s, "print_receipt": receipt_hold_s}
        self.printer = EscposPrinter(
            open_transport(device.url), chunk_size=self.profile.chunk_size, profile=self.profile
        )
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.PRINTER,
            model=f"ESC/POS {self.profile.base} {self.profile.width} dots",
            transport=urlsplit(device.url).scheme,
            capabilities=self.profile.capabilities(),
        )
        self.printer.on_asb = self._publish
        super().__init__(device.id, DeviceLink(broker, site_id, device.id, info))
        self.link.on_command(self._on_command)
        self.spool = JobSpool(spool)
        self.jobs_printed = 0
        self.jobs_failed = 0
        self._jobs: queue.Queue[str | None] = queue.Queue()
        self._io = threading.Lock()
        self._stop = self.stopping
        self.add_worker(self._run_jobs, "jobs")
        self.add_worker(self._run_status, "status")

    @classmethod
    def from_site(cls, site: Site, device: Device, broker: str | BrokerUrl) -> PrinterService:
        """The service as the site file configures it: its ``[printing]`` profile and spool folder."""
        printing = site.printing
        spool = Path(printing.spool_dir) / f"{device.id}.sqlite"
        return cls(
            site.site.id,
            device,
            broker,
            profile=profile_for(printing, device.id, device.width_dots),
            spool=spool,
            ticket_hold_s=printing.ticket_hold_s,
            receipt_hold_s=printing.receipt_hold_s,
            fallback=glyph_fallback(printing),
        )

    def _started(self) -> None:
        """Take up what the spool kept from before a restart, before the job worker starts."""
        for job in self.spool.open_jobs():
            log.info(
                "%s: job %s left %s before a restart; taking it up", self.device.id, job.job_id, job.state
            )
            self._jobs.put(job.job_id)

    def _stopping(self) -> None:
        self._jobs.put(None)

    def _release(self) -> None:
        self.printer.transport.close()
        self.spool.close()

    def idle(self) -> bool:
        return self._jobs.unfinished_tasks == 0

    def _on_command(self, command: m.PrintTicket | m.PrintReceipt | m.ShowText | m.Beep) -> None:
        if not isinstance(command, m.PrintTicket | m.PrintReceipt):
            return
        try:
            known = self.spool.add(command.job_id, command.model_dump_json())
        except sqlite3.Error as err:
            log.error("%s: cannot spool job %s (%s)", self.device.id, command.job_id, err)
            reason = f"the printer service cannot store the job ({err}); check the disk of {self.spool.path}"
            self._emit(m.JobFailed(job_id=command.job_id, reason=reason, code="internal"))
            return
        if known is None:
            self._jobs.put(command.job_id)
        elif known.state is JobState.PRINTED:
            log.info("%s: job %s was already printed; answering it again", self.device.id, command.job_id)
            self._emit(m.JobPrinted(job_id=command.job_id, bytes_sent=known.bytes_sent))
        elif known.state is JobState.FAILED:
            self._emit(m.JobFailed(job_id=command.job_id, reason=known.reason or "failed", code=known.code))
        else:
            log.info("%s: job %s is already in the spool (%s)", self.device.id, command.job_id, known.state)

    def _run_jobs(self) -> None:
        while True:
            job_id = self._jobs.get()
            try:
                if job_id is None:
                    return
                self._take(job_id)
            finally:
                self._jobs.task_done()

    def _take(self, job_id: str) -> None:
        """Answer one job; whatever goes wrong is reported as its ``job_failed``, never kills the worker."""
        try:
            job = self.spool.get(job_id)
            if job is None or job.finished or job.command is None:
                return
            command = m.device_command_adapter.validate_json(job.command)
            assert isinstance(command, m.PrintTicket | m.PrintReceipt)
            if command.expired():
                self._fail(job_id, "expired before it could print", "expired")
                return
            rendered = self._render(command)
            if rendered is not None:
                self._print(job_id, command, rendered)
        except Exception as err:
            if self._stop.is_set():
                return
            log.exception("%s: job %s failed unexpectedly", self.device.id, job_id)
            self._fail(
                job_id,
                f"printer service error ({type(err).__name__}); see the printer service log",
                "internal",
            )

    def _render(self, command: m.PrintTicket | m.PrintReceipt) -> RenderedJob | None:
        try:
            if isinstance(command, m.PrintTicket):
                ticket = TicketData.model_validate(command.ticket.model_dump())
                return ticket_job(ticket, self.profile, fallback=self.fallback)
            receipt = ReceiptData.model_validate(command.receipt.model_dump())
            return receipt_job(receipt, self.profile, fallback=self.fallback)
        except ValidationError as err:
            what = "ticket" if isinstance(command, m.PrintTicket) else "receipt"
            self._fail(command.job_id, f"{what} cannot be printed: {_problems(err)}", "bad_data")
        except PrinterError as err:
            self._fail(command.job_id, str(err), "bad_data")
        return None

    def _print(self, job_id: str, command: m.PrintTicket | m.PrintReceipt, rendered: RenderedJob) -> None:
        """Send, confirm, and after a fault wait for recovery until the job's deadline (see spool)."""
        data = rendered.data
        deadline = time.monotonic() + self.hold_s[command.kind]
        if command.expires_at is not None:
            deadline = min(deadline, time.monotonic() + (command.expires_at - m.now()).total_seconds())
        confirm_s = CONFIRM_BASE_S + len(data) * 10 / (self.profile.baud or 115_200)
        while not self._stop.is_set():
            outcome = self._attempt(job_id, rendered, confirm_s)
            if outcome is None:
                return
            reason, code = outcome
            if not self._await_recovery(deadline):
                if self._stop.is_set():
                    log.info("%s: stopping; job %s stays in the spool", self.device.id, job_id)
                    return
                self._fail(job_id, f"{reason}; gave up waiting for the printer", code)
                return
            log.info("%s: printer recovered; retrying job %s", self.device.id, job_id)

    def _attempt(self, job_id: str, rendered: RenderedJob, confirm_s: float) -> tuple[str, str] | None:
        """One try; None when the job is answered (printed or failed), else (reason, code) to retry."""
        data = rendered.data
        job = self.spool.get(job_id)
        assert job is not None
        name = f"job {job_id}"
        try:
            with self._io:
                if job.state is JobState.QUEUED:
                    self.printer.ensure_ready(job=name)
                    self.printer.print_bytes(data, poll_s=STATUS_POLL_S, on_status=self._publish)
                    job = self.spool.move(job_id, JobState.SENT, bytes_sent=len(data))
                self.printer.wait_printed(confirm_s, poll_s=STATUS_POLL_S, on_status=self._publish, job=name)
        except PrinterNotReadyError as err:
            if job.state is JobState.SENT and isinstance(err, PaperOutError):
                self.spool.move(job_id, JobState.QUEUED)  # the unfinished page was torn off: print it again
            self._poll_status()
            return str(err), _code(err)
        except PrinterLinkError as err:
            if self._stop.is_set():
                return None  # stopping: the job stays in the spool for the next start
            if job.state is JobState.SENT:
                self._fail(job_id, f"{err}; the job was sent and may have printed", "unconfirmed")
                return None
            self._reopen()
            return str(err), "no_reply"
        except PrinterTimeoutError as err:
            return self._unconfirmed(job_id, job, err)
        self.spool.move(job_id, JobState.PRINTED, bytes_sent=len(data))
        log.info("%s: job %s printed (%d bytes)", self.device.id, job_id, len(data))
        self.jobs_printed += 1
        self._emit(
            m.JobPrinted(
                job_id=job_id,
                bytes_sent=len(data),
                paper_mm=paper_mm(data),
                replaced_chars=list(rendered.replaced),
            )
        )
        return None

    def _publish(self, status: PrinterStatus) -> None:
        self._last_can_print = status.can_print
        self._set_status(device_status(status))

    def _unconfirmed(self, job_id: str, job: SpooledJob, err: Exception) -> tuple[str, str] | None:
        """No ``GS r 1`` answer: the status says whether the page waits, was torn off, or nobody knows."""
        if self._stop.is_set():
            return None  # stopping: the job stays in the spool; the next start asks GS r 1 again
        try:
            with self._io:
                status = self.printer.query_status()
        except PrinterError:
            status = None
        if status is not None:
            self._set_status(device_status(status))
        if status is None or status.can_print or job.state is not JobState.SENT:
            self._fail(job_id, f"{err}; the job was sent and may have printed", "unconfirmed")
            return None
        if status.paper is PaperState.OUT:
            self.spool.move(job_id, JobState.QUEUED)  # the unfinished page was torn off: print it again
        return ", ".join(status.problems), _status_code(status)

    def _await_recovery(self, deadline: float) -> bool:
        while time.monotonic() < deadline and not self._stop.is_set():
            self._poll_status()
            if self._last_can_print:
                return True
            self._stop.wait(RECOVERY_POLL_S)
        return False

    def _reopen(self) -> None:
        assert self.device.url is not None
        with self._io:
            try:
                self.printer.transport.close()
                self.printer.transport = open_transport(self.device.url)
            except TransportError as err:
                log.warning("%s: cannot reopen %s yet: %s", self.device.id, self.device.url, err)

    def _fail(self, job_id: str, reason: str, code: str) -> None:
        self.jobs_failed += 1
        log.warning("%s: job %s failed: %s", self.device.id, job_id, reason)
        job = self.spool.get(job_id)
        if job is not None and not job.finished:
            self.spool.move(job_id, JobState.FAILED, reason=reason, code=code)
        self._emit(m.JobFailed(job_id=job_id, reason=reason, code=code))

    def _emit(self, event: m.JobPrinted | m.JobFailed) -> None:
        try:
            self.link.emit(event)
        except Exception:
            log.exception("%s: could not send %s for job %s", self.device.id, event.kind, event.job_id)

    def _run_status(self) -> None:
        self._poll_status()
        while not self._stop.wait(STATUS_POLL_S):
            self._poll_status()

    _last_can_print = False

    def _poll_status(self) -> None:
        """Ask the printer (a silent one is an error within its reply timeout) and publish on change."""
        try:
            with self._io:
                status = self.printer.query_status()
        except (PrinterError, TransportError) as err:
            self._last_can_print = False
            self._set_status(
                m.DeviceStatus(
                    health=m.Health.ERROR, paper=m.PaperLevel.UNKNOWN, errors=["no_reply"], detail=str(err)
                )
            )
            return
        except Exception:
            log.exception("%s: status poll failed unexpectedly", self.device.id)
            return
        self._publish(status)

    def _set_status(self, status: m.DeviceStatus) -> None:
        try:
            self.link.set_status(status)
        except Exception:
            log.exception("%s: could not publish its status", self.device.id)


def _code(err: PrinterNotReadyError) -> str:
    return {PaperOutError: "paper_out", CoverOpenError: "cover_open", CutterError: "cutter_error"}.get(
        type(err), "offline"
    )


def _status_code(status: PrinterStatus) -> str:
    return status.problems[0].replace(" ", "_") if status.problems else "offline"


def _problems(err: ValidationError) -> str:
    """Where and what is wrong, without the values (they never go into a log or an event)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'ticket'}: {e['msg']}" for e in err.errors())


def build_printers(context: ServiceContext, devices: list[Device]) -> list[Service]:
    """The registry's factory: each printer as ``[printing]`` configures it (``context.spool_dir``
    replaces its spool folder)."""
    site = context.site
    if context.spool_dir is not None:
        printing = site.printing.model_copy(update={"spool_dir": str(context.spool_dir)})
        site = site.model_copy(update={"printing": printing})
    return [PrinterService.from_site(site, device, context.broker) for device in devices]


register_kind("printer", KindEntry(build_printers))
