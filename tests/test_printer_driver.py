"""EscposPrinter over ``sim://``: status, tickets, faults, timeouts. Same code a real printer gets."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import printer_rig
import pytest
from printer_rig import Connect

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.errors import (
    CoverOpenError,
    CutterError,
    PaperOutError,
    PrinterError,
    PrinterLinkError,
    PrinterTimeoutError,
)
from printer.status import PaperState, PrinterStatus
from printer.ticket import TicketData
from transport.sim import SimLink

connect = printer_rig.connect  # the fixture: a printer on a simulator over sim://


def ticket(number: str = "A1023") -> TicketData:
    return TicketData(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name="Lĩnh vực Đất đai",
        number=number,
        issued_at=datetime(2026, 11, 23, 8, 5),
        waiting=3,
    )


class NoisyLink:
    """Puts a stray byte and an ASB block in front of every reply, as a busy serial line might."""

    def __init__(self, link: SimLink) -> None:
        self.link = link

    def send(self, data: bytes) -> None:
        self.link.send(b"\xff\x10\x0c\x0c\x00" + data)


class NoisyPrinterSim(EscposPrinterSim):
    def attach(self, link: SimLink) -> None:
        super().attach(NoisyLink(link))


def test_query_status_of_a_healthy_printer(connect: Connect) -> None:
    printer = connect(EscposPrinterSim())
    status = printer.query_status()
    assert status == PrinterStatus(paper=PaperState.OK)
    assert status.replies == ((1, 0x16), (2, 0x12), (3, 0x12), (4, 0x12))


def test_print_ticket_is_confirmed_by_gs_r(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim)
    sent = printer.print_ticket(ticket())
    assert 1000 < sent < 20_000
    assert len(sim.pages) == 1
    assert "A1023" in sim.page_texts[0]


def test_paper_out_during_job_2_then_refused(connect: Connect) -> None:
    sim = EscposPrinterSim(paper_out_at_job=2)
    printer = connect(sim, confirm_timeout=0.3)
    printer.print_ticket(ticket("A1"))
    with pytest.raises(PaperOutError) as failed:
        printer.print_ticket(ticket("A2"))
    message = str(failed.value)
    assert message.startswith("printer sim://printer-test-")
    assert "is out of paper (DLE EOT 4 = 0x72); ticket A2 was not printed" in message
    started = time.monotonic()
    with pytest.raises(PaperOutError, match="ticket A3 was not printed"):
        printer.print_ticket(ticket("A3"))
    assert time.monotonic() - started < 0.2  # refused from the status, not after a timeout
    assert sim.page_texts == [sim.page_texts[0]] and "A1" in sim.page_texts[0]
    sim.load_paper()
    printer.print_ticket(ticket("A4"))
    assert len(sim.pages) == 2


def test_cover_open_is_refused_before_printing(connect: Connect) -> None:
    sim = EscposPrinterSim()
    sim.open_cover()
    printer = connect(sim)
    with pytest.raises(CoverOpenError, match=r"cover open \(DLE EOT 2 = 0x16\)"):
        printer.print_ticket(ticket())
    sim.close_cover()
    assert sim.pages == []


def test_cutter_jam_during_the_job(connect: Connect) -> None:
    sim = EscposPrinterSim()
    sim.cutter_jam_next_cut()
    printer = connect(sim, confirm_timeout=0.3)
    with pytest.raises(CutterError, match="remove the jammed paper"):
        printer.print_ticket(ticket())


def test_near_end_is_reported_and_logged(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    printer = connect(EscposPrinterSim(near_end_at_job=1))
    with caplog.at_level(logging.WARNING, logger="printer.driver"):
        printer.print_ticket(ticket())
    assert "paper near end after ticket A1023" in caplog.text
    assert printer.query_status().paper is PaperState.NEAR_END


def test_silent_printer_times_out_within_the_timeout(connect: Connect) -> None:
    printer = connect(EscposPrinterSim(silent=True))
    started = time.monotonic()
    with pytest.raises(
        PrinterTimeoutError, match=r"sim://printer-test-\d+ did not answer DLE EOT 1 within 0.3 s"
    ):
        printer.query_status(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 0.8
    with pytest.raises(PrinterTimeoutError):
        printer.print_ticket(ticket())


def test_stray_bytes_and_asb_blocks_are_skipped(connect: Connect) -> None:
    sim = NoisyPrinterSim()
    printer = connect(sim)
    assert printer.query_status().can_print
    printer.print_ticket(ticket())
    assert len(sim.pages) == 1
    assert printer.wait_printed(timeout=0.5) is PaperState.OK  # the ASB block's 0C is not a GS r reply


def test_printer_unplugged_mid_way_then_back(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim, confirm_timeout=0.3)
    sim.silent = True
    with pytest.raises(PrinterTimeoutError):
        printer.wait_printed()
    sim.silent = False
    assert printer.query_status().can_print


def test_closed_link_becomes_a_printer_link_error(connect: Connect) -> None:
    printer = connect(EscposPrinterSim())
    printer.transport.close()
    with pytest.raises(PrinterLinkError, match="link failed while") as failed:
        printer.print_bytes(b"\x1b@")
    assert isinstance(failed.value, PrinterError)


def test_print_bytes_in_chunks(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim, chunk_size=3)
    printer.print_bytes(b"\x1b@\x1ba\x01CHUNKED\n\x1dV\x01")
    assert sim.page_texts == ["CHUNKED"]
    assert printer.wait_printed(timeout=0.5) is PaperState.OK


def test_status_is_polled_while_waiting_and_a_jam_ends_the_wait(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim)
    seen: list[PrinterStatus] = []
    sim.cutter_jam_next_cut()
    printer.print_bytes(b"\x1b@JAMMED\n\x1dV\x01")
    with pytest.raises(CutterError, match="job j1 was not printed"):
        printer.wait_printed(30.0, poll_s=0.2, on_status=seen.append, job="job j1")
    assert seen and seen[-1].cutter_error
    sim.close_cover()
    assert printer.wait_printed(timeout=1.0) is PaperState.OK
    assert sim.page_texts == ["JAMMED"]


def test_a_gs_r_reply_that_comes_with_status_replies_is_kept(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim)
    sim.open_cover()
    printer.print_bytes(b"\x1b@HELD\n\x1dV\x01\x1dr\x01")  # held: the cover is open
    sim.close_cover()  # prints, and the GS r 1 answer arrives before anyone waits for it
    assert printer._ask_status(0.5).can_print  # reads past the GS r reply without losing it
    assert printer.wait_printed(timeout=0.5, ask=False) is PaperState.OK


def test_asb_blocks_reach_the_handler(connect: Connect) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim)
    got: list[PrinterStatus] = []
    printer.on_asb = got.append
    printer.print_bytes(b"\x1da\x0f")  # enable Automatic Status Back: one block now
    sim.open_cover()  # and one on the change
    with pytest.raises(PrinterTimeoutError):
        printer.wait_printed(timeout=0.3, ask=False)
    assert [s.cover_open for s in got] == [False, True]
