"""The printer device service: executes ``print_ticket`` commands and reports paper and health.

Jobs run one at a time in arrival order on a worker thread; a job id already printed is not printed
again (commands may be redelivered). A job that cannot print is answered with a ``job_failed``
event so the kiosk can show a virtual ticket. The status is polled with ``DLE EOT`` between jobs and
published (retained) as soon as it changes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

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
        self._done: OrderedDict[str, None] = OrderedDict()
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
                if job.job_id not in self._done:
                    self._print(job)
            finally:
                self._jobs.task_done()

    def _print(self, job: m.PrintTicket) -> None:
        data = TicketData.model_validate(job.ticket.model_dump())
        try:
            with self._io:
                sent = self.printer.print_ticket(data)
        except (PrinterError, TransportError) as err:
            self.jobs_failed += 1
            log.warning("%s: job %s failed: %s", self.device.id, job.job_id, err)
            self.link.emit(m.JobFailed(job_id=job.job_id, reason=str(err)))
            self._poll_status()
            return
        self._done[job.job_id] = None
        while len(self._done) > _REMEMBERED_JOBS:
            self._done.popitem(last=False)
        self.jobs_printed += 1
        self.link.emit(m.JobPrinted(job_id=job.job_id, bytes_sent=sent))

    def _run_status(self) -> None:
        while not self._stop.wait(STATUS_POLL_S):
            self._poll_status()

    def _poll_status(self) -> None:
        try:
            with self._io:
                status = self.printer.query_status()
        except (PrinterError, TransportError) as err:
            self.link.set_status(
                m.DeviceStatus(
                    health=m.Health.ERROR, paper=m.PaperLevel.UNKNOWN, errors=["no_reply"], detail=str(err)
                )
            )
            return
        self.link.set_status(device_status(status))
