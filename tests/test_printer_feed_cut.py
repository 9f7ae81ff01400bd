"""How a job ends follows the printer's profile: the feed and the cut it implies, and nothing else."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.driver import EscposPrinter
from printer.escpos_decoder import EscposDecoder
from printer.profiles import BUILTIN_PROFILES, PrinterProfile, find_profile
from printer.status import PaperState
from printer.ticket import TicketData, render_ticket
from transport.sim import open_sim, register_simulator, unregister_simulator

_names = itertools.count(1)
TICKET = TicketData(
    centre_name="Trung tâm Phục vụ hành chính công",
    service_name="Lĩnh vực Đất đai",
    number="A12",
    issued_at=datetime(2026, 11, 23, 8, 5),
    waiting=2,
    estimated_wait_min=10,
)
IMPLIED = {
    "generic-80": [("ESC d", b"\x06"), ("GS V", b"\x01")],
    "generic-58": [("ESC d", b"\x06"), ("GS V", b"\x01")],
    "tm-t88v": [("ESC d", b"\x06"), ("GS V", b"\x01")],
    "tm-t20ii": [("ESC d", b"\x06"), ("GS V", b"\x01")],
    "clone-80": [("ESC d", b"\x06"), ("GS V", b"\x01")],
    "pos-5890": [("ESC d", b"\x04")],  # no cutter: fed past the tear bar, never a GS V
}


def test_every_builtin_profile_is_covered() -> None:
    assert set(IMPLIED) == set(BUILTIN_PROFILES)


@pytest.mark.parametrize("name", sorted(IMPLIED))
def test_the_simulator_sees_exactly_the_feed_and_cut_of_the_profile(name: str) -> None:
    profile = find_profile(name)
    data = render_ticket(TICKET, profile=profile)
    assert data.endswith(profile.job_end())
    sim = EscposPrinterSim(width_dots=profile.width, cutter=profile.cut_mode != "none")
    sim.replay(data)
    assert list(sim.paper_moves) == IMPLIED[name]
    assert ("cut" in profile.capabilities()) == (profile.cut_mode != "none")


def test_pos_5890_lists_no_cut_and_sends_none() -> None:
    profile = find_profile("pos-5890")
    assert profile.cut_mode == "none"
    assert "cut" not in profile.capabilities()
    names = [c.name for c in EscposDecoder().feed(render_ticket(TICKET, profile=profile))]
    assert not {"GS V", "ESC i", "ESC m"} & set(names)


def test_a_site_profile_can_give_a_clone_its_cutter() -> None:
    """The base profile says no cutter; the site knows better: the cut is sent (python-escpos drops it)."""
    profile = PrinterProfile(base="POS-5890", native_qr=False, cut="full", feed_lines=5)
    assert render_ticket(TICKET, profile=profile).endswith(b"\x1b\x64\x05\x1d\x56\x00")
    assert PrinterProfile(base="POS-5890", feed_lines=0).job_end() == b""


def test_the_driver_ends_a_ticket_as_its_profile_says() -> None:
    profile = find_profile("pos-5890")
    sim = EscposPrinterSim(width_dots=profile.width, cutter=False)
    name = f"printer-feed-{next(_names)}"
    register_simulator(name, sim)
    try:
        with EscposPrinter(open_sim(f"sim://{name}", name, timeout=1.0), profile=profile) as printer:
            assert printer.width_dots == 384
            printer.print_ticket(TICKET)
            assert list(sim.paper_moves) == [("ESC d", b"\x04")]
            assert sim.pages == []  # nothing cut: the page is still on the roll
            sim.tear_off()
            assert len(sim.pages) == 1
            assert printer.query_status().paper is PaperState.OK
    finally:
        unregister_simulator(name)
