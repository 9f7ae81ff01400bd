"""An eSCL (AirScan) network scanner that serves generated paper, with faults on demand.

Wire grammar (HTTP/1.1, XML in the ``scan`` http://schemas.hp.com/imaging/escl/2011/05/03 and ``pwg``
http://www.pwg.org/schemas/2010/12/sm namespaces)::

    GET    /eSCL/ScannerCapabilities          200 scan:ScannerCapabilities (Platen, Adf; 200/300 dpi; RGB24)
    GET    /eSCL/ScannerStatus                200 scan:ScannerStatus: pwg:State Idle|Processing|Stopped,
                                                  scan:AdfState ScannerAdfLoaded|ScannerAdfEmpty|ScannerAdfJam
    POST   /eSCL/ScanJobs   scan:ScanSettings 201 Location: /eSCL/ScanJobs/{uuid}
                                              409 feeder empty or jammed (see ScannerStatus) ·
                                              503 busy (Retry-After) · 400 bad settings
    GET    {job}/NextDocument                 200 image/jpeg, one sheet side · 404 no more pages
                                              503 + AdfState ScannerAdfJam: paper jam, clear it and resubmit
    DELETE {job}                              200 job cancelled

Faults (``EsclFaults``): ``empty`` feeder, ``jam_after`` n sheets of a job, ``disconnect_after`` n sheets (the
connection is cut mid-body, as when the scanner is switched off), ``busy_once`` (first job gets 503).
"""

from __future__ import annotations

import argparse
import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from firmware_sim import scanner_pages as sp
from firmware_sim.faults import Faults

log = logging.getLogger(__name__)

SCAN_NS = "http://schemas.hp.com/imaging/escl/2011/05/03"
PWG_NS = "http://www.pwg.org/schemas/2010/12/sm"
RESOLUTIONS = (200, 300)
Image8 = npt.NDArray[Any]
PageMaker = Callable[[int], list[Image8]]


def demo_stack(dpi: int) -> list[Image8]:
    """A realistic batch as a feeder delivers it (both sides of two-sided sheets are listed).

    receipt with the dossier QR, skewed · its blank back · a form turned upside down · a noisy page in a
    feeder skew over a dark backing · separator sheet (another dossier) · one more page, quarter-turned.
    """
    receipt = sp.render_page(1, dpi=dpi, qr_text="H21.65-220914-0011")
    form = sp.render_page(2, dpi=dpi)
    return [
        sp.skew(receipt, 4.5),
        sp.blank_back(7, dpi=dpi, bleed_from=receipt),
        sp.quarter_turns(sp.skew(form, -2.0), 2),
        sp.feed(sp.render_page(3, dpi=dpi), 7.0, 3, noise=6.0).image,
        sp.separator_sheet("MCSEP|H21.65-220914-0012|GIAY_KS", dpi=dpi),
        sp.quarter_turns(sp.render_page(4, dpi=dpi), 1),
    ]


@dataclass
class EsclFaults:
    """``empty`` feeder; ``jam_after`` n sheets of a job (0: the first sheet jams); the scanner drops
    off the network after ``disconnect_after`` sheets; ``busy_once``: the next job is refused 503."""

    empty: bool = False
    jam_after: int | None = None
    disconnect_after: int | None = None
    busy_once: bool = False


@dataclass
class _Job:
    pages: list[Image8]
    sent: int = 0
    jammed: bool = False


@dataclass
class EsclState:
    make_pages: PageMaker
    faults: EsclFaults = field(default_factory=EsclFaults)
    jobs: dict[str, _Job] = field(default_factory=dict)
    sheets_fed: int = 0
    jammed: bool = False  # until the clerk clears it (``EsclSimulator.clear_jam``)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def adf_state(self) -> str:
        if self.jammed:
            return "ScannerAdfJam"
        return "ScannerAdfEmpty" if self.faults.empty else "ScannerAdfLoaded"


def capabilities_xml() -> bytes:
    resolutions = "".join(
        f"<scan:DiscreteResolution><scan:XResolution>{r}</scan:XResolution>"
        f"<scan:YResolution>{r}</scan:YResolution></scan:DiscreteResolution>"
        for r in RESOLUTIONS
    )
    caps = (
        "<scan:SettingProfiles><scan:SettingProfile><scan:ColorModes><scan:ColorMode>RGB24</scan:ColorMode>"
        "<scan:ColorMode>Grayscale8</scan:ColorMode></scan:ColorModes><scan:DocumentFormats>"
        "<pwg:DocumentFormat>image/jpeg</pwg:DocumentFormat></scan:DocumentFormats>"
        f"<scan:SupportedResolutions><scan:DiscreteResolutions>{resolutions}</scan:DiscreteResolutions>"
        "</scan:SupportedResolutions></scan:SettingProfile></scan:SettingProfiles>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><scan:ScannerCapabilities xmlns:scan="{SCAN_NS}" '
        f'xmlns:pwg="{PWG_NS}"><pwg:Version>2.63</pwg:Version><pwg:MakeAndModel>motcua eSCL simulator'
        "</pwg:MakeAndModel><scan:Platen><scan:PlatenInputCaps><scan:MaxWidth>2550</scan:MaxWidth>"
        f"<scan:MaxHeight>3508</scan:MaxHeight>{caps}</scan:PlatenInputCaps></scan:Platen>"
        "<scan:Adf><scan:AdfSimplexInputCaps><scan:MaxWidth>2550</scan:MaxWidth><scan:MaxHeight>4200"
        f"</scan:MaxHeight>{caps}</scan:AdfSimplexInputCaps></scan:Adf></scan:ScannerCapabilities>"
    ).encode()


