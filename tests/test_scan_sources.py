"""Capture sources against real parts: the eSCL simulator over HTTP, SANE's test backend through
scanimage, a real folder, OpenCV reading an image sequence; with the faults a clerk meets."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from firmware_sim import scanner_pages as sp
from firmware_sim.escl_scanner import EsclFaults, EsclSimulator, blank_pages
from scanner.errors import CaptureError, FeederEmptyError, PaperJamError
from scanner.pipeline import process_image, split_documents
from scanner.sources import CameraSource, EsclSource, FolderSource, SaneSource, open_source


@pytest.fixture
def escl() -> Iterator[EsclSimulator]:
    sim = EsclSimulator()
    sim.start()
    yield sim
    sim.stop()


def test_an_escl_feeder_batch_goes_through_the_pipeline(escl: EsclSimulator) -> None:
    source = open_source(escl.url.replace("http://", "escl://") + "?source=Feeder&dpi=200")
    assert isinstance(source, EsclSource)
    assert source.capabilities().tag.endswith("ScannerCapabilities")
    pages = [process_image(p.image, p.name, p.dpi) for p in source.pages()]
    source.close()
    assert len(pages) == 6
    assert [p.blank for p in pages] == [False, True, False, False, False, False]
    assert [p.quarter_turns for p in pages] == [0, 0, 2, 0, 0, 3]
    assert abs(pages[0].skew - 4.5) < 0.5 and pages[3].sheet is not None
    docs = split_documents(pages)
    assert [(d.dossier_code, len(d.pages)) for d in docs] == [
        ("H21.65-220914-0011", 4),
        ("H21.65-220914-0012", 1),
    ]
    assert escl.state.jobs == {}  # the job was closed when the batch ended


def test_escl_faults_empty_feeder_jam_busy_and_bad_settings() -> None:
    sim = EsclSimulator(blank_pages(5), EsclFaults(empty=True, busy_once=True))
    url = sim.start()
    try:
        with pytest.raises(FeederEmptyError, match="feeder is empty"):
            list(EsclSource(url).pages())  # the 503 "busy" first is waited out
        assert len(list(EsclSource(url, source="Platen").pages())) == 1  # the glass still works
        sim.state.faults.empty = False
        sim.state.faults.jam_after = 2
        got = []
        with pytest.raises(PaperJamError, match="rescan from page 3"):
            for page in EsclSource(url).pages():
                got.append(page)
        assert len(got) == 2
        assert EsclSource(url).adf_state() == "ScannerAdfJam"
        sim.clear_jam()
        assert len(list(EsclSource(url).pages())) == 5
        with pytest.raises(CaptureError, match="refused the job: HTTP 400"):
            list(EsclSource(url, dpi=150).pages())
    finally:
        sim.stop()


def test_an_escl_scanner_switched_off_mid_page_is_a_clear_error() -> None:
    sim = EsclSimulator(blank_pages(4), EsclFaults(disconnect_after=1))
    url = sim.start()
    got = []
    try:
        with pytest.raises(CaptureError, match="went away during the scan"):
            for page in EsclSource(url, timeout=5).pages():
                got.append(page)
        assert len(got) == 1
    finally:
        sim.stop()
    with pytest.raises(CaptureError, match="unreachable"):
        list(EsclSource(url, timeout=2).pages())


@pytest.mark.skipif(shutil.which("scanimage") is None, reason="sane-utils not installed")
def test_sane_test_backend_feeder_and_flatbed() -> None:
    feeder = SaneSource("test", "ADF", 200, pages=3, extra=("-x", "60", "-y", "80"))
    pages = list(feeder.pages())
    assert len(pages) == 3
    assert all(p.dpi is not None and abs(p.dpi - 200) < 1 for p in pages)
    h, w = pages[0].image.shape[:2]
    assert abs(h - 80 / 25.4 * 200) <= 2 and abs(w - 60 / 25.4 * 200) <= 2  # 60 × 80 mm at 200 dpi
    whole = list(SaneSource("test", "ADF", 100, extra=("-x", "20", "-y", "20")).pages())
    assert len(whole) == 10  # the test backend's feeder holds ten sheets
    assert len(list(SaneSource("test", "Flatbed", 100, extra=("-x", "20", "-y", "20")).pages())) == 1
    with pytest.raises(CaptureError, match="nothing scanned"):
        list(SaneSource("nosuchbackend:0").pages())


def test_a_watched_folder_takes_settled_files_and_sets_bad_ones_aside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cv2.imwrite(str(inbox / "scan001.jpg"), sp.render_page(1))
    (inbox / "scan002.jpg").write_bytes(b"\xff\xd8\xff\xe0 half a file")
    (inbox / "notes.txt").write_text("not a page")
    source = FolderSource(inbox, settle=0.3)
    assert list(source.pages()) == []  # just written: the scanner may still be writing
    time.sleep(0.35)
    pages = list(source.pages())
    assert [p.name.rsplit("/", 1)[-1] for p in pages] == ["scan001.jpg"]
    assert (inbox / ".taken" / "scan001.jpg").exists()
    assert "scan002.jpg" in source.refused[0][0]
    assert "not a readable image" in (inbox / ".refused" / "scan002.jpg.why.txt").read_text()
    assert (inbox / "notes.txt").exists()
    with pytest.raises(CaptureError, match="no such folder"):
        list(FolderSource(tmp_path / "missing").pages())


def test_a_document_camera_through_videocapture(tmp_path: Path) -> None:
    for i in range(2):
        shot = sp.photograph(sp.render_page(i, qr_text="H21.65-220914-0011"), i, size=(1600, 2000))
        cv2.imwrite(str(tmp_path / f"frame_{i:03d}.png"), shot.image)
    source = open_source(f"camera:{tmp_path}/frame_%03d.png?frames=5")
    assert isinstance(source, CameraSource)
    frames = list(source.pages())
    assert len(frames) == 2
    result = process_image(frames[0].image, frames[0].name)
    assert result.sheet is not None and result.dossier_codes == ["H21.65-220914-0011"]
    with pytest.raises(CaptureError, match="cannot open the camera"):
        list(CameraSource(os.fspath(tmp_path / "nothing_%03d.png")).pages())


def test_unknown_source_urls_are_refused() -> None:
    with pytest.raises(CaptureError, match="unknown scheme"):
        open_source("ftp://scanner")
    with pytest.raises(CaptureError, match="bad parameter"):
        open_source("escl://127.0.0.1:1?dpi=high")


def test_scan_capture_from_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pikepdf

    from motcua_cli.main import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(2):
        path = inbox / f"scan{i}.png"
        cv2.imwrite(str(path), sp.skew(sp.render_page(i, qr_text="H21.65-220914-0011"), 3.0 * i))
        os.utime(path, (time.time() - 10, time.time() - 10 + i))
    out = tmp_path / "d.pdf"
    assert main(["scan", "capture", f"folder:{inbox}?settle=2", "--out", str(out)]) == 0
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
    assert sorted(p.name for p in (inbox / ".taken").iterdir()) == ["scan0.png", "scan1.png"]
    assert capsys.readouterr().out.count("dossier H21.65-220914-0011") >= 2
