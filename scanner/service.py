"""The scanning station as a device on the bus: its info, its health, and ``dossier_uploaded`` events.

The station's capture source is its device: a jam or an empty feeder shows up in the retained
``device/{id}/status`` for the facility staff's dashboard (as a code, with no page content), and every
PDF the store confirmed is announced on ``device/{id}/evt``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from bus import models as m
from bus.device import DeviceLink
from scanner.errors import CaptureError, FeederEmptyError, PaperJamError
from scanner.imagefile import LoadedImage
from scanner.sources import CaptureSource
from scanner.spool import SpoolEntry
from scanner.upload import dossier_uploaded_event

log = logging.getLogger(__name__)


def scanner_info(model: str, transport: str) -> m.DeviceInfo:
    return m.DeviceInfo(
        device_kind=m.DeviceKind.SCANNER,
        model=model,
        transport=transport,
        capabilities=["color", "200dpi", "adf", "qr_separators", "pdf", "pades"],
    )


def status_for(error: CaptureError | None) -> m.DeviceStatus:
    """Health of the station after a batch: ok, or the fault as a stable code."""
    if error is None:
        return m.DeviceStatus(health=m.Health.OK)
    if isinstance(error, PaperJamError):
        return m.DeviceStatus(health=m.Health.ERROR, errors=["paper_jam"], detail="paper jam in the feeder")
    if isinstance(error, FeederEmptyError):
        return m.DeviceStatus(
            health=m.Health.WARNING, errors=["feeder_empty"], detail="document feeder empty"
        )
    return m.DeviceStatus(
        health=m.Health.ERROR, errors=["scanner_unreachable"], detail="scanner not answering"
    )


class ScannerService:
    """Wraps a capture source so every batch updates the station's status; announces uploads."""

    def __init__(self, link: DeviceLink, source: CaptureSource) -> None:
        self.link = link
        self.source = source

    def start(self, wait: float = 10.0) -> None:
        self.link.start(wait)
        self.link.set_status(status_for(None))

    def stop(self) -> None:
        self.link.stop()

    def pages(self) -> Iterator[LoadedImage]:
        """The source's pages; a fault is published as status, then raised to the caller."""
        try:
            yield from self.source.pages()
        except CaptureError as err:
            self.link.set_status(status_for(err))
            raise
        self.link.set_status(status_for(None))

    def uploaded(self, entry: SpoolEntry) -> None:
        """``Uploader(on_uploaded=service.uploaded)``: the store has the file."""
        self.link.emit(dossier_uploaded_event(entry))
        log.info("dossier %s: file %s uploaded", entry.dossier_code, entry.sha256[:12])
