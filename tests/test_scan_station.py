"""The station window offscreen, fed by the eSCL simulator: scan, edit, validate the code, send."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from PySide6.QtCore import QModelIndex, Qt

from firmware_sim.escl_scanner import EsclSimulator
from scanner.sources import EsclSource
from scanner.spool import Spool, new_key, parse_key
from scanner.station import StationBatch
from scanner.station_ui import StationWindow
from scanner.upload import Uploader


@pytest.fixture
def escl() -> Iterator[str]:
    sim = EsclSimulator()
    yield sim.start()
    sim.stop()


def test_scan_edit_and_send_from_the_station_window(qtbot, escl: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spool = Spool(tmp_path / "spool", parse_key(new_key()))
    window = StationWindow(StationBatch(), EsclSource(escl).pages, spool, tmp_path / "out")
    _scan_edit_send(qtbot, window, spool, tmp_path)


def test_the_station_uploads_to_the_store_with_a_progress_bar(qtbot, escl: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from test_scan_upload import StoreServer, free_port

    store = StoreServer(tmp_path / "store", free_port()).start()
    spool = Spool(tmp_path / "spool", parse_key(new_key()))
    uploader = Uploader(store.url, spool, chunk_bytes=32 * 1024)
    window = StationWindow(StationBatch(), EsclSource(escl).pages, spool, tmp_path / "out", uploader)
    seen: list[tuple[int, int]] = []
    window.progress_bar.valueChanged.connect(lambda v: seen.append((v, window.progress_bar.maximum())))
    try:
        qtbot.addWidget(window)
        qtbot.mouseClick(window.buttons["scan"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: window.pages.count() == 6 and window.buttons["send"].isEnabled(), timeout=60_000
        )
        qtbot.mouseClick(window.buttons["send"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "lên kho hồ sơ" in window.status.text(), timeout=60_000)
        assert sorted(code for code, _ in store.uploaded) == ["H21.65-220914-0011", "H21.65-220914-0012"]
        assert spool.entries() == []
        assert len({m for _, m in seen if m > 1000}) >= 1  # the bar followed the bytes of an upload
        window.close()
    finally:
        uploader.close()
        store.stop()


def _scan_edit_send(qtbot, window: StationWindow, spool: Spool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qtbot.addWidget(window)
    window.show()
    buttons, pages, code = window.buttons, window.pages, window.code
    assert not buttons["send"].isEnabled()  # nothing scanned yet

    qtbot.mouseClick(buttons["scan"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pages.count() == 6 and buttons["scan"].isEnabled(), timeout=60_000)
    assert code.text() == "H21.65-220914-0011"  # read from the receipt's QR
    assert "TRANG" in pages.item(1).text()  # the blank back is flagged, not dropped
    assert buttons["send"].isEnabled()

    pages.setCurrentRow(1)
    qtbot.mouseClick(buttons["delete"], Qt.MouseButton.LeftButton)
    assert pages.count() == 5 and not any(p.blank for p in window.batch.pages)

    before = window.batch.pages[0].image.shape[:2]
    pages.setCurrentRow(0)
    qtbot.mouseClick(buttons["rotate"], Qt.MouseButton.LeftButton)
    assert window.batch.pages[0].image.shape[:2] == before[::-1]

    names = [p.name for p in window.batch.pages]
    assert pages.model().moveRow(QModelIndex(), 2, QModelIndex(), 0)
    assert [p.name for p in window.batch.pages] == [names[2], names[0], names[1], names[3], names[4]]

    pages.setCurrentRow(1)
    qtbot.mouseClick(buttons["rescan"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "quét lại trang 2" in window.status.text(), timeout=60_000)
    assert window.batch.pages[1].dossier_codes == ["H21.65-220914-0011"]  # the feeder's first sheet again

    pages.setCurrentRow(0)
    qtbot.mouseClick(buttons["again"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "không ghi chú sau trang 1" in window.status.text(), timeout=60_000)
    assert pages.count() == 6 and window.batch.pages[1].dossier_codes == ["H21.65-220914-0011"]

    code.setText("H21.65-22")
    assert not buttons["send"].isEnabled()
    code.setText("H21.65-220914-0011")
    assert buttons["send"].isEnabled()

    separators = sum(p.separator is not None for p in window.batch.pages)
    expected_pages = len(window.batch.pages) - separators
    qtbot.mouseClick(buttons["send"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "đã gửi" in window.status.text(), timeout=60_000)
    entries = spool.entries()
    assert len(entries) == 2 and pages.count() == 0
    total = 0
    for entry in entries:
        with pikepdf.open(io.BytesIO(spool.read(entry))) as pdf:
            total += len(pdf.pages)
    assert total == expected_pages
    assert list((tmp_path / "out").glob("*.pdf")) == []  # only the encrypted copies remain
    window.close()
