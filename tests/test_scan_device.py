"""A scanning station as a device service (``motcua device`` / ``motcua scan station --site``) on a real
Mosquitto, uploading to the queue server's dossier store on a real uvicorn behind its API key."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from broker_support import ProvisioningUrl, as_identity
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl, BusClient
from motcua_cli.devices import build_service, run_device
from queue_server.access import Access
from queue_server.db import Store
from queue_server.dossiers import DossierStore
from queue_server.http import HttpServer, create_app
from queue_server.sealed import load_key
from queue_server.server import QueueServer
from scanner.errors import ScanError
from scanner.service import ScannerDeviceService
from scanner.spool import Spool, new_key, parse_key
from siteconf import Site, load_site

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"
DEVICE = "scanner-1"
DOSSIER = "H99.01-261122-0007"
API_KEY = "test-store-key-of-the-station-q3"
_site_ids = itertools.count()


def write_site(tmp_path: Path, store_url: str) -> Path:
    """The demo site (up to its ``[scanning]`` table) with one scanning station, under its own id."""
    text = DEMO.read_text(encoding="utf-8").split("\n[scanning]")[0]
    text = text.replace('\nid = "demo"\n', f'\nid = "scandev{next(_site_ids)}"\n', 1)
    text += (
        f'\n[[devices]]\nid = "{DEVICE}"\nkind = "scanner"\n'
        f'\n[scanning]\nstore_url = "{store_url}"\nspool_dir = "{tmp_path / "scan-spool"}"\nchunk_kib = 64\n'
        f'\n[[scanning.stations]]\ndevice = "{DEVICE}"\nsource = "folder:{tmp_path / "inbox"}"\n'
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class QueueHttp:
    url: str
    dossiers: Path


@pytest.fixture
def queue_http(tmp_path: Path, mosquitto: BrokerUrl) -> Iterator[QueueHttp]:
    """The queue server's own HTTP app (dossier store under /api/v1, API key) on a real uvicorn."""
    site = load_site(write_site(tmp_path / "server", "http://unused"))
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(site, store, mosquitto).start()
    access = Access.of(store)
    access.api_keys.add("scanner-test", ["upload"], key=API_KEY)
    app = create_app(server, access, dossier_dir=tmp_path / "dossiers")
    http = HttpServer(app, "127.0.0.1", free_port()).start()
    yield QueueHttp(http.url, tmp_path / "dossiers")
    http.stop()
    server.stop()
    store.close()


@pytest.fixture
def scan_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    key = new_key()
    monkeypatch.delenv("MOTCUA_SCAN_KEY_FILE", raising=False)
    monkeypatch.setenv("MOTCUA_SCAN_KEY", key)
    return parse_key(key)


class Dashboard:
    """What the facility staff's dashboard sees of the scanner."""

    def __init__(self, broker: BrokerUrl, site: Site) -> None:
        self.bus = BusClient(as_identity(broker, "queue-server"), site.site.id, "dashboard")
        topics = self.bus.topics
        self.availability: list[str] = []
        self.info: list[m.DeviceInfo] = []
        self.status: list[m.DeviceStatus] = []
        self.events: list[Any] = []
        self.bus.subscribe(topics.device_availability(DEVICE), lambda _t, a: self.availability.append(a))
        self.bus.subscribe(topics.device_info(DEVICE), lambda _t, i: self.info.append(i), m.DeviceInfo)
        self.bus.subscribe(topics.device_status(DEVICE), lambda _t, s: self.status.append(s), m.DeviceStatus)
        self.bus.subscribe(
            topics.device_evt(DEVICE), lambda _t, e: self.events.append(e), m.device_event_adapter
        )

    def online(self) -> bool:
        return bool(self.availability) and self.availability[-1] == "online"


def _pdf(path: Path, size: int = 200_000) -> Path:
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(size) + b"\n%%EOF\n")
    return path


