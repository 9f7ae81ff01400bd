"""What any ESC/POS printer must do for motcua: the simulator by default, real hardware on request.

Run pytest with ``--hw-printer URL`` (``serial:///dev/ttyUSB0?baudrate=115200``,
``tcp://10.0.0.50:9100``, ``usb://0x0416:0x5011``; ``MOTCUA_HW_PRINTER`` still works) to run the
same tests on a real printer; it prints two short tickets. Without it the hardware run is skipped
with a message saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.driver import EscposPrinter
from printer.status import PaperState
from printer.ticket import TicketData
from transport import open_transport
from transport.sim import register_simulator, unregister_simulator

GOLDEN = Path(__file__).parent / "golden" / "printer"


@pytest.fixture(params=["sim", "hardware"])
def printer(request: pytest.FixtureRequest, hardware_url: Callable[[str], str]) -> Iterator[EscposPrinter]:
    if request.param == "hardware":
        with EscposPrinter(open_transport(hardware_url("printer"))) as real:
            yield real
        return
    register_simulator("printer-contract", EscposPrinterSim())
    try:
        with EscposPrinter(open_transport("sim://printer-contract")) as simulated:
            yield simulated
    finally:
        unregister_simulator("printer-contract")


def test_status_replies_follow_the_pattern_and_the_printer_can_print(printer: EscposPrinter) -> None:
    status = printer.query_status()
    assert [n for n, _ in status.replies] == [1, 2, 3, 4]
    assert all(byte & 0x93 == 0x12 for _, byte in status.replies)
    assert status.can_print, status.problems


def test_the_golden_ticket_prints_and_is_confirmed(printer: EscposPrinter) -> None:
    printer.ensure_ready()
    printer.print_bytes((GOLDEN / "ticket-generic-80.bin").read_bytes())
    assert printer.wait_printed(timeout=15) in (PaperState.OK, PaperState.NEAR_END)


def test_a_ticket_through_the_driver(printer: EscposPrinter) -> None:
    ticket = TicketData.model_validate(json.loads((GOLDEN / "ticket.json").read_text(encoding="utf-8")))
    assert printer.print_ticket(ticket, confirm_timeout=15) > 0
    assert printer.query_status().can_print
