"""The scanning station as a device on the bus: its info, its health, and ``dossier_uploaded`` events.

The station's capture source is its device: a jam or an empty feeder shows up in the retained
``device/{id}/status`` for the facility staff's dashboard (as a code, with no page content), and every
PDF the store confirmed is announced on ``device/{id}/evt``.

``ScannerDeviceService`` is what ``motcua device --device SCANNER`` (and ``motcua scan station --site``)
runs: the ``ScannerService`` on the bus plus a worker that sends whatever waits in the station's spool
to the dossier store, retrying with a growing pause while the store is down or refuses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from device_service.base import Backoff, DeviceService, Service
from device_service.registry import KindEntry, ServiceContext, register_kind
from scanner.errors import CaptureError, FeederEmptyError, PaperJamError, ScanError
from scanner.imagefile import LoadedImage
from scanner.sources import CaptureSource, open_source
from scanner.spool import Spool, SpoolEntry, SpoolError, load_key
from scanner.upload import Progress, Uploader, UploadResult, dossier_uploaded_event
from siteconf.model import Device

if TYPE_CHECKING:
    from siteconf import Site

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


def with_upload_backlog(status: m.DeviceStatus, waiting: int) -> m.DeviceStatus:
    """``status`` plus ``upload_failed`` when ``waiting`` files could not reach the dossier store."""
    if waiting == 0:
        return status
    health = m.Health.ERROR if status.health is m.Health.ERROR else m.Health.WARNING
    backlog = f"{waiting} file(s) waiting for the dossier store"
    return m.DeviceStatus(
        health=health,
        errors=[*status.errors, "upload_failed"],
        detail=f"{status.detail}; {backlog}" if status.detail else backlog,
    )


class ScannerService:
    """Wraps a capture source so every batch updates the station's status; announces uploads."""

    def __init__(self, link: DeviceLink, source: CaptureSource) -> None:
        self.link = link
        self.source = source
        self._fault: CaptureError | None = None
        self._waiting = 0
        self._status_lock = threading.Lock()  # the window's scans and the upload worker both report

    def start(self, wait: float | None = 10.0) -> None:
        """Connect; with ``wait=None`` in the background (a station window need not wait for the broker)."""
        if wait is None:
            self.link.bus.start(None)
        else:
            self.link.start(wait)
        self._publish()

    def stop(self) -> None:
        self.link.stop()

    def pages(self) -> Iterator[LoadedImage]:
        """The source's pages; a fault is published as status, then raised to the caller."""
        try:
            yield from self.source.pages()
        except CaptureError as err:
            self._fault = err
            self._publish()
            raise
        self._fault = None
        self._publish()

    def upload_backlog(self, waiting: int) -> None:
        """``waiting`` files failed to reach the store (0: the store took everything)."""
        self._waiting = waiting
        self._publish()

    def _publish(self) -> None:
        # A new envelope every time (its own id and ts): subscribers drop ids they have seen.
        with self._status_lock:
            self.link.set_status(with_upload_backlog(status_for(self._fault), self._waiting))

    def uploaded(self, entry: SpoolEntry) -> None:
        """``Uploader(on_uploaded=service.uploaded)``: the store has the file."""
        self.link.emit(dossier_uploaded_event(entry))
        log.info("dossier %s: file %s uploaded", entry.dossier_code, entry.sha256[:12])


_MODELS = {
    "escl": "eSCL network scanner",
    "escls": "eSCL network scanner",
    "sane": "SANE scanner",
    "folder": "scan-to-folder scanner",
    "camera": "document camera",
}


