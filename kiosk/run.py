"""Start one kiosk screen with its view-model and bus connection (the body of ``motcua kiosk``)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuick import QQuickItem

from kiosk.app import load_screen, window_of
from kiosk.errors import KioskConfigError
from kiosk.offline import JournalError
from qtview import drawn_items
from siteconf import Site, load_site

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    broker = args.broker or site.broker.url
    ids = [d.id for d in site.devices]
    if args.device not in ids:
        raise SystemExit(f"motcua: no device {args.device!r} in the site file (devices: {', '.join(ids)})")
    app = QGuiApplication.instance() or QGuiApplication([])
    try:
        vm, stop = _build(site, args, broker)
    except (
        ValueError,
        OSError,
        JournalError,
    ) as err:  # a device that cannot be this screen, a journal it cannot open
        print(f"motcua: {err}", file=sys.stderr)
        return 2
    if site.kiosk.voice:
        _add_voice(vm)
    engine = load_screen(args.mode, vm, fullscreen=not args.windowed)
    window = window_of(engine)
    if args.windowed:  # load_screen sized it to the panel, shrunk to fit this screen
        window.show()
    if args.dump_targets is not None:
        QTimer.singleShot(500, lambda: dump_targets(window.contentItem(), args.dump_targets))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    ticker = QTimer(interval=200)  # lets Python run its signal handlers inside Qt's loop
    ticker.timeout.connect(lambda: None)
    ticker.start()
    code = app.exec()
    stop()
    del engine
    return int(code)


def _add_voice(vm: QObject) -> None:
    from kiosk.voice import EspeakVoice

    ui = getattr(vm, "ui", None)
    try:
        if ui is not None:
            ui.voice = EspeakVoice()
    except OSError as err:
        log.warning("no voice guidance: %s", err)


def _build(site: Site, args: argparse.Namespace, broker: str) -> tuple[QObject, Any]:
    if args.mode == "dispenser":
        from kiosk.backend import KioskBackend
        from kiosk.dispenser import DispenserViewModel
        from kiosk.offline import OfflineJournal

        if site.device(args.device).printer is None:
            raise KioskConfigError(
                f"kiosk {args.device} has no printer in the site file:"
                ' add printer = "ID" to its [[devices]] entry'
            )
        journal = OfflineJournal(site.kiosk.journal.format(device=args.device))
        backend = KioskBackend(site, args.device, broker, journal=journal).start()
        vm = DispenserViewModel(site, backend)
        readers = _qr_readers(site, vm.feed_scan)

        def stop() -> None:
            for reader in readers:
                reader.stop()
            backend.stop()
            journal.close()

        return vm, stop
    if args.mode == "rating":
        from kiosk.rating import RatingViewModel

        rating = RatingViewModel(site, args.device, broker, photos=Path(args.site).parent).start()
        return rating, rating.stop
    from kiosk.lookup import LookupViewModel

    lookup = LookupViewModel(site, args.server_url)
    readers = _qr_readers(site, lookup.feed_scan)
    return lookup, lambda: [reader.stop() for reader in readers]


def _qr_readers(site: Site, feed: Any) -> list[Any]:
    """The site's QR scanner and camera, feeding ``feed(text)``; a missing device is logged, not fatal."""
    from kiosk.qr_input import CameraReader, ScannerReader
    from transport.base import TransportError

    readers: list[Any] = []
    if site.kiosk.qr_scanner:
        try:
            readers.append(ScannerReader(site.kiosk.qr_scanner, feed).start())
        except TransportError as err:
            log.warning("no QR scanner: %s", err)
    if site.kiosk.camera is not None:
        try:
            readers.append(CameraReader(site.kiosk.camera, feed).start())
        except OSError as err:
            log.warning("no camera: %s", err)
    return readers


def dump_targets(root: QQuickItem, path: Path) -> None:
    """Write ``[{"name", "x", "y", "width", "height"}]`` of every visible button, as drawn (window px)."""
    found = drawn_items(root, lambda item: "Button" in item.metaObject().className())
    path.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
