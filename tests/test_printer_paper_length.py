"""The paper a job uses, measured from its ESC/POS bytes, against what the simulator's roll lost.

The printer service reports it on every ``job_printed`` (``paper_mm``), so the server can follow each
roll; the simulator models the roll by dot rows (0.125 mm), so the two must agree to a few per cent.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.paper_length import paper_mm
from printer.profiles import profile_for_width
from printer.ticket import TicketData, render_ticket


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("qr", [None, "https://ttphvhcc.example.gov.vn/t/abcdefghijkl"])
def test_a_tickets_paper_matches_what_the_simulated_roll_lost(width: int, qr: str | None) -> None:
    ticket = TicketData(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name="Đất đai",
        number="A1023",
        issued_at=datetime(2026, 12, 4, 8, 30, tzinfo=UTC),
        waiting=3,
        estimated_wait_min=12,
        qr_url=qr,
    )
    data = render_ticket(ticket, profile=profile_for_width(width))
    sim = EscposPrinterSim(width_dots=width)
    before = sim.paper_left_mm
    sim.replay(data)
    used = before - sim.paper_left_mm
    assert used > 50
    assert paper_mm(data) == pytest.approx(used, rel=0.05)


def test_feeds_lines_and_garbage() -> None:
    esc_j = b"\x1bJ\x50"  # 80 dots
    raster = b"\x1dv0\x00\x02\x00\x10\x00" + b"\x00" * 32  # 16 rows
    lines = b"ab\n\n" + b"\x1b3\x40" + b"c\n"  # 30 + 30 + 64 dots
    cut = b"\x1dVA\x10"  # 16 dots
    assert paper_mm(esc_j + raster + lines + cut) == (80 + 16 + 30 + 30 + 64 + 16) * 0.125
    assert paper_mm(b"") == 0
    assert paper_mm(bytes(range(256)) * 4) >= 0  # garbage never raises
    assert paper_mm(b"\x1dv0\x00\xff") == 0  # a raster cut short: nothing printed
