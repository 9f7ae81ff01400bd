"""The printer device service over a real Mosquitto: job outcomes, redelivery, expiry and status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from broker_support import as_identity
from PIL import Image
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from firmware_sim.escpos_printer import EscposPrinterSim
from printer.service import PrinterService
from siteconf import Site
from transport.sim import register_simulator, unregister_simulator

pytestmark = pytest.mark.integration
PRINTER = "printer-k1"


@dataclass
class Observer:
    """A bus client that sends the printer's commands and records its events and statuses."""

    bus: BusClient
    events: list[m.JobPrinted | m.JobFailed | m.KeyPressed] = field(default_factory=list)
    statuses: list[m.DeviceStatus] = field(default_factory=list)

    def send(self, job: m.PrintTicket) -> None:
        self.bus.publish(self.bus.topics.device_cmd(PRINTER), job)

    def printed(self, job_id: str) -> list[m.JobPrinted]:
        return [e for e in list(self.events) if isinstance(e, m.JobPrinted) and e.job_id == job_id]

    def failed(self, job_id: str) -> list[m.JobFailed]:
        return [e for e in list(self.events) if isinstance(e, m.JobFailed) and e.job_id == job_id]

    def health(self) -> m.Health | None:
        return self.statuses[-1].health if self.statuses else None


def ticket(number: str = "A1001", centre_name: str = "Trung tâm Phục vụ hành chính công") -> m.TicketPrint:
    return m.TicketPrint(
        centre_name=centre_name,
        service_name="Đất đai",
        number=number,
        issued_at=m.now(),
        waiting=3,
        estimated_wait_min=12,
    )


def job(job_id: str, expires_at: datetime | None = None) -> m.PrintTicket:
    return m.PrintTicket(job_id=job_id, ticket=ticket(), expires_at=expires_at)


@contextmanager
def running_service(site: Site, broker: BrokerUrl, sim: EscposPrinterSim) -> Iterator[PrinterService]:
    """The site's printer service, printing on ``sim``."""
    register_simulator(PRINTER, sim)
    try:
        service = PrinterService(site.site.id, site.device(PRINTER), broker).start()
        try:
            yield service
        finally:
            service.stop()
    finally:
        unregister_simulator(PRINTER)


@pytest.fixture
def observer(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[Observer]:
    bus = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "test-printer-observer")
    obs = Observer(bus)
    topics = bus.topics
    bus.subscribe(topics.device_evt(PRINTER), lambda _t, e: obs.events.append(e), m.device_event_adapter)
    bus.subscribe(topics.device_status(PRINTER), lambda _t, s: obs.statuses.append(s), m.DeviceStatus)
    bus.start()
    yield obs
    bus.stop()


@pytest.fixture
def sim() -> EscposPrinterSim:
    return EscposPrinterSim()


@pytest.fixture
def service(demo_site: Site, mosquitto: BrokerUrl, sim: EscposPrinterSim) -> Iterator[PrinterService]:
    with running_service(demo_site, mosquitto, sim) as running:
        yield running


def test_a_ticket_that_cannot_be_rendered_fails_and_later_jobs_still_print(
    service: PrinterService, sim: EscposPrinterSim, observer: Observer
) -> None:
    # The bus TicketPrint has no length limit; TicketData allows 200 characters.
    bad = m.PrintTicket(job_id="job-long-name", ticket=ticket(centre_name="Trung tâm " * 30))
    observer.send(bad)
    assert wait_until(lambda: bool(observer.failed("job-long-name")))
    assert "centre_name" in observer.failed("job-long-name")[0].reason
    assert len(sim.pages) == 0

    observer.send(job("job-after"))
    assert wait_until(lambda: bool(observer.printed("job-after")))
    assert len(sim.pages) == 1
    assert wait_until(service.idle)
    assert (service.jobs_failed, service.jobs_printed) == (1, 1)


def test_a_redelivered_job_is_answered_again_without_printing_twice(
    service: PrinterService, sim: EscposPrinterSim, observer: Observer
) -> None:
    first = job("job-twice")
    again = job("job-twice")
    assert first.id != again.id
    observer.send(first)
    assert wait_until(lambda: len(observer.printed("job-twice")) == 1)
    observer.send(again)
    assert wait_until(lambda: len(observer.printed("job-twice")) == 2)
    answers = observer.printed("job-twice")
    assert answers[0].bytes_sent == answers[1].bytes_sent > 0
    assert answers[0].id != answers[1].id  # a new message, or the kiosk's client would drop it
    assert wait_until(service.idle)
    assert len(sim.pages) == 1
    assert service.jobs_printed == 1


class PageGate:
    """An ``on_page`` callback that holds the printing thread inside a job until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, _index: int, _image: Image.Image, _text: str) -> None:
        self.entered.set()
        self.release.wait(timeout=5)


def test_a_job_that_expires_while_queued_is_reported_and_not_printed(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer
) -> None:
    gate = PageGate()
    sim = EscposPrinterSim(on_page=gate)
    with running_service(demo_site, mosquitto, sim) as service:
        observer.send(job("job-slow"))
        assert gate.entered.wait(timeout=5)  # the worker is busy printing job-slow
        short = job("job-short", expires_at=m.now() + timedelta(seconds=1.0))
        observer.send(short)
        assert wait_until(short.expired, timeout=3)  # it expires while job-slow is still printing
        gate.release.set()
        assert wait_until(lambda: bool(observer.failed("job-short")))
        assert observer.failed("job-short")[0].reason == "expired before it could print"
        assert observer.printed("job-slow")
        assert not observer.printed("job-short")
        assert wait_until(service.idle)
        assert len(sim.pages) == 1


def test_a_printer_that_stops_answering_turns_the_status_to_error_and_back(
    service: PrinterService, sim: EscposPrinterSim, observer: Observer
) -> None:
    assert wait_until(lambda: observer.health() is m.Health.OK, timeout=3)
    sim.silent = True
    assert wait_until(lambda: observer.health() is m.Health.ERROR, timeout=10)
    assert "no_reply" in observer.statuses[-1].errors
    sim.silent = False
    assert wait_until(lambda: observer.health() is m.Health.OK, timeout=10)
    observer.send(job("job-back"))
    assert wait_until(lambda: bool(observer.printed("job-back")))


def test_the_status_is_published_when_the_service_starts(service: PrinterService, observer: Observer) -> None:
    assert wait_until(lambda: observer.health() is m.Health.OK, timeout=0.4)
