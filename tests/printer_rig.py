"""The ``connect`` fixture of the printer driver tests: ``connect(sim, **options)`` opens an
``EscposPrinter`` on that simulator over a ``sim://`` link; every printer is closed and its simulator
unregistered after the test. A test module takes it with ``connect = printer_rig.connect``."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.driver import EscposPrinter
from transport.sim import open_sim, register_simulator, unregister_simulator

_names = itertools.count(1)
Connect = Callable[..., EscposPrinter]


@pytest.fixture
def connect() -> Iterator[Connect]:
    opened: list[tuple[str, EscposPrinter]] = []

    def open_printer(sim: EscposPrinterSim, **options: Any) -> EscposPrinter:
        name = f"printer-test-{next(_names)}"
        register_simulator(name, sim)
        printer = EscposPrinter(open_sim(f"sim://{name}", name, timeout=1.0), **options)
        opened.append((name, printer))
        return printer

    yield open_printer
    for name, printer in opened:
        printer.close()
        unregister_simulator(name)
