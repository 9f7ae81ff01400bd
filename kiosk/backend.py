"""The kiosk's link to the centre, without Qt: ask the server for a ticket, send it to the printer.

The Qt dispenser and the demo's simulated citizens both take tickets through this class, so the
demo exercises exactly the path a citizen's touch takes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bus import models as m
from bus.client import BrokerUrl, BusClient, RequestTimeoutError
from bus.topics import Topics
from siteconf import Site

log = logging.getLogger(__name__)

PRINT_COMMAND_TTL_S = 30.0


@dataclass(frozen=True)
class TicketOutcome:
    """What the citizen gets: a ticket (``ticket``) or a refusal (``error``)."""

    ticket: m.TicketIssued | None
    error: m.ErrorInfo | None
    job_id: str | None = None


class KioskBackend:
    def __init__(self, site: Site, kiosk_id: str, broker: str | BrokerUrl) -> None:
        device = site.device(kiosk_id)
        if device.printer is None:
            raise ValueError(f"kiosk {kiosk_id} has no printer in the site file")
        self.site = site
        self.kiosk_id = kiosk_id
        self.printer_id = device.printer
        topics = Topics(site.site.id)
        self.bus = BusClient(
            broker, site.site.id, kiosk_id, availability_topic=topics.device_availability(kiosk_id)
        )
        self.bus.enable_requests()
        self.bus.subscribe(
            self.bus.topics.device_evt(self.printer_id), self._on_printer_event, m.device_event_adapter
        )
        self.jobs_sent = 0
        self.jobs_printed = 0
        self.jobs_failed = 0
        self.on_job_failed: Callable[[m.JobFailed], None] | None = None
        self._lock = threading.Lock()

    def start(self, wait: float = 10.0) -> KioskBackend:
        self.bus.start(wait)
        return self

    def stop(self) -> None:
        self.bus.stop()

    def take_ticket(
        self, service: str, priority: str | None = None, timeout: float = 2.5, attempts: int = 3
    ) -> TicketOutcome:
        """Ask for a ticket and, when issued, hand it to the printer.

        A lost request or answer is retried with the *same* request id, so the server answers with
        the ticket it already committed instead of issuing a second one; the request expires when
        the kiosk stops waiting, so a copy queued during a network cut never issues a ghost ticket.
        Raises ``RequestTimeoutError`` after ``attempts`` unanswered tries.
        """
        request = m.IssueTicket(
            service=service,
            priority=priority,
            kiosk=self.kiosk_id,
            expires_at=m.expires_in(timeout * attempts),
        )
        for attempt in range(1, attempts + 1):
            try:
                response = self.bus.request("issue_ticket", request, timeout)
                break
            except RequestTimeoutError:
                if attempt == attempts:
                    raise
                log.warning("no answer to a ticket request (try %d of %d); asking again", attempt, attempts)
        if not response.ok or response.ticket is None:
            return TicketOutcome(None, response.error)
        job_id = self.print_ticket(response.ticket)
        return TicketOutcome(response.ticket, None, job_id)

    def print_ticket(self, ticket: m.TicketIssued) -> str:
        with self._lock:
            job_id = f"{self.kiosk_id}-{m.new_id()}"  # unique across kiosk restarts and days
            self.jobs_sent += 1
        info = self.site.site
        content = m.TicketPrint(
            centre_name=info.short_name or info.name,
            service_name=ticket.service_name,
            number=ticket.number,
            issued_at=ticket.issued_at,
            waiting=ticket.waiting_before,
            estimated_wait_min=ticket.estimated_wait_min,
            qr_url=f"{info.public_url}{ticket.token}" if info.public_url else None,
        )
        command = m.PrintTicket(job_id=job_id, ticket=content, expires_at=m.expires_in(PRINT_COMMAND_TTL_S))
        self.bus.publish(self.bus.topics.device_cmd(self.printer_id), command)
        return job_id

    def _on_printer_event(self, _topic: str, event: m.KeyPressed | m.JobPrinted | m.JobFailed) -> None:
        if isinstance(event, m.JobPrinted):
            with self._lock:
                self.jobs_printed += 1
        elif isinstance(event, m.JobFailed):
            with self._lock:
                self.jobs_failed += 1
            log.warning("ticket job %s did not print: %s", event.job_id, event.reason)
            if self.on_job_failed is not None:
                self.on_job_failed(event)
