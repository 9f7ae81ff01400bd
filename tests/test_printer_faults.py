"""Fault scenarios through the printer service on a real Mosquitto: every job ends printed or reported,
never silently lost, never printed twice for one job id; the spool survives a restart."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from broker_support import as_identity
from support import wait_until
from test_printer_service import PRINTER, Observer, job

from bus import models as m
from bus.client import BrokerUrl, BusClient
from firmware_sim.escpos_printer import EscposPrinterSim
from printer.service import PrinterService
from printer.spool import JobSpool, JobState
from siteconf import Site
from transport.sim import register_simulator, unregister_simulator

pytestmark = pytest.mark.integration


@contextmanager
def serving(
    site: Site, broker: BrokerUrl, sim: EscposPrinterSim, spool: Path, hold_s: float = 20.0
) -> Iterator[PrinterService]:
    register_simulator(PRINTER, sim)
    try:
        service = PrinterService(
            site.site.id, site.device(PRINTER), broker, spool=spool, ticket_hold_s=hold_s
        ).start()
        try:
            yield service
        finally:
            service.stop()
    finally:
        unregister_simulator(PRINTER)


@pytest.fixture
def observer(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[Observer]:
    bus = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "test-printer-faults")
    obs = Observer(bus)
    bus.subscribe(bus.topics.device_evt(PRINTER), lambda _t, e: obs.events.append(e), m.device_event_adapter)
    bus.subscribe(bus.topics.device_status(PRINTER), lambda _t, s: obs.statuses.append(s), m.DeviceStatus)
    bus.start()
    yield obs
    bus.stop()


def _status_has(observer: Observer, error: str) -> bool:
    return bool(observer.statuses) and error in observer.statuses[-1].errors


def test_paper_out_at_job_2_is_printed_once_after_a_new_roll(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim(paper_out_at_job=2)
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        observer.send(job("paper-1"))
        assert wait_until(lambda: bool(observer.printed("paper-1")))
        observer.send(job("paper-2"))
        assert wait_until(lambda: _status_has(observer, "paper_out"), timeout=10)
        assert observer.statuses[-1].paper is m.PaperLevel.OUT
        assert not observer.printed("paper-2") and not observer.failed("paper-2")
        sim.load_paper()
        assert wait_until(lambda: bool(observer.printed("paper-2")), timeout=10)
        assert len(sim.pages) == 2
        observer.send(job("paper-2"))  # redelivered: answered, not printed again
        assert wait_until(lambda: len(observer.printed("paper-2")) == 2)
        assert len(sim.pages) == 2


def test_cover_open_holds_the_job_until_closed(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim()
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        sim.open_cover()
        assert wait_until(lambda: _status_has(observer, "cover_open"), timeout=3)
        observer.send(job("cover-1"))
        sim.close_cover()
        assert wait_until(lambda: bool(observer.printed("cover-1")), timeout=10)
        assert len(sim.pages) == 1


def test_cutter_jam_is_confirmed_after_recovery_without_a_reprint(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim()
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        sim.cutter_jam_next_cut()
        observer.send(job("jam-1"))
        assert wait_until(lambda: _status_has(observer, "cutter_error"), timeout=10)
        assert len(sim.pages) == 0
        sim.close_cover()  # the operator clears the jam; the held page is cut
        assert wait_until(lambda: bool(observer.printed("jam-1")), timeout=10)
        assert len(sim.pages) == 1


def test_a_fault_that_never_clears_is_reported(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim()
    sim.open_cover()
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite", hold_s=1.0):
        observer.send(job("never"))
        assert wait_until(lambda: bool(observer.failed("never")), timeout=10)
        assert observer.failed("never")[0].code == "cover_open"
        assert "cover open" in observer.failed("never")[0].reason
        assert len(sim.pages) == 0


def test_unplugged_mid_job_is_reported_unconfirmed_and_not_printed_twice(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim()
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        assert wait_until(lambda: observer.health() is m.Health.OK, timeout=3)
        sim.unplug(after_bytes=3000)
        observer.send(job("unplug-1"))
        assert wait_until(lambda: bool(observer.failed("unplug-1")), timeout=15)
        assert observer.failed("unplug-1")[0].code == "unconfirmed"
        sim.plug_in()
        observer.send(job("unplug-2"))
        assert wait_until(lambda: bool(observer.printed("unplug-2")), timeout=10)
        assert len(sim.pages) == 1
        assert not observer.printed("unplug-1")


def test_slow_link_at_115200_baud_still_prints_once(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim(baud=115_200)
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        observer.send(job("slow-1"))
        assert wait_until(lambda: bool(observer.printed("slow-1")), timeout=15)
        assert len(sim.pages) == 1


def test_the_spool_survives_a_restart(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.sqlite"
    sim = EscposPrinterSim()
    sim.open_cover()
    with serving(demo_site, mosquitto, sim, spool):
        observer.send(job("restart-1"))
        assert wait_until(lambda: _status_has(observer, "cover_open"), timeout=3)
        assert wait_until(lambda: JobSpool(spool).get("restart-1") is not None, timeout=3)
    assert not observer.printed("restart-1") and not observer.failed("restart-1")
    sim.close_cover()
    with serving(demo_site, mosquitto, sim, spool):
        assert wait_until(lambda: bool(observer.printed("restart-1")), timeout=10)
        observer.send(job("restart-1"))
        assert wait_until(lambda: len(observer.printed("restart-1")) == 2)
    assert len(sim.pages) == 1
    record = JobSpool(spool).get("restart-1")
    assert record is not None and record.state is JobState.PRINTED and record.command is None


def test_status_changes_are_published_while_a_slow_job_is_sent(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim(baud=9600)  # the job takes seconds on this line
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        assert wait_until(lambda: observer.health() is m.Health.OK, timeout=3)
        before = sim.bytes_received
        observer.send(job("slow-cover"))
        assert wait_until(lambda: sim.jobs_started == 1, timeout=10)
        sim.open_cover()
        assert wait_until(lambda: _status_has(observer, "cover_open"), timeout=20)
        on_the_line = sim.bytes_received - before
        assert not observer.printed("slow-cover")
        sim.close_cover()
        assert wait_until(lambda: bool(observer.printed("slow-cover")), timeout=30)
        job_bytes = observer.printed("slow-cover")[0].bytes_sent
        assert on_the_line < job_bytes  # the status went out while the job was still being sent
        assert len(sim.pages) == 1


def test_a_job_that_cannot_be_spooled_is_reported(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    sim = EscposPrinterSim()
    with serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite") as service:
        service.spool.close()  # as if the disk went away
        observer.send(job("no-disk"))
        assert wait_until(lambda: bool(observer.failed("no-disk")))
        failed = observer.failed("no-disk")[0]
        assert failed.code == "internal" and "cannot store the job" in failed.reason
        assert len(sim.pages) == 0


def test_a_sent_job_is_confirmed_not_reprinted_after_a_restart(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, tmp_path: Path
) -> None:
    spool = tmp_path / "spool.sqlite"
    sim = EscposPrinterSim()
    sim.cutter_jam_next_cut()
    with serving(demo_site, mosquitto, sim, spool):
        observer.send(job("jam-restart"))
        assert wait_until(lambda: _status_has(observer, "cutter_error"), timeout=10)
    record = JobSpool(spool).get("jam-restart")
    assert record is not None and record.state is JobState.SENT
    sim.close_cover()  # cleared while the service was down: the held page comes out
    assert len(sim.pages) == 1
    with serving(demo_site, mosquitto, sim, spool):
        assert wait_until(lambda: bool(observer.printed("jam-restart")), timeout=10)
    assert len(sim.pages) == 1


def test_a_form_01_receipt_prints_and_its_personal_data_is_not_logged(
    demo_site: Site,
    mosquitto: BrokerUrl,
    observer: Observer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import json

    import zxingcpp

    data = json.loads(
        (Path(__file__).parent / "golden" / "printer" / "receipt.json").read_text(encoding="utf-8")
    )
    command = m.PrintReceipt(job_id="receipt-1", receipt=m.ReceiptPrint.model_validate(data))
    bad = m.PrintReceipt(
        job_id="receipt-bad", receipt=command.receipt.model_copy(update={"dossier_code": "bad code"})
    )
    sim = EscposPrinterSim()
    with caplog.at_level(logging.DEBUG), serving(demo_site, mosquitto, sim, tmp_path / "spool.sqlite"):
        observer.bus.publish(observer.bus.topics.device_cmd(PRINTER), command)
        observer.bus.publish(observer.bus.topics.device_cmd(PRINTER), bad)
        assert wait_until(
            lambda: bool(observer.printed("receipt-1")) and bool(observer.failed("receipt-bad"))
        )
    assert "dossier_code" in observer.failed("receipt-bad")[0].reason
    assert observer.failed("receipt-bad")[0].code == "bad_data"
    (page,) = sim.pages
    codes = {r.format.name: r.text for r in zxingcpp.read_barcodes(page.convert("L"))}
    assert codes["Code128"] == "H21.65-220914-0011"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "receipt-1" in logged  # the log does talk about the job
    for personal in ("Nguyễn Văn Mẫu", "Mẫu", "Trần Thị Tiếp Nhận"):
        assert personal not in logged
    record = JobSpool(tmp_path / "spool.sqlite").get("receipt-1")
    assert record is not None and record.command is None  # the name left the spool with the job