def status_xml(state: EsclState) -> bytes:
    busy = any(job.sent < len(job.pages) and not job.jammed for job in state.jobs.values())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<scan:ScannerStatus xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}">'
        f"<pwg:Version>2.63</pwg:Version><pwg:State>{'Processing' if busy else 'Idle'}</pwg:State>"
        f"<scan:AdfState>{state.adf_state()}</scan:AdfState></scan:ScannerStatus>"
    ).encode()


def parse_settings(body: bytes) -> tuple[str, int, str]:
    """InputSource, XResolution and ColorMode of a scan:ScanSettings document (ValueError if bad)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as err:
        raise ValueError(f"ScanSettings is not XML: {err}") from err
    ns = {"scan": SCAN_NS, "pwg": PWG_NS}
    source = root.findtext("pwg:InputSource", "Platen", ns)
    resolution = int(root.findtext("scan:XResolution", "200", ns))
    mode = root.findtext("scan:ColorMode", "RGB24", ns)
    if source not in ("Platen", "Feeder"):
        raise ValueError(f"InputSource {source!r}: Platen or Feeder")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"XResolution {resolution}: one of {RESOLUTIONS}")
    return source, resolution, mode


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("escl sim: " + format, *args)

    def _reply(
        self, code: int, body: bytes = b"", ctype: str = "text/xml", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/eSCL/ScannerCapabilities":
            return self._reply(200, capabilities_xml())
        if self.path == "/eSCL/ScannerStatus":
            with state.lock:
                return self._reply(200, status_xml(state))
        parts = self.path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["eSCL", "ScanJobs"] and parts[3] == "NextDocument":
            return self._next_document(parts[2])
        return self._reply(404)

    def _next_document(self, job_id: str) -> None:
        state = self.server.state
        with state.lock:
            job = state.jobs.get(job_id)
            if job is None or job.sent >= len(job.pages):
                return self._reply(404)
            faults = state.faults
            if job.jammed or (faults.jam_after is not None and job.sent >= faults.jam_after):
                job.jammed = state.jammed = True
                return self._reply(503, status_xml(state))
            page = job.pages[job.sent]
            job.sent += 1
            state.sheets_fed += 1
            cut = faults.disconnect_after is not None and state.sheets_fed > faults.disconnect_after
        ok, buffer = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 88])
        body = buffer.tobytes() if ok else b""
        if cut:  # power cut mid-page: headers and half the body, then the socket closes
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.server.disconnected.set()
            return None
        return self._reply(200, body, "image/jpeg")

    def do_POST(self) -> None:
        if self.path != "/eSCL/ScanJobs":
            return self._reply(404)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            source, resolution, _mode = parse_settings(body)
        except ValueError as err:
            return self._reply(400, str(err).encode(), "text/plain")
        state = self.server.state
        with state.lock:
            if state.faults.busy_once:
                state.faults.busy_once = False
                return self._reply(503, b"", headers={"Retry-After": "1"})
            if source == "Feeder" and (state.faults.empty or state.jammed):
                return self._reply(409, status_xml(state))
            pages = state.make_pages(resolution)
            if source == "Platen":
                pages = pages[:1]
            job_id = uuid.uuid4().hex
            state.jobs[job_id] = _Job(pages)
        return self._reply(201, headers={"Location": f"/eSCL/ScanJobs/{job_id}"})

    def do_DELETE(self) -> None:
        parts = self.path.strip("/").split("/")
        with self.server.state.lock:
            job = self.server.state.jobs.pop(parts[-1], None) if len(parts) == 3 else None
        self._reply(200 if job is not None else 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: EsclState
    disconnected: threading.Event


class EsclSimulator(Faults):
    """Serve ``make_pages(dpi)`` as an eSCL scanner on 127.0.0.1; ``url`` once started.

    Its faults are :class:`EsclFaults`, set by name (``set_faults({"jam_after": "0"})``) here or
    through the control port (``firmware_sim.control``), also while a job runs.
    """

    @property
    def faults(self) -> EsclFaults:
        return self.state.faults

    def _apply_fault(self, name: str, value: Any) -> None:
        with self.state.lock:
            setattr(self.state.faults, name, value)

    def __init__(self, make_pages: PageMaker = demo_stack, faults: EsclFaults | None = None) -> None:
        self.state = EsclState(make_pages, faults or EsclFaults())
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        server = _Server((host, port), _Handler)
        server.state = self.state
        server.disconnected = threading.Event()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="escl-sim", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "start the simulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def clear_jam(self) -> None:
        with self.state.lock:
            self.state.faults.jam_after = None
            self.state.jammed = False
            for job in self.state.jobs.values():
                job.jammed = False

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None


def blank_pages(count: int) -> PageMaker:
    """A feeder of ``count`` blank sheets (for tests that only count pages)."""

    def make(dpi: int) -> list[Image8]:
        w, h = sp.paper_pixels("A4", dpi)
        return [np.full((h, w, 3), 250, np.uint8) for _ in range(count)]

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the eSCL scanner simulator")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--jam-after", type=int)
    parser.add_argument("--empty", action="store_true")
    args = parser.parse_args()
    sim = EsclSimulator(faults=EsclFaults(empty=args.empty, jam_after=args.jam_after))
    print(f"eSCL simulator at {sim.start(args.port)}/eSCL/ScannerCapabilities (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
