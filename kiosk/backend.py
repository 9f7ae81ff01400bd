"""The kiosk's link to the centre, without Qt: ask the server for a ticket, send it to the printer.

The Qt dispenser and the demo's simulated citizens both take tickets through this class, so the
demo exercises exactly the path a citizen's touch takes. It also watches the server's availability
and the printer's retained status: with the server gone it issues from number blocks reserved in
advance (``kiosk.offline``) and hands them over when the server is back; with the printer unable to
print it sends no job, so the screen shows the virtual ticket at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from bus import models as m
from bus.client import BrokerUrl, BusClient, BusError, RequestTimeoutError
from bus.topics import ONLINE, Topics
from kiosk.errors import KioskConfigError
from kiosk.offline import JournalError, OfflineJournal
from siteconf import Site
from siteconf.clock import business_day
from siteconf.model import Hours

log = logging.getLogger(__name__)

PRINT_COMMAND_TTL_S = 30.0
OUTSIDE_HOURS = "outside_hours"
ALREADY_HAS_TICKET = "already_has_ticket"
NO_OFFLINE_NUMBERS = "no_offline_numbers"
REFILL_RETRY_S = 60.0
QUICK_TRY_S = 1.0


@dataclass(frozen=True)
class TicketOutcome:
    """What the citizen gets: a ticket (``ticket``) or a refusal (``error``).

    ``job_id`` is the print job sent, ``None`` when the printer could not print (the screen then shows
    the virtual ticket); ``offline`` marks a ticket issued from the kiosk's reserved block.
    """

    ticket: m.TicketIssued | None
    error: m.ErrorInfo | None
    job_id: str | None = None
    offline: bool = False


class KioskBackend:
    def __init__(
        self,
        site: Site,
        kiosk_id: str,
        broker: str | BrokerUrl,
        journal: OfflineJournal | None = None,
    ) -> None:
        device = site.device(kiosk_id)
        if device.printer is None:
            raise KioskConfigError(
                f"kiosk {kiosk_id} has no printer in the site file:"
                ' add printer = "ID" to its [[devices]] entry'
            )
        self.site = site
        self.kiosk_id = kiosk_id
        self.printer_id = device.printer
        self.tz = ZoneInfo(site.site.timezone)
        self._day_starts = clock_time.fromisoformat(site.queue.day_starts)
        self.journal = journal
        topics = Topics(site.site.id)
        self.bus = BusClient(
            broker, site.site.id, kiosk_id, availability_topic=topics.device_availability(kiosk_id)
        )
        self.bus.enable_requests()
        self.bus.subscribe(
            self.bus.topics.device_evt(self.printer_id), self._on_printer_event, m.device_event_adapter
        )
        self.bus.subscribe(
            self.bus.topics.device_status(self.printer_id), self._on_printer_status, m.DeviceStatus
        )
        self.bus.subscribe(self.bus.topics.server_availability(), self._on_server_availability)
        self.jobs_sent = 0
        self.jobs_printed = 0
        self.jobs_failed = 0
        self.printer_status: m.DeviceStatus | None = None
        self.server_online: bool | None = None  # None until the retained availability arrives
        self.on_job_failed: Callable[[m.JobFailed], None] | None = None
        self.on_change: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._active: dict[tuple[str, str], str] = {}  # (person key, service) -> number, today only
        self._active_day: date | None = None
        self._threads: list[threading.Thread] = []
        self._refill_after = 0.0
        self._offline_by_timeout = False

    def start(self, wait: float = 10.0) -> KioskBackend:
        self.bus.start(wait)
        return self

    def stop(self) -> None:
        self.bus.stop()
        for thread in self._threads:
            thread.join(timeout=10)

    # --- state -------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def business_day(self, at: datetime | None = None) -> date:
        """The server's business day of ``at``: the local date, shifted so a day starts at the site's
        ``[queue] day_starts`` (at 00:30 with ``03:00`` it is still yesterday, as for the server)."""
        return business_day((at or self.now()).astimezone(self.tz), self._day_starts)

    def printer_can_print(self) -> bool:
        """False when the printer's retained status says it cannot print (paper out, cover open...)."""
        status = self.printer_status
        return status is None or (
            status.health is not m.Health.ERROR and status.paper is not m.PaperLevel.OUT
        )

    def within_hours(self, at: datetime, service: str | None = None) -> bool:
        """Whether ``at`` falls in the issuing hours of ``service`` (its own ``issuing_hours``, else the
        site's), used while the server cannot be asked."""
        local = at.astimezone(self.tz)
        if local.strftime("%a").lower() not in self.site.hours.days:
            return False
        sessions = self.site.hours.parsed_sessions()
        own = next((s.issuing_hours for s in self.site.services if s.code == service), None)
        if own is not None:
            sessions = Hours(sessions=own).parsed_sessions()
        return any(a <= local.time() < b for a, b in sessions)

    # --- tickets -----------------------------------------------------------------------------------

    def take_ticket(
        self,
        service: str,
        priority: str | None = None,
        timeout: float = 2.5,
        attempts: int = 3,
        person_key: str | None = None,
    ) -> TicketOutcome:
        """Ask for a ticket and, when issued, hand it to the printer.

        A lost request or answer is retried with the *same* request id, so the server answers with
        the ticket it already committed instead of issuing a second one; the request expires when
        the kiosk stops waiting, so a copy queued during a network cut never issues a ghost ticket.
        With no answer at all, or the server known offline, the ticket comes from the offline
        journal; without a journal ``RequestTimeoutError`` is raised.

        ``person_key`` (a salted hash from a scanned CCCD, never the number) enforces one active
        ticket per person per service today.
        """
        refusal = self._person_refusal(person_key, service)
        if refusal is not None:
            return TicketOutcome(None, refusal)
        if self.server_online is False and self.journal is not None and not self._offline_by_timeout:
            outcome = self._issue_offline(service, priority)
        elif self._offline_by_timeout:
            # Only suspected dead (it did not answer, its Last Will has not come): one quick try first.
            outcome = self._ask_server(service, priority, min(timeout, QUICK_TRY_S), 1)
        else:
            outcome = self._ask_server(service, priority, timeout, attempts)
        if outcome.ticket is not None:
            self._remember_person(person_key, service, outcome.ticket.number)
            outcome = TicketOutcome(
                outcome.ticket, None, self.print_ticket(outcome.ticket, priority), outcome.offline
            )
            if not outcome.offline:
                self._in_background(self.refill_blocks)
        return outcome

    def _ask_server(self, service: str, priority: str | None, timeout: float, attempts: int) -> TicketOutcome:
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
                    if self.journal is None:
                        raise
                    log.warning("the server did not answer %d tries; issuing offline", attempts)
                    if self.server_online is not False:
                        self._offline_by_timeout = True
                        self._set_server_online(False)
                    return self._issue_offline(service, priority)
                log.warning("no answer to a ticket request (try %d of %d); asking again", attempt, attempts)
        if self._offline_by_timeout:  # it answers again: back online, hand over the offline tickets
            self._offline_by_timeout = False
            self._set_server_online(True)
        if not response.ok or response.ticket is None:
            return TicketOutcome(None, response.error)
        return TicketOutcome(response.ticket, None)

    def _issue_offline(self, service: str, priority: str | None) -> TicketOutcome:
        at = self.now()
        if not self.within_hours(at, service):
            return TicketOutcome(None, m.ErrorInfo(code=OUTSIDE_HOURS, message="Ngoài giờ cấp số."))
        try:
            conf = self.site.service(service)
        except KeyError:
            return TicketOutcome(
                None, m.ErrorInfo(code="unknown_service", message=f"Không có lĩnh vực '{service}'")
            )
        assert self.journal is not None
        try:
            issued = self.journal.issue(service, conf.prefix, self.business_day(at), at, priority)
        except LookupError:
            return TicketOutcome(
                None,
                m.ErrorInfo(code=NO_OFFLINE_NUMBERS, message=f"Lĩnh vực {conf.name} tạm hết số dự phòng."),
            )
        counters = [c.number for c in self.site.counters if service in c.services]
        ticket = m.TicketIssued(
            number=issued.number,
            service=service,
            service_name=conf.name,
            issued_at=at,
            waiting_before=0,
            counters=counters,
            token=issued.token,
        )
        log.info("issued %s offline from the reserved block", issued.number)
        return TicketOutcome(ticket, None, offline=True)

    def print_ticket(self, ticket: m.TicketIssued, priority: str | None = None) -> str | None:
        """Send ``ticket`` to the printer; ``None`` (no job) when the printer says it cannot print."""
        if not self.printer_can_print():
            log.warning("printer %s cannot print; the ticket is shown as a virtual ticket", self.printer_id)
            return None
        with self._lock:
            job_id = f"{self.kiosk_id}-{m.new_id()}"  # unique across kiosk restarts and days
            self.jobs_sent += 1
        info = self.site.site
        labels = {p.code: p.name for p in self.site.kiosk.priority_groups(self.site)}
        content = m.TicketPrint(
            centre_name=info.short_name or info.name,
            service_name=ticket.service_name,
            number=ticket.number,
            priority_label=labels.get(priority, priority) if priority else None,
            issued_at=ticket.issued_at,
            waiting=ticket.waiting_before,
            estimated_wait_min=ticket.estimated_wait_min,
            qr_url=self.ticket_url(ticket),
        )
        command = m.PrintTicket(job_id=job_id, ticket=content, expires_at=m.expires_in(PRINT_COMMAND_TTL_S))
        self.bus.publish(self.bus.topics.device_cmd(self.printer_id), command)
        return job_id

    def ticket_url(self, ticket: m.TicketIssued) -> str | None:
        """What the ticket's QR holds: the site's public URL of the ticket, or ``None``."""
        base = self.site.site.public_url
        return f"{base}{ticket.token}" if base else None

    # --- one active ticket per person ------------------------------------------------------------

    def _person_refusal(self, person_key: str | None, service: str) -> m.ErrorInfo | None:
        if person_key is None:
            return None
        with self._lock:
            today = self.business_day()
            if self._active_day != today:
                self._active, self._active_day = {}, today
            number = self._active.get((person_key, service))
        if number is None:
            return None
        return m.ErrorInfo(
            code=ALREADY_HAS_TICKET, message=f"Bạn đã có số {number} cho lĩnh vực này hôm nay."
        )

    def _remember_person(self, person_key: str | None, service: str, number: str) -> None:
        if person_key is not None:
            with self._lock:
                self._active[(person_key, service)] = number

    # --- offline blocks and reconciliation -----------------------------------------------------

    def refill_blocks(self) -> int:
        """Reserve a block for every service whose reserved numbers run low; return blocks added."""
        if self.journal is None or not self.server_online or time.monotonic() < self._refill_after:
            return 0
        added = 0
        size = self.site.kiosk.block_size
        with self._sync_lock:
            for service in self.site.services:
                if self.journal.remaining(service.code, self.business_day()) > size // 2:
                    continue
                request = m.ReserveBlock(kiosk=self.kiosk_id, service=service.code, size=size)
                try:
                    response = self.bus.request("reserve_block", request, 3.0)
                except BusError as err:
                    log.warning("could not reserve offline numbers for %s: %s", service.code, err)
                    self._refill_after = time.monotonic() + REFILL_RETRY_S
                    return added
                if response.ok and response.block is not None:
                    added += self.journal.add_block(response.block)
                elif response.error is not None:
                    log.info("no offline block for %s: %s", service.code, response.error.code)
                    if response.error.code not in {"sold_out", OUTSIDE_HOURS}:
                        self._refill_after = (
                            time.monotonic() + REFILL_RETRY_S
                        )  # e.g. a server without the verb
                        return added
        return added

    def reconcile(self) -> int:
        """Hand the offline tickets to the server; return how many it accepted."""
        if self.journal is None:
            return 0
        accepted = 0
        with self._sync_lock:
            while True:
                pending = self.journal.unsent()
                if not pending:
                    return accepted
                day = pending[0].business_day
                batch = [p.ticket for p in pending if p.business_day == day]
                try:
                    response = self.bus.request(
                        "offline_tickets", m.OfflineTickets(kiosk=self.kiosk_id, tickets=batch), 5.0
                    )
                except BusError as err:
                    log.warning("could not hand over %d offline tickets: %s", len(batch), err)
                    return accepted
                refused = [r.number for r in response.refused or []]
                for r in response.refused or []:
                    log.warning("the server refused offline ticket %s: %s (%s)", r.number, r.code, r.reason)
                if not response.ok or not (response.accepted or refused):
                    log.warning("the server refused the offline tickets: %s", response.error)
                    return accepted
                accepted += self.journal.mark_sent(day, response.accepted or [])
                self.journal.mark_sent(day, refused)  # refused for good: never sent again
                log.info("the server accepted %d offline tickets", len(response.accepted or []))

    def unsent_offline(self) -> int:
        return len(self.journal.unsent()) if self.journal is not None else 0

    # --- bus events --------------------------------------------------------------------------------

    def _on_server_availability(self, _topic: str, text: str) -> None:
        if not text:
            return  # a cleared retained availability says nothing
        self._offline_by_timeout = False  # the server's own word (or its Last Will) settles it
        self._set_server_online(text.strip() == ONLINE)

    def _set_server_online(self, online: bool) -> None:
        was = self.server_online
        self.server_online = online
        if online and was is not True and self.journal is not None:
            self._in_background(self._back_online)
        if was != online:
            log.log(
                logging.INFO if online else logging.WARNING,
                "queue server is %s",
                "online" if online else "OFFLINE",
            )
            self._changed()

    def _back_online(self) -> None:
        self._refill_after = 0.0
        try:
            self.reconcile()
            self.refill_blocks()
        except JournalError:
            log.exception("offline journal failed")
        self._changed()

    def _on_printer_status(self, _topic: str, status: m.DeviceStatus) -> None:
        self.printer_status = status
        self._changed()

    def _on_printer_event(
        self, _topic: str, event: m.KeyPressed | m.JobPrinted | m.JobFailed | m.RatingGiven
    ) -> None:
        if isinstance(event, m.JobPrinted):
            with self._lock:
                self.jobs_printed += 1
        elif isinstance(event, m.JobFailed):
            with self._lock:
                self.jobs_failed += 1
            log.warning("ticket job %s did not print: %s", event.job_id, event.reason)
            if self.on_job_failed is not None:
                self.on_job_failed(event)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _in_background(self, work: Callable[[], object]) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, daemon=True, name="kiosk-sync")
        self._threads.append(thread)
        thread.start()
