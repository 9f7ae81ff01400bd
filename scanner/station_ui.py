"""The scanning station window (Qt Widgets): thumbnails, reorder / rotate / delete / rescan, the
dossier code, and Send, with a progress bar for scanning, sending and uploading.

Scanning, sending and uploading (when an ``Uploader`` is given) run in worker threads; the window only
shows results, so a slow scanner never freezes it. Blank pages are shown with a red frame and "TRANG"
in their caption, and stay until deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import cv2
from PySide6.QtCore import QObject, QRegularExpression, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scanner.dossier import DOSSIER_CODE
from scanner.errors import ScanError
from scanner.imagefile import LoadedImage
from scanner.pipeline import PageResult
from scanner.spool import Spool, SpoolEntry
from scanner.station import StationBatch
from scanner.upload import Progress

PageFeed = Callable[[], Iterator[LoadedImage]]


class EntryUploader(Protocol):
    """Sends one spool entry to the dossier store: an ``Uploader``, or a ``ScannerDeviceService``
    (which also announces it on the bus and never sends an entry its background worker sent)."""

    def upload(self, entry: SpoolEntry, progress: Progress | None = None) -> object: ...


THUMB = 160


def thumbnail(page: PageResult) -> QIcon:
    h, w = page.image.shape[:2]
    size = (THUMB, max(1, round(h * THUMB / w)))
    small = cv2.cvtColor(cv2.resize(page.image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    image = QImage(small.data, size[0], size[1], 3 * size[0], QImage.Format.Format_RGB888).copy()
    pixmap = QPixmap.fromImage(image)
    frame = "red" if page.blank else "orange" if page.orientation_unsure else None
    if frame is not None:
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(frame), 6))
        painter.drawRect(pixmap.rect().adjusted(3, 3, -3, -3))
        painter.end()
    return QIcon(pixmap)


W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    widget.setObjectName(name)
    return widget


class _Signals(QObject):
    page = Signal(object)
    progress = Signal(int, int, str)
    failed = Signal(str)
    finished = Signal(str)


class StationWindow(QMainWindow):
    """One counter's scanning station."""

    def __init__(
        self,
        batch: StationBatch,
        feed: PageFeed,
        spool: Spool,
        out_dir: Path,
        uploader: EntryUploader | None = None,
    ) -> None:
        super().__init__()
        self.batch, self.feed, self.spool, self.out_dir = batch, feed, spool, out_dir
        self.uploader = uploader
        self.setWindowTitle("Số hóa hồ sơ")
        self.signals = _Signals()
        self.signals.page.connect(self._page_added)
        self.signals.progress.connect(self._progress)
        self.signals.failed.connect(self._failed)
        self.signals.finished.connect(self._finished)
        self.worker: threading.Thread | None = None
        self._build()

    def _build(self) -> None:
        self.pages = _named(QListWidget(), "pages")
        self.pages.setViewMode(QListWidget.ViewMode.IconMode)
        self.pages.setIconSize(QSize(THUMB, THUMB * 3 // 2))
        self.pages.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.pages.model().rowsMoved.connect(self._rows_moved)
        self.code = _named(QLineEdit(), "code")
        self.code.setPlaceholderText("Mã hồ sơ, vd. H21.65-220914-0011")
        self.code.setValidator(QRegularExpressionValidator(QRegularExpression(DOSSIER_CODE.pattern[1:-1])))
        self.code.textChanged.connect(self._code_changed)
        self.status = _named(QLabel(), "status")
        self.progress_bar = _named(QProgressBar(), "progress")
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("scan", "Quét", self.scan),
            ("rotate", "Xoay", self.rotate_selected),
            ("delete", "Xóa trang", self.delete_selected),
            ("rescan", "Quét lại trang", self.rescan_selected),
            ("again", "Quét bản không ghi chú", self.scan_clean_copy),
            ("send", "Gửi", self.send),
        ):
            button = _named(QPushButton(text), name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[name] = button
        layout = QVBoxLayout()
        for widget in (self.pages, self.code):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self._code_changed(self.code.text())

    # --- actions ------------------------------------------------------------------------------

    def scan(self) -> None:
        self._run(self._scan_all)

    def rescan_selected(self) -> None:
        row = self.pages.currentRow()
        if row >= 0:
            self._run(lambda: self._rescan(row))

    def scan_clean_copy(self) -> None:
        """The selected page carries a handwritten note: scan it again without, right after it."""
        row = self.pages.currentRow()
        if row >= 0:
            self._run(lambda: self._insert_after(row))

    def rotate_selected(self) -> None:
        row = self.pages.currentRow()
        if row >= 0:
            self.batch.rotate(row, 3)  # the button turns clockwise, as the clerk expects
            self._refresh(row)

    def delete_selected(self) -> None:
        row = self.pages.currentRow()
        if row >= 0:
            self.batch.delete(row)
            self.pages.takeItem(row)
            self._code_changed(self.code.text())

    def send(self) -> None:
        self._run(self._send)

    # --- workers (no widget is touched here: only signals) -----------------------------------

    def _run(self, job: Callable[[], None]) -> None:
        if self.worker is not None and self.worker.is_alive():
            self.status.setText("Đang bận, vui lòng chờ")
            return
        for button in self.buttons.values():
            button.setEnabled(False)
        self.worker = threading.Thread(target=self._guarded, args=(job,), daemon=True)
        self.worker.start()

    def _guarded(self, job: Callable[[], None]) -> None:
        try:
            job()
        except ScanError as err:
            self.signals.failed.emit(str(err))

    def _scan_all(self) -> None:
        count = 0
        for loaded in self.feed():
            count += 1
            self.signals.progress.emit(count, 0, f"đang quét trang {count}")
            self.signals.page.emit(self.batch.add(loaded))
        self.signals.finished.emit(f"đã quét {count} trang")

    def _rescan(self, row: int) -> None:
        loaded = next(iter(self.feed()), None)
        if loaded is None:
            raise ScanError("máy quét không trả về trang nào")
        self.batch.replace(row, loaded)
        self.signals.finished.emit(f"đã quét lại trang {row + 1}")

    def _insert_after(self, row: int) -> None:
        loaded = next(iter(self.feed()), None)
        if loaded is None:
            raise ScanError("máy quét không trả về trang nào")
        self.batch.insert_after(row, loaded)
        self.signals.finished.emit(f"đã thêm bản không ghi chú sau trang {row + 1}")

    def _upload_progress(self, label: str) -> Callable[[int, int], None]:
        def report(done: int, size: int) -> None:
            self.signals.progress.emit(done, size, label)

        return report

    def _send(self) -> None:
        entries = self.batch.send(self.out_dir, self.spool, self.signals.progress.emit)
        if self.uploader is None:
            self.signals.finished.emit(f"đã gửi {len(entries)} tài liệu vào hàng đợi")
            return
        for number, entry in enumerate(entries, start=1):
            self.uploader.upload(
                entry, self._upload_progress(f"đang tải lên tài liệu {number}/{len(entries)}")
            )
        self.signals.finished.emit(f"đã gửi {len(entries)} tài liệu lên kho hồ sơ")

    # --- slots (GUI thread) -------------------------------------------------------------------

    def _page_added(self, page: PageResult) -> None:
        item = QListWidgetItem(thumbnail(page), self._caption(self.pages.count(), page))
        item.setData(Qt.ItemDataRole.UserRole, id(page))
        self.pages.addItem(item)
        if not self.code.text() and self.batch.dossier_code:
            self.code.setText(self.batch.dossier_code)

    def _caption(self, index: int, page: PageResult) -> str:
        return (
            f"{index + 1}"
            + (" TRANG" if page.blank else "")
            + (" XEM HƯỚNG" if page.orientation_unsure else "")
        )

    def _refresh(self, row: int | None = None) -> None:
        rows = range(len(self.batch.pages)) if row is None else [row]
        if row is None:
            self.pages.clear()
            for i, page in enumerate(self.batch.pages):
                self.pages.addItem(QListWidgetItem(thumbnail(page), self._caption(i, page)))
            return
        for r in rows:
            item = self.pages.item(r)
            item.setIcon(thumbnail(self.batch.pages[r]))
            item.setText(self._caption(r, self.batch.pages[r]))

    def _rows_moved(self, _parent: object, start: int, _end: int, _dest: object, row: int) -> None:
        self.batch.move(start, row if row < start else row - 1)
        self._refresh()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress_bar.setRange(0, total)  # total 0: a busy bar while the count is unknown
        self.progress_bar.setValue(done)
        self.status.setText(text)

    def _failed(self, message: str) -> None:
        self.status.setText(f"Lỗi: {message}")
        self._idle()

    def _finished(self, message: str) -> None:
        self.status.setText(message)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        if not self.batch.pages:
            self.pages.clear()
        else:
            self._refresh()
        self._idle()

    def _idle(self) -> None:
        for button in self.buttons.values():
            button.setEnabled(True)
        self._code_changed(self.code.text())

    def _code_changed(self, text: str) -> None:
        valid = DOSSIER_CODE.match(text) is not None
        if valid:
            self.batch.dossier_code = text
        self.buttons["send"].setEnabled(valid and bool(self.batch.pages))
