"""Capture sources behind one interface: each yields page images until its batch is done.

``open_source(url)`` picks the source from a URL, like transports do::

    escl://HOST:PORT[/PATH]?source=Feeder|Platen&dpi=200   network scanner (eSCL / AirScan), over HTTP
    escls://...                                              the same over HTTPS
    sane:DEVICE?source=ADF|Flatbed&dpi=200&pages=N          SANE through ``scanimage`` (``sane:test`` in CI)
    folder:/PATH?settle=1.0                                  scan-to-folder: files the scanner dropped
    camera:INDEX-or-PATH?frames=1                           document camera via OpenCV VideoCapture

Every source raises ``CaptureError`` (``PaperJamError``, ``FeederEmptyError``) with a message for the
clerk; an empty feeder at the *start* of a batch is an error, at its end it is the normal stop.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from scanner.errors import CaptureError, FeederEmptyError, ImageFileError, PaperJamError
from scanner.imagefile import LoadedImage, decode_images, load_images

log = logging.getLogger(__name__)

SCAN_NS = "http://schemas.hp.com/imaging/escl/2011/05/03"
PWG_NS = "http://www.pwg.org/schemas/2010/12/sm"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".pnm", ".ppm", ".pgm", ".bmp"}


class CaptureSource(Protocol):
    """Something that delivers the pages of one batch, in order."""

    name: str

    def pages(self) -> Iterator[LoadedImage]: ...


# --- eSCL ---------------------------------------------------------------------------------------


def scan_settings_xml(source: str, dpi: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<scan:ScanSettings xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}">'
        "<pwg:Version>2.63</pwg:Version><scan:Intent>Document</scan:Intent>"
        f"<pwg:InputSource>{source}</pwg:InputSource><scan:ColorMode>RGB24</scan:ColorMode>"
        f"<scan:XResolution>{dpi}</scan:XResolution><scan:YResolution>{dpi}</scan:YResolution>"
        "<pwg:DocumentFormat>image/jpeg</pwg:DocumentFormat></scan:ScanSettings>"
    ).encode()


class EsclSource:
    """An eSCL (AirScan) scanner: submit a job, then fetch ``NextDocument`` until 404."""

    def __init__(self, base_url: str, source: str = "Feeder", dpi: int = 200, timeout: float = 30.0) -> None:
        if source not in ("Feeder", "Platen"):
            raise CaptureError(f"eSCL source {source!r}: use Feeder or Platen")
        self.name = base_url
        self.source = source
        self.dpi = dpi
        self.base_url = base_url
        self.timeout = timeout
        self.client = self._new_client()
        self.client.close()  # opened per batch by pages(); status queries use their own

    def _new_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=self.timeout)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> EsclSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def adf_state(self) -> str:
        status = ET.fromstring(self._get_once("/eSCL/ScannerStatus").content)
        return status.findtext(f"{{{SCAN_NS}}}AdfState", "unknown")

    def capabilities(self) -> ET.Element:
        return ET.fromstring(self._get_once("/eSCL/ScannerCapabilities").content)

    def _get_once(self, path: str) -> httpx.Response:
        with self._new_client() as client:
            try:
                response = client.get(path)
            except httpx.TransportError as err:
                raise CaptureError(f"scanner {self.name} is unreachable ({err})") from err
        if response.status_code != 200:
            raise CaptureError(f"scanner {self.name}: GET {path} answered HTTP {response.status_code}")
        return response

    def pages(self) -> Iterator[LoadedImage]:
        """One batch; the HTTP connection is closed when it ends, however it ends."""
        if self.client.is_closed:
            self.client = self._new_client()
        try:
            yield from self._batch()
        finally:
            self.client.close()

    def _batch(self) -> Iterator[LoadedImage]:
        job = self._submit()
        number = 0
        try:
            while True:
                response = self._get(f"{job}/NextDocument", allow=(200, 404, 503))
                if response.status_code == 404:
                    return
                if response.status_code == 503:
                    if self.adf_state() == "ScannerAdfJam":
                        raise PaperJamError(
                            f"scanner {self.name}: paper jam after {number} pages; clear the feeder and "
                            f"rescan from page {number + 1}"
                        )
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                number += 1
                yield from decode_images(response.content, f"{self.name} page {number}")
        finally:
            self._cancel(job)

    def _submit(self) -> str:
        for _ in range(5):
            try:
                response = self.client.post(
                    "/eSCL/ScanJobs", content=scan_settings_xml(self.source, self.dpi)
                )
            except httpx.TransportError as err:
                raise CaptureError(
                    f"scanner {self.name} is unreachable ({err}); check power and network"
                ) from err
            if response.status_code == 201 and "Location" in response.headers:
                return urlsplit(response.headers["Location"]).path
            if response.status_code == 409:
                if self.adf_state() == "ScannerAdfJam":
                    raise PaperJamError(f"scanner {self.name}: paper jam; clear the feeder and scan again")
                raise FeederEmptyError(
                    f"scanner {self.name}: the feeder is empty; put the pages in and retry"
                )
            if response.status_code == 503:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            raise CaptureError(
                f"scanner {self.name} refused the job: HTTP {response.status_code} {response.text[:100]}"
            )
        raise CaptureError(f"scanner {self.name} stayed busy; try again later")

    def _get(self, path: str, allow: tuple[int, ...] = (200,)) -> httpx.Response:
        try:
            response = self.client.get(path)
        except (httpx.TransportError, httpx.DecodingError) as err:
            raise CaptureError(
                f"scanner {self.name} went away during the scan ({type(err).__name__}); check it and rescan"
            ) from err
        if response.status_code not in allow:
            raise CaptureError(f"scanner {self.name}: GET {path} answered HTTP {response.status_code}")
        return response

    def _cancel(self, job: str) -> None:
        try:
            self.client.delete(job)
        except (httpx.TransportError, RuntimeError):
            log.info("could not cancel eSCL job %s: scanner unreachable", job)


# --- SANE ---------------------------------------------------------------------------------------


class SaneSource:
    """A SANE device through ``scanimage --batch`` (libsane is not thread-safe; a process is)."""

    def __init__(
        self,
        device: str,
        source: str = "ADF",
        dpi: int = 200,
        pages: int | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.name = f"sane:{device}"
        self.device = device
        self.source = source
        self.dpi = dpi
        self.count = pages
        self.extra = extra

    def command(self, folder: Path) -> list[str]:
        source = "Automatic Document Feeder" if self.source.upper() == "ADF" else self.source
        cmd = [
            "scanimage",
            "-d",
            self.device,
            "--source",
            source,
            "--mode",
            "Color",
            "--resolution",
            str(self.dpi),
            "--format=png",
            f"--batch={folder}/page%04d.png",
        ]
        count = self.count if self.count is not None or source != "Flatbed" else 1
        if count is not None:  # a flatbed "batch" never ends by itself: one sheet per press
            cmd.append(f"--batch-count={count}")
        return cmd + list(self.extra)

    def pages(self) -> Iterator[LoadedImage]:
        if shutil.which("scanimage") is None:
            raise CaptureError("scanimage is not installed: apt-get install sane-utils")
        with tempfile.TemporaryDirectory(prefix="motcua-sane-") as tmp:
            folder = Path(tmp)
            done = subprocess.run(
                self.command(folder), capture_output=True, text=True, timeout=600, check=False
            )
            files = sorted(folder.glob("page*.png"))
            message = done.stderr.strip().splitlines()
            if "jammed" in done.stderr.lower():
                raise PaperJamError(f"{self.name}: paper jam after {len(files)} pages; clear it and rescan")
            if not files:
                why = next((line for line in message if "scanimage:" in line), f"exit code {done.returncode}")
                if "out of documents" in why or "no documents" in why.lower():
                    raise FeederEmptyError(f"{self.name}: the feeder is empty; put the pages in and retry")
                raise CaptureError(f"{self.name}: nothing scanned ({why})")
            for path in files:
                yield from load_images(path)


# --- scan-to-folder -----------------------------------------------------------------------------


class FolderSource:
    """Files a scanner saved into a folder. A file is taken once it was last written ``settle`` seconds
    ago (a scanner still writing keeps touching it); taken files move to ``.taken/``, unusable ones to
    ``.refused/`` with a ``.why.txt`` beside them."""

    def __init__(self, folder: Path, settle: float = 1.0) -> None:
        self.name = f"folder:{folder}"
        self.folder = folder
        self.settle = settle
        self.refused: list[tuple[str, str]] = []

    def ready(self, now: float | None = None) -> list[Path]:
        """Image files not written for ``settle`` seconds, oldest first."""
        now = time.time() if now is None else now
        if not self.folder.is_dir():
            raise CaptureError(f"{self.name}: no such folder")
        ready = []
        for path in sorted(self.folder.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
            if (
                path.is_file()
                and path.suffix.lower() in IMAGE_SUFFIXES
                and now - path.stat().st_mtime >= self.settle
            ):
                ready.append(path)
        return ready

    def pages(self) -> Iterator[LoadedImage]:
        for path in self.ready():
            try:
                images = load_images(path)
            except ImageFileError as err:
                self._move(path, ".refused").with_suffix(path.suffix + ".why.txt").write_text(str(err) + "\n")
                self.refused.append((path.name, str(err)))
                continue
            self._move(path, ".taken")
            yield from images

    def watch(self, until: float, poll: float = 0.2) -> Iterator[LoadedImage]:
        """Pages as they settle, until the monotonic time ``until``."""
        while time.monotonic() < until:
            yield from self.pages()
            time.sleep(poll)

    def _move(self, path: Path, sub: str) -> Path:
        target = self.folder / sub
        target.mkdir(exist_ok=True)
        return path.replace(target / path.name)


# --- document camera ----------------------------------------------------------------------------


class CameraSource:
    """Frames from a document camera (or a video / image sequence) through OpenCV ``VideoCapture``."""

    def __init__(self, device: int | str, frames: int = 1) -> None:
        self.name = f"camera:{device}"
        self.device = device
        self.frames = frames

    def pages(self) -> Iterator[LoadedImage]:
        import cv2

        capture = cv2.VideoCapture(self.device)
        try:
            if not capture.isOpened():
                raise CaptureError(f"{self.name}: cannot open the camera; is it plugged in and free?")
            for number in range(1, self.frames + 1):
                ok, frame = capture.read()
                if not ok or frame is None:
                    if number == 1:
                        raise CaptureError(f"{self.name}: the camera gave no picture")
                    return
                ok, jpeg = cv2.imencode(".png", frame)
                yield from decode_images(jpeg.tobytes(), f"{self.name} frame {number}")
        finally:
            capture.release()


def open_source(url: str) -> CaptureSource:
    """A capture source from its URL (see the module docstring)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        dpi = int(query.get("dpi", "200"))
        if parts.scheme in ("escl", "escls"):
            scheme = "https" if parts.scheme == "escls" else "http"
            return EsclSource(
                f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}", query.get("source", "Feeder"), dpi
            )
        if parts.scheme == "sane":
            pages = int(query["pages"]) if "pages" in query else None
            return SaneSource(parts.path or "test", query.get("source", "ADF"), dpi, pages)
        if parts.scheme == "folder":
            return FolderSource(Path(parts.path), float(query.get("settle", "1.0")))
        if parts.scheme == "camera":
            device: int | str = int(parts.path) if parts.path.isdigit() else parts.path
            return CameraSource(device, int(query.get("frames", "1")))
    except ValueError as err:
        raise CaptureError(f"capture source {url!r}: bad parameter ({err})") from err
    raise CaptureError(f"capture source {url!r}: unknown scheme; use escl://, sane:, folder: or camera:")