def test_the_device_service_comes_online_and_uploads_its_spool(
    tmp_path: Path,
    mosquitto: BrokerUrl,
    queue_http: QueueHttp,
    scan_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_UPLOAD_KEY", API_KEY)
    site = load_site(write_site(tmp_path, f"{queue_http.url}/api/v1"))
    service = build_service(site, site.device(DEVICE), mosquitto)
    assert isinstance(service, ScannerDeviceService)
    dashboard = Dashboard(mosquitto, site)
    dashboard.bus.start()
    service.start()
    try:
        assert wait_until(lambda: dashboard.online() and bool(dashboard.info) and bool(dashboard.status))
        assert dashboard.info[-1].device_kind is m.DeviceKind.SCANNER
        assert dashboard.info[-1].transport == "folder"
        assert dashboard.status[-1].health is m.Health.OK
        # A late subscriber (the dashboard opened later) gets the same from the retained messages.
        late = Dashboard(mosquitto, site)
        late.bus.start()
        assert wait_until(lambda: late.online() and bool(late.info) and bool(late.status))
        late.bus.stop()

        spool = Spool(tmp_path / "scan-spool" / DEVICE, scan_key)
        pdf = _pdf(tmp_path / "dossier.pdf")
        sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
        entry = spool.put(pdf, DOSSIER, "GIAY_KS")
        assert wait_until(lambda: bool(dashboard.events), 10)
        event = dashboard.events[-1]
        assert isinstance(event, m.DossierUploaded)
        assert (event.dossier_code, event.sha256, event.bytes, event.doc_type) == (
            DOSSIER,
            sha,
            entry.size,
            "GIAY_KS",
        )
        assert spool.entries() == [] and list(spool.folder.iterdir()) == []
        assert service.idle()
        key = load_key(queue_http.dossiers.parent / "secrets" / "dossier-store.key")
        stored = DossierStore(queue_http.dossiers, key).read(
            DOSSIER, sha
        )  # sealed at rest, opens with the key
        assert hashlib.sha256(stored).hexdigest() == sha
    finally:
        service.stop()
        assert wait_until(lambda: dashboard.availability[-1] == "offline")
        dashboard.bus.stop()


def test_a_store_refusing_the_key_leaves_the_entry_and_the_service_running(
    tmp_path: Path,
    mosquitto: BrokerUrl,
    queue_http: QueueHttp,
    scan_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_UPLOAD_KEY", "not-the-key")
    site = load_site(write_site(tmp_path, f"{queue_http.url}/api/v1"))
    spool = Spool(tmp_path / "scan-spool" / DEVICE, scan_key)
    entry = spool.put(_pdf(tmp_path / "dossier.pdf"), DOSSIER)
    service = ScannerDeviceService.from_site(site, site.device(DEVICE), mosquitto, poll_s=0.05)
    dashboard = Dashboard(mosquitto, site)
    dashboard.bus.start()
    service.start()
    try:
        assert wait_until(lambda: service.failures >= 3)  # refused, refused again later: still trying
        assert wait_until(lambda: bool(dashboard.status) and "upload_failed" in dashboard.status[-1].errors)
        assert dashboard.status[-1].health is m.Health.WARNING
        assert "1 file(s) waiting" in (dashboard.status[-1].detail or "")
        assert spool.entries() == [entry] and not service.idle()
        assert dashboard.online() and dashboard.events == []
        assert not (queue_http.dossiers / DOSSIER).exists()

        # The key is put right: the next attempt goes through, the status is ok again.
        service.uploader.client.headers["Authorization"] = f"Bearer {API_KEY}"
        service.poke()
        assert wait_until(lambda: bool(dashboard.events), 10)
        assert wait_until(lambda: dashboard.status[-1].errors == [] and service.idle())
    finally:
        service.stop()
        dashboard.bus.stop()


def test_no_scan_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTCUA_SCAN_KEY_FILE", raising=False)
    monkeypatch.delenv("MOTCUA_SCAN_KEY", raising=False)
    site = load_site(write_site(tmp_path, "http://127.0.0.1:9/api/v1"))
    with pytest.raises(ScanError, match=r"MOTCUA_SCAN_KEY_FILE.*MOTCUA_SCAN_KEY\b"):
        build_service(site, site.device(DEVICE), "mqtt://127.0.0.1:1")
    with pytest.raises(SystemExit, match=f"motcua: scanner {DEVICE}: no scan key: set MOTCUA_SCAN_KEY_FILE"):
        run_device(site, DEVICE, "mqtt://127.0.0.1:1")


def test_the_station_window_joins_the_bus_as_its_device(
    tmp_path: Path, mosquitto: BrokerUrl, scan_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``motcua scan station --site F --device scanner-1``: the window gets the device service's pages,
    spool and uploader, and the device is online while the window is open, offline after."""
    import scanner.cli

    site_file = write_site(tmp_path, "http://127.0.0.1:9/api/v1")
    site = load_site(site_file)
    # The station is handed the broker as text, which carries no test provisioning: give the scanner
    # its secret first (it had one only when another test of this file had run before).
    assert isinstance(mosquitto, ProvisioningUrl) and mosquitto.provision is not None
    mosquitto.provision(DEVICE)
    dashboard = Dashboard(mosquitto, site)
    dashboard.bus.start()
    seen: dict[str, Any] = {}

    def show(batch: Any, feed: Any, spool: Spool, work: Path, uploader: Any) -> int:
        seen.update(feed=feed, spool=spool, uploader=uploader)
        seen["online"] = wait_until(lambda: dashboard.online() and bool(dashboard.status))
        return 0

    monkeypatch.setattr(scanner.cli, "_show_station", show)
    args = argparse.Namespace(
        site=site_file,
        device=DEVICE,
        broker=str(mosquitto),
        source=None,
        spool=None,
        store=None,
        work=tmp_path,
    )
    try:
        assert scanner.cli.run_station(args) == 0
        assert seen["online"]
        assert isinstance(seen["uploader"], ScannerDeviceService)
        assert seen["feed"] == seen["uploader"].service.pages  # faults reach the bus as status
        assert seen["spool"].folder == tmp_path / "scan-spool" / DEVICE
        assert wait_until(lambda: dashboard.availability[-1] == "offline")
        bad = argparse.Namespace(**{**vars(args), "source": "sane:test"})
        assert scanner.cli.run_station(bad) == 2
    finally:
        dashboard.bus.stop()
