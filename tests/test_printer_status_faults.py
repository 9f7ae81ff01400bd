"""Status bits that must stop a job: DLE EOT 3 bit 2 (mechanical), DLE EOT 2 bit 6 (error occurred),
and a reader that starts in the middle of an Automatic Status Back block. Byte-exact, then through the
simulator's fault control and the driver."""

from __future__ import annotations

import printer_rig
import pytest
from printer_rig import Connect

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.errors import PrinterFaultError
from printer.status import (
    PaperState,
    PrinterStatus,
    Reply,
    ReplyKind,
    StatusStream,
    decode_asb,
    decode_status,
    encode_asb,
    encode_status,
)
from transport.sim import SimLink

HEALTHY = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}

connect = printer_rig.connect  # the fixture: a printer on a simulator over sim://


def test_dle_eot_3_bit_2_is_a_mechanical_error_that_stops_printing() -> None:
    status = decode_status({**HEALTHY, 2: 0x52, 3: 0x16})
    assert status.mechanical_error
    assert not status.unexplained_error  # DLE EOT 3 names the cause
    assert not status.can_print
    assert status.problems == ["mechanical error"]


def test_dle_eot_2_bit_6_alone_is_an_error_that_stops_printing() -> None:
    status = decode_status({**HEALTHY, 2: 0x52})
    assert status.unexplained_error
    assert not status.can_print
    assert status.problems == ["error occurred"]
    assert decode_status({2: 0x52}).problems == ["error occurred"]  # DLE EOT 3 not asked


def test_error_bits_encode_as_the_manual_says() -> None:
    mechanical = PrinterStatus(paper=PaperState.OK, mechanical_error=True)
    assert [encode_status(mechanical, n) for n in (1, 2, 3, 4)] == [0x16, 0x52, 0x16, 0x12]
    unexplained = PrinterStatus(paper=PaperState.OK, unexplained_error=True)
    assert [encode_status(unexplained, n) for n in (1, 2, 3, 4)] == [0x16, 0x52, 0x12, 0x12]
    assert encode_asb(mechanical) == bytes.fromhex("10 04 00 00")
    assert decode_asb(bytes.fromhex("18 04 00 00")).mechanical_error


def test_a_stream_read_from_the_middle_of_an_asb_block_skips_its_tail() -> None:
    # the header 18 went by before the port was read; 08 0c 00 is the block's tail, not "paper out"
    replies = StatusStream().feed(bytes.fromhex("08 0c 00 16 10 00 00 00 00"))
    assert replies == [
        Reply(ReplyKind.NOISE, b"\x08"),
        Reply(ReplyKind.NOISE, b"\x0c"),
        Reply(ReplyKind.NOISE, b"\x00"),
        Reply(ReplyKind.STATUS, b"\x16"),
        Reply(ReplyKind.ASB, bytes.fromhex("10 00 00 00")),
        Reply(ReplyKind.PAPER_SENSOR, b"\x00"),  # synchronised: now a GS r reply
    ]


def test_the_stream_resynchronises_on_an_asb_header() -> None:
    replies = StatusStream().feed(bytes.fromhex("0c 00 18 08 0c 00 0c"))
    kinds = [r.kind for r in replies]
    assert kinds == [ReplyKind.NOISE, ReplyKind.NOISE, ReplyKind.ASB, ReplyKind.PAPER_SENSOR]
    assert decode_asb(replies[2].data).cutter_error


def test_a_block_broken_by_a_status_reply_is_given_up() -> None:
    replies = StatusStream(synced=True).feed(bytes.fromhex("10 08 16 00"))
    assert replies == [
        Reply(ReplyKind.NOISE, b"\x10"),
        Reply(ReplyKind.NOISE, b"\x08"),
        Reply(ReplyKind.STATUS, b"\x16"),
        Reply(ReplyKind.PAPER_SENSOR, b"\x00"),
    ]


# --- through the simulator's fault control and the driver ----------------------------------------


class _HeaderLostLink:
    """Drops the first byte the printer sends: the port was opened after an ASB header went by."""

    def __init__(self, link: SimLink) -> None:
        self.link = link
        self.dropped = False

    def send(self, data: bytes) -> None:
        if not self.dropped and data:
            self.dropped, data = True, data[1:]
        self.link.send(data)


class _MidBlockSim(EscposPrinterSim):
    def attach(self, link: SimLink) -> None:
        super().attach(_HeaderLostLink(link))


@pytest.mark.parametrize(
    ("error", "replies", "problem"),
    [
        ("mechanical", ((1, 0x1E), (2, 0x52), (3, 0x16), (4, 0x12)), "mechanical error"),
        ("unexplained", ((1, 0x1E), (2, 0x52), (3, 0x12), (4, 0x12)), "error occurred"),
    ],
)
def test_the_simulator_reports_the_error_and_the_driver_refuses_to_print(
    connect: Connect, error: str, replies: tuple[tuple[int, int], ...], problem: str
) -> None:
    sim = EscposPrinterSim()
    printer = connect(sim)
    sim.set_faults({"error": error})
    assert sim.fault_state()["error"] == error
    status = printer.query_status()
    assert status.replies == replies
    assert not status.can_print
    assert problem in status.problems
    with pytest.raises(PrinterFaultError, match=problem):
        printer.ensure_ready(job="job j1")
    sim.set_faults({"error": "none"})
    assert printer.query_status().can_print


def test_an_asb_block_read_from_its_middle_is_not_taken_for_paper_out(
    connect: Connect,
) -> None:
    sim = _MidBlockSim()
    sim.receive(b"\x1da\x0f")  # ASB was switched on before the driver opened the port
    printer = connect(sim)
    seen: list[PrinterStatus] = []
    printer.on_asb = seen.append
    sim.cutter_jam_next_cut()
    sim.receive(b"\x1b@JAM\n\x1dV\x01")  # the cut jams: block 18 08 00 00, the reader sees 08 00 00
    sim.clear_faults()  # block 10 00 00 00, the page comes out
    assert printer.wait_printed(timeout=1.0) is PaperState.OK
    assert [s.cutter_error for s in seen] == [False]
    assert sim.page_texts == ["JAM"]