class ScannerDeviceService(DeviceService):
    """A scanning station as a device service: on the bus, and its spool drained to the dossier store.

    The worker sends every spooled entry; when the store is down or refuses (wrong API key), the
    entries stay encrypted in the spool, the status carries ``upload_failed``, and the next attempt
    comes after ``poll_s``, doubled after every failure up to ``max_backoff_s``. It never stops on a
    failure. ``upload`` (the station window's Send) and the worker never send the same entry twice.
    """

    def __init__(
        self,
        service: ScannerService,
        spool: Spool,
        store_url: str,
        *,
        chunk_bytes: int = 256 * 1024,
        poll_s: float = 2.0,
        max_backoff_s: float = 60.0,
        api_key: str | None = None,
    ) -> None:
        super().__init__(service.link.device_id, service.link)
        self.service = service
        self.spool = spool
        self.uploader = Uploader(
            store_url, spool, chunk_bytes=chunk_bytes, on_uploaded=service.uploaded, api_key=api_key
        )
        self.poll_s = poll_s
        self.backoff = Backoff(poll_s, max(poll_s, max_backoff_s))
        self.failures = 0
        self._damaged: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._wait: float | None = 10.0
        self.add_worker(self._run, "upload")

    @classmethod
    def from_site(
        cls,
        site: Site,
        device: Device,
        broker: str | BrokerUrl,
        *,
        poll_s: float = 2.0,
        max_backoff_s: float = 60.0,
    ) -> ScannerDeviceService:
        """The station of ``device`` in ``[[scanning.stations]]``: its source, ``spool_dir/{device}``,
        ``store_url``; the spool key from ``MOTCUA_SCAN_KEY_FILE`` / ``MOTCUA_SCAN_KEY``.

        Raises ``ScanError`` (no station entry, no store, no key, a bad source URL) with the reason."""
        scanning = site.scanning
        station = next((s for s in scanning.stations if s.device == device.id), None)
        if station is None:
            raise ScanError(
                f"scanner {device.id} has no [[scanning.stations]] entry: add one with its capture source"
            )
        if scanning.store_url is None:
            raise ScanError("scanning.store_url is not set: the station has nowhere to send its PDFs")
        try:
            key = load_key()
        except ScanError as err:
            raise ScanError(f"scanner {device.id}: {err}") from err
        source = open_source(station.source)
        scheme = urlsplit(station.source).scheme
        info = scanner_info(_MODELS.get(scheme, "scanner"), scheme)
        service = ScannerService(DeviceLink(broker, site.site.id, device.id, info), source)
        spool = Spool(Path(scanning.spool_dir) / device.id, key)
        chunk = scanning.chunk_kib * 1024
        return cls(
            service, spool, scanning.store_url, chunk_bytes=chunk, poll_s=poll_s, max_backoff_s=max_backoff_s
        )

    def start(self, wait: float | None = 10.0) -> Self:
        """Join the bus and start the upload worker; ``wait=None`` joins in the background (the clerk
        can scan while the broker is away)."""
        self._wait = wait
        return super().start()

    def _connect(self) -> None:
        self.service.start(self._wait)

    def _stopping(self) -> None:
        self._wake.set()

    def _release(self) -> None:
        self.uploader.close()

    def idle(self) -> bool:
        """True when nothing waits in the spool for the store."""
        return not any(self.spool.folder.glob("*.json"))

    def poke(self) -> None:
        """Try the spool now instead of after the pause."""
        self._wake.set()

    def upload(self, entry: SpoolEntry, progress: Progress | None = None) -> UploadResult | None:
        """Send one entry now; None when the worker sent it already."""
        with self._lock:
            if not self._waiting(entry):
                return None
            result = self.uploader.upload(entry, progress)
        self.poke()  # the store answers: if the worker is pausing after a failure, let it go on now
        return result

    def drain(self) -> int:
        """One pass over the spool; returns how many entries the store took.

        A damaged entry is skipped (logged); a store failure ends the pass (the next entries would
        fail the same way) and is raised."""
        sent = 0
        for entry in self.spool.entries():
            if self.stopping.is_set():
                break
            with self._lock:
                if not self._waiting(entry):
                    continue
                try:
                    self.uploader.upload(entry)
                except SpoolError as err:  # wrong key or a damaged file: the others may still go
                    if entry.entry_id not in self._damaged:
                        log.error("%s: spool entry %s skipped: %s", self._id, entry.entry_id, err)
                        self._damaged.add(entry.entry_id)
                    continue
            sent += 1
        return sent

    def _waiting(self, entry: SpoolEntry) -> bool:
        return self._waiting_id(entry.entry_id)

    def _waiting_id(self, entry_id: str) -> bool:
        return (self.spool.folder / f"{entry_id}.enc").exists()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.drain()
            except Exception as err:  # noqa: BLE001  dead store, broken spool, anything: log, back off, retry
                self.failures += 1
                pause = self.backoff.next()
                log.warning("%s: upload failed (%s); next try in %.1f s", self._id, err, pause)
                self._report()
            else:
                if self.failures:
                    log.info("%s: the dossier store takes uploads again", self._id)
                self.failures = 0
                self.backoff.reset()
                pause = self.poll_s
                self._report(sum(1 for d in self._damaged if self._waiting_id(d)))
            self._wake.wait(pause)
            self._wake.clear()

    def _count(self) -> int:
        return sum(1 for _ in self.spool.folder.glob("*.json"))

    def _report(self, waiting: int | None = None) -> None:
        try:
            self.service.upload_backlog(self._count() if waiting is None else waiting)
        except Exception:  # the worker must outlive a vanished spool folder or a bus hiccup
            log.exception("%s: cannot report the upload backlog", self._id)

    @property
    def _id(self) -> str:
        return self.service.link.device_id


def build_scanners(context: ServiceContext, devices: list[Device]) -> list[Service]:
    """The registry's factory: each station of ``[[scanning.stations]]`` (raises ``ScanError``)."""
    return [ScannerDeviceService.from_site(context.site, d, context.broker) for d in devices]


register_kind("scanner", KindEntry(build_scanners, setup_errors=(ScanError,)))
