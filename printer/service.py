"""The printer device service: executes ``print_ticket`` commands and reports paper and health.

Jobs run one at a time in arrival order on a worker thread, and every job is answered with exactly one
event:

- ``job_printed`` once the printer confirmed it; a job id already printed (commands may be
  redelivered) is not printed again but answered with the same ``job_printed`` (same ``bytes_sent``);
- ``job_failed`` if it cannot print (the kiosk then shows a virtual ticket): the printer is not ready
  or silent, the ticket does not fit :class:`~printer.ticket.TicketData`, it expired while queued
  (``"expired before it could print"``), or anything else went wrong; the worker then takes the next job.

The status is polled with ``DLE EOT`` at start and every ``STATUS_POLL_S`` between jobs, and published
(retained) as soon as it changes; a printer that stops answering is an error after one reply timeout.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

from pydantic import ValidationError

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from printer.driver import EscposPrinter
from printer.errors import PrinterError
from printer.status import PaperState, PrinterStatus
from printer.ticket import TicketData
from siteconf.model import Device
from transport import open_transport
from transport.base import TransportError

log = logging.getLogger(__name__)

STATUS_POLL_S = 0.5
_REMEMBERED_JOBS = 1024


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


class PrinterService:
    """Owns one ESC/POS printer."""

    def __init__(self, site_id: str, device: Device, broker: str | BrokerUrl) -> None:
        assert device.url is not None
        self.device = device
        self.printer = EscposPrinter(open_transport(device.url), width_dots=device.width_dots)
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.PRINTER,
            model=f"ESC/POS {device.width_dots} dots",
            transport=urlsplit(device.url).scheme,
            capabilities=["raster", "qr_native", "cut"],
        )
        self.link = DeviceLink(broker, site_id, device.id, info)
        self.link.on_command(self._on_command)
        self.jobs_printed = 0
        self.jobs_failed = 0
        self._jobs: queue.Queue[m.PrintTicket | None] = queue.Queue()
        self._done: OrderedDict[str, m.JobPrinted] = OrderedDict()
        self._io = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_jobs, name=f"{device.id}-jobs", daemon=True),
            threading.Thread(target=self._run_status, name=f"{device.id}-status", daemon=True),
        ]

    def start(self) -> PrinterService:
        self.link.start()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self.link.stop()
        self.printer.transport.close()

    def idle(self) -> bool:
        return self._jobs.unfinished_tasks == 0

    def _on_command(self, command: m.PrintTicket | m.ShowText | m.Beep) -> None:
        if isinstance(command, m.PrintTicket):
            self._jobs.put(command)

    def _run_jobs(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self._take(job)
            finally:
                self._jobs.task_done()

    def _take(self, job: m.PrintTicket) -> None:
        """Answer one job; whatever goes wrong is reported as its ``job_failed``, never kills the worker."""
        try:
            if (answer := self._done.get(job.job_id)) is not None:
                log.info("%s: job %s was already printed; answering it again", self.device.id, job.job_id)
                self._emit(m.JobPrinted(job_id=job.job_id, bytes_sent=answer.bytes_sent))
            elif job.expired():
                self._fail(job, "expired before it could print")
            else:
                self._print(job)
        except Exception as err:
            log.exception("%s: job %s failed unexpectedly", self.device.id, job.job_id)
            self._fail(job, f"printer service error ({type(err).__name__}); see the printer service log")

    def _print(self, job: m.PrintTicket) -> None:
        try:
            data = TicketData.model_validate(job.ticket.model_dump())
        except ValidationError as err:
            self._fail(job, f"ticket cannot be printed: {_problems(err)}")
            return
        try:
            with self._io:
                sent = self.printer.print_ticket(data)
        except (PrinterError, TransportError) as err:
            self._fail(job, str(err))
            self._poll_status()
            return
        self._remember(m.JobPrinted(job_id=job.job_id, bytes_sent=sent))

    def _remember(self, printed: m.JobPrinted) -> None:
        self._done[printed.job_id] = printed
        while len(self._done) > _REMEMBERED_JOBS:
            self._done.popitem(last=False)
        self.jobs_printed += 1
        self._emit(printed)

    def _fail(self, job: m.PrintTicket, reason: str) -> None:
        self.jobs_failed += 1
        log.warning("%s: job %s failed: %s", self.device.id, job.job_id, reason)
        self._emit(m.JobFailed(job_id=job.job_id, reason=reason))

    def _emit(self, event: m.JobPrinted | m.JobFailed) -> None:
        try:
            self.link.emit(event)
        except Exception:
            log.exception("%s: could not send %s for job %s", self.device.id, event.kind, event.job_id)

    def _run_status(self) -> None:
        self._poll_status()
        while not self._stop.wait(STATUS_POLL_S):
            self._poll_status()

    def _poll_status(self) -> None:
        """Ask the printer (a silent one is an error within its reply timeout) and publish on change."""
        try:
            with self._io:
                status = self.printer.query_status()
        except (PrinterError, TransportError) as err:
            self._set_status(
                m.DeviceStatus(
                    health=m.Health.ERROR, paper=m.PaperLevel.UNKNOWN, errors=["no_reply"], detail=str(err)
                )
            )
            return
        except Exception:
            log.exception("%s: status poll failed unexpectedly", self.device.id)
            return
        self._set_status(device_status(status))

    def _set_status(self, status: m.DeviceStatus) -> None:
        try:
            self.link.set_status(status)
        except Exception:
            log.exception("%s: could not publish its status", self.device.id)


def _problems(err: ValidationError) -> str:
    """Where and what is wrong, without the values (they never go into a log or an event)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'ticket'}: {e['msg']}" for e in err.errors())
