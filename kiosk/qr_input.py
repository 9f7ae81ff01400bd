"""Where scanned QR text comes from: a serial (CDC) QR scanner opened by transport URL, or a camera.

Serial scanner wire grammar: each scan is the QR's bytes followed by CR, LF or CR LF; a scanner in
serial mode sends the UTF-8 bytes unchanged (keyboard-wedge mode cannot type Vietnamese reliably).
Camera frames are decoded with pyzbar, whose guess of the text encoding is repaired (zbar may read
UTF-8 as Shift-JIS). Decoded text goes to a callback and is never logged: it may be a CCCD.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.errors import KioskDeviceError
from transport.base import TransportError
from transport.url import open_transport

log = logging.getLogger(__name__)

MAX_LINE = 4096
TextHandler = Callable[[str], None]


def split_scans(buffer: bytearray) -> list[bytes]:
    """Remove and return every complete scan (ended by CR or LF) from ``buffer``; empty lines dropped."""
    scans = []
    while True:
        ends = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
        if not ends:
            break
        end = min(ends)
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        if line:
            scans.append(line)
    if len(buffer) > MAX_LINE:  # a scanner that never ends its lines: drop, never grow without bound
        log.warning("dropped %d bytes from the QR scanner without an end of line", len(buffer))
        buffer.clear()
    return scans


def repair_text(data: bytes) -> str | None:
    """UTF-8 text of a scan, undoing zbar's Shift-JIS guess; ``None`` if it is not text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        repaired = text.encode("shift-jis").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
    return repaired


class ScannerReader:
    """Reads scans from a QR scanner at ``url`` (``serial:///dev/ttyACM0``, ``sim://...``) on a thread."""

    def __init__(self, url: str, on_text: TextHandler, timeout: float = 0.2) -> None:
        self.url = url
        self.on_text = on_text
        self.transport = open_transport(url, timeout=timeout)
        self.scans = 0
        self.rejected = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qr-scanner", daemon=True)

    def start(self) -> ScannerReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.transport.close()

    def _run(self) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            try:
                buffer += self.transport.read(256)
            except TransportError as err:
                log.warning("QR scanner %s: %s; retrying", self.url, err)
                self._stop.wait(1.0)
                continue
            for scan in split_scans(buffer):
                self._deliver(scan)

    def _deliver(self, scan: bytes) -> None:
        text = repair_text(scan)
        if text is None:
            self.rejected += 1
            log.warning("QR scanner %s sent %d bytes that are not UTF-8 text; ignored", self.url, len(scan))
            return
        self.scans += 1
        try:
            self.on_text(text)
        except Exception:
            log.exception("handling a scan failed")


def decode_image(image: Any) -> list[str]:
    """Texts of the QR codes in an image (a numpy array, grey or BGR), e.g. a camera frame."""
    import numpy as np
    from pyzbar import pyzbar  # type: ignore[import-untyped]

    frame = np.asarray(image)
    if frame.ndim == 3:
        import cv2

        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    texts = []
    for symbol in pyzbar.decode(frame, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        text = repair_text(symbol.data)
        if text is not None:
            texts.append(text)
    return texts


class CameraReader:
    """Polls a camera (OpenCV ``VideoCapture``) for QR codes; the same code is reported once per 3 s."""

    def __init__(self, source: int | str, on_text: TextHandler, interval: float = 0.2) -> None:
        import cv2

        self.capture = cv2.VideoCapture(source)
        if not self.capture.isOpened():
            raise KioskDeviceError(
                f"cannot open camera {source!r}: check it is plugged in and not used by another program"
            )
        self.on_text = on_text
        self.interval = interval
        self._last: tuple[str, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qr-camera", daemon=True)

    def start(self) -> CameraReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.capture.release()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            ok, frame = self.capture.read()
            if ok:
                self.feed(frame)

    def feed(self, frame: Any) -> None:
        """Decode one frame and report a new code."""
        for text in decode_image(frame):
            now = time.monotonic()
            if self._last is not None and self._last[0] == text and now - self._last[1] < 3.0:
                continue
            self._last = (text, now)
            self.on_text(text)
