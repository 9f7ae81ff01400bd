"""The ESC/POS printer simulator: replies, faults, rendering, and robustness against any bytes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from support import wait_until

from firmware_sim.escpos_printer import MM_PER_ROW, EscposPrinterSim

STATUS_ALL = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
HEALTHY = b"\x16\x12\x12\x12"
GS_R_1 = b"\x1d\x72\x01"


def job(text: str = "HELLO") -> bytes:
    return b"\x1b@" + text.encode("ascii") + b"\n\x1dV\x01"


class Link:
    """Collects what the simulator sends to the host."""

    def __init__(self) -> None:
        self.data = bytearray()

    def send(self, data: bytes) -> None:
        self.data += data

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


@pytest.fixture
def link() -> Link:
    return Link()


def attached(link: Link, **options: object) -> EscposPrinterSim:
    sim = EscposPrinterSim(**options)  # type: ignore[arg-type]
    sim.attach(link)
    return sim


def black(image: Image.Image) -> int:
    return image.convert("L").histogram()[0]


def test_healthy_printer_answers_16_12_12_12(link: Link) -> None:
    sim = attached(link)
    sim.receive(STATUS_ALL)
    assert link.take() == HEALTHY


def test_job_prints_one_page_with_its_text_and_confirms(link: Link) -> None:
    sim = attached(link)
    sim.receive(job("A1023") + GS_R_1)
    assert link.take() == b"\x00"
    assert sim.page_texts == ["A1023"]
    assert sim.pages[0].width == 576
    assert black(sim.pages[0]) > 50


def test_paper_out_at_job_2(link: Link) -> None:
    sim = attached(link, paper_out_at_job=2)
    sim.receive(job("ONE") + GS_R_1 + STATUS_ALL)
    assert link.take() == b"\x00" + HEALTHY
    sim.receive(job("TWO") + GS_R_1 + STATUS_ALL)
    assert link.take() == b"\x1e\x32\x12\x72"  # no GS r reply: the job never finished
    sim.receive(job("THREE") + GS_R_1)
    assert link.take() == b""
    assert sim.page_texts == ["ONE"]
    sim.load_paper()
    sim.receive(job("FOUR") + GS_R_1 + STATUS_ALL)
    assert link.take() == b"\x00" + HEALTHY
    assert sim.page_texts == ["ONE", "FOUR"]


def test_near_end_at_job_1_still_prints(link: Link) -> None:
    sim = attached(link, near_end_at_job=1)
    sim.receive(STATUS_ALL)
    assert link.take() == HEALTHY
    sim.receive(job() + GS_R_1 + b"\x10\x04\x04")
    assert link.take() == b"\x03\x1e"
    assert len(sim.pages) == 1


def test_cover_open_holds_data_until_closed(link: Link) -> None:
    sim = attached(link)
    sim.open_cover()
    sim.receive(job() + GS_R_1 + STATUS_ALL)
    assert link.take() == b"\x1e\x16\x12\x12"
    assert sim.pages == []
    sim.close_cover()
    assert link.take() == b"\x00"
    assert len(sim.pages) == 1


def test_cutter_jam_stops_until_the_cover_is_cycled(link: Link) -> None:
    sim = attached(link)
    sim.cutter_jam_next_cut()
    sim.receive(job() + GS_R_1 + STATUS_ALL)
    assert link.take() == b"\x1e\x52\x1a\x12"
    assert sim.pages == []
    sim.open_cover()
    sim.close_cover()
    sim.receive(STATUS_ALL)
    assert link.take() == HEALTHY
    assert len(sim.pages) == 1


def test_silent_printer_answers_nothing_and_prints_nothing(link: Link) -> None:
    sim = attached(link, silent=True)
    sim.receive(job() + GS_R_1 + STATUS_ALL)
    assert link.take() == b""
    assert sim.pages == []


def test_dle_eot_is_answered_mid_job_even_split_across_chunks(link: Link) -> None:
    sim = attached(link)
    raster_header = b"\x1dv0\x00\x01\x00\x04\x00"
    for chunk in (raster_header + b"\xff\x10", b"\x04", b"\x04\xff"):
        sim.receive(chunk)
    assert link.take() == b"\x12"  # real firmware answers 10 04 04 even inside raster data


def test_automatic_status_back_reports_changes(link: Link) -> None:
    sim = attached(link)
    sim.receive(b"\x1da\xff")
    assert link.take() == b"\x10\x00\x00\x00"
    sim.open_cover()
    assert link.take() == b"\x38\x00\x00\x00"
    sim.close_cover()
    assert link.take() == b"\x10\x00\x00\x00"
    sim.receive(b"\x1da\x00")
    sim.open_cover()
    assert link.take() == b""


def test_roll_is_consumed_per_dot_row() -> None:
    sim = EscposPrinterSim(paper_length_mm=1000.0)
    sim.receive(b"\x1bd\x0a\x1dV\x00")
    assert sim.pages[0].height == 300
    assert sim.paper_left_mm == pytest.approx(1000.0 - 300 * MM_PER_ROW)


def test_running_out_mid_job_is_reported_at_paper_end(link: Link) -> None:
    sim = attached(link, paper_length_mm=2.0, near_end_mm=1.0)
    sim.receive(job("X" * 200) + GS_R_1 + b"\x10\x04\x04")
    assert link.take() == b"\x72"
    assert sim.pages == []


def test_alignment_and_sizes(link: Link) -> None:
    sim = attached(link)
    (left,) = sim.replay(b"\x1b@I\n")
    (centre,) = sim.replay(b"\x1b@\x1ba\x01I\n")
    (big,) = sim.replay(b"\x1b@\x1d!\x11I\n")
    assert left.getbbox() is not None
    assert _ink_box(left)[0] < 12
    assert 270 < _ink_box(centre)[0] < 300
    assert _ink_box(big)[3] - _ink_box(big)[1] > 1.5 * (_ink_box(left)[3] - _ink_box(left)[1])


def test_raster_qr_and_barcode_are_drawn() -> None:
    sim = EscposPrinterSim()
    raster = b"\x1dv0\x00\x01\x00\x02\x00\xff\x81"
    (page,) = sim.replay(raster)
    assert [page.getpixel((x, 0)) for x in range(8)] == [0] * 8
    assert [page.getpixel((x, 1)) for x in range(8)] == [0, 255, 255, 255, 255, 255, 255, 0]
    qr = b"\x1d(k\x03\x001C\x04\x1d(k\x07\x001P0ABCD\x1d(k\x03\x001Q0"
    (page,) = sim.replay(qr)
    assert page.height == 21 * 4 and black(page) > 21 * 21 * 4
    (page,) = sim.replay(b"\x1dh\x50\x1dH\x02\x1dkI\x06{BA123")
    assert page.height >= 80 + 24
    assert sim.page_texts[-1] == "A123"


def test_code_pages_and_kanji_mode() -> None:
    sim = EscposPrinterSim()
    sim.replay(b"\x1b@\x1bt\x10caf\xe9\n")
    sim.replay(b"\x1b@\x1c&\xc4\xe3\x1c.\n")
    assert sim.page_texts == ["café", "你"]


def test_clone_in_kanji_mode_needs_fs_dot() -> None:
    clone = EscposPrinterSim(kanji_default=True)
    clone.replay(b"\x1b@\x1bt\x10caf\xe9!\n")
    clone.replay(b"\x1b@\x1c.\x1bt\x10caf\xe9!\n")
    assert clone.page_texts[0] != "café!"
    assert clone.page_texts[1] == "café!"


def test_unknown_commands_are_skipped() -> None:
    sim = EscposPrinterSim()
    sim.replay(b"\x1b\xfe\x1d\xfe\x1c\xfeOK\n")
    assert sim.page_texts == ["OK"]


def test_on_page_callback_and_save(tmp_path: object) -> None:
    seen: list[tuple[int, str]] = []
    sim = EscposPrinterSim(on_page=lambda index, image, text: seen.append((index, text)))
    sim.receive(job("A") + job("B"))
    assert seen == [(0, "A"), (1, "B")]
    paths = sim.save_pages(tmp_path)  # type: ignore[arg-type]
    assert [p.name for p in paths] == ["page-0001.png", "page-0002.png"]


def test_a_failing_callback_does_not_stop_the_printer(caplog: pytest.LogCaptureFixture) -> None:
    def boom(index: int, image: Image.Image, text: str) -> None:
        raise RuntimeError("boom")

    sim = EscposPrinterSim(on_page=boom)
    sim.receive(job("A") + job("B"))
    assert len(sim.pages) == 2
    assert "on_page callback failed" in caplog.text


def test_faults_from_another_thread_while_printing(link: Link) -> None:
    sim = attached(link)
    stop = threading.Event()

    def toggle() -> None:
        while not stop.is_set():
            sim.open_cover()
            sim.close_cover()

    worker = threading.Thread(target=toggle)
    worker.start()
    try:
        for _ in range(50):
            sim.receive(job())
    finally:
        stop.set()
        worker.join()
    sim.close_cover()
    assert len(sim.pages) == 50


def _ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    from PIL import ImageOps

    box = ImageOps.invert(image.convert("L")).getbbox()
    assert box is not None
    return box


PIECES = [
    b"\x1b",
    b"\x1d",
    b"\x1c",
    b"\x10\x04\x01",
    b"\x1dV\x01",
    b"\x1d!\x77",
    b"\n",
    b"\x1c&",
    b"\x1da\x01",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(PIECES)), max_size=30),
    st.lists(st.integers(1, 9), min_size=1, max_size=10),
)
def test_any_bytes_in_any_chunks_never_raise_and_print_the_same(pieces: list[bytes], cuts: list[int]) -> None:
    data = b"".join(pieces)
    whole, chunked = Link(), Link()
    reference = attached(whole)
    reference.receive(data)
    reference.replay(b"")
    sim = attached(chunked)
    pos, i = 0, 0
    while pos < len(data):
        sim.receive(data[pos : pos + cuts[i % len(cuts)]])
        pos, i = pos + cuts[i % len(cuts)], i + 1
    sim.replay(b"")
    assert sim.page_texts == reference.page_texts
    assert [p.tobytes() for p in sim.pages] == [p.tobytes() for p in reference.pages]
    assert chunked.data == whole.data


def test_random_bytes_log_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    import random

    rng = random.Random(1)
    sim = EscposPrinterSim()
    with caplog.at_level(logging.WARNING):
        for _ in range(200):
            sim.receive(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_dle_dc4_inside_raster_data_is_obeyed_as_firmware_does() -> None:
    band = b"\x1d\x76\x30\x00\x02\x00\x03\x00" + b"\x00\x10\x14\x01\x00\x01"
    sim = EscposPrinterSim()
    sim.receive(band)
    assert sim.drawer_pulses == 1
    sim.receive(b"\x1d\x76\x30\x00\x05\x00\x01\x00\x10\x14\x02")  # power off, split across writes
    assert not sim.silent
    sim.receive(b"\x01\x08")
    assert sim.silent
    sim.plug_in()
    assert not sim.silent


def test_cli_serves_the_printer_on_tcp_for_a_real_driver(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    from datetime import datetime

    from printer.driver import EscposPrinter
    from printer.ticket import TicketData
    from transport import open_transport

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua_cli.main", "sim", "printer", "--tcp", "0", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(";", 1)[0]
        assert url.startswith("tcp://127.0.0.1:")
        ticket = TicketData(
            centre_name="Trung tâm",
            service_name="Đất đai",
            number="A7",
            issued_at=datetime(2026, 1, 2),
            waiting=0,
        )
        with EscposPrinter(open_transport(url)) as printer:
            assert printer.query_status().can_print
            printer.print_ticket(ticket)
        assert wait_until((tmp_path / "page-0001.png").is_file, timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
