"""The station on a real Mosquitto: status follows the scanner's faults, uploads are announced."""

from __future__ import annotations

from pathlib import Path

import pytest
from broker_support import as_identity
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.device import DeviceLink
from firmware_sim.escl_scanner import EsclFaults, EsclSimulator, blank_pages
from scanner.errors import FeederEmptyError, PaperJamError
from scanner.service import ScannerService, scanner_info
from scanner.sources import EsclSource

pytestmark = pytest.mark.integration


def test_scanner_faults_show_in_the_retained_status(mosquitto: BrokerUrl, tmp_path: Path) -> None:
    site, device = "scansvc", "scanner-1"
    sim = EsclSimulator(blank_pages(4), EsclFaults(jam_after=2))
    url = sim.start()
    link = DeviceLink(mosquitto, site, device, scanner_info("eSCL simulator", "http"))
    service = ScannerService(link, EsclSource(url))
    watcher = BusClient(as_identity(mosquitto, "queue-server"), site, "dashboard")
    statuses: list[m.DeviceStatus] = []
    watcher.subscribe(link.topics.device_status(device), lambda _t, s: statuses.append(s), m.DeviceStatus)
    try:
        service.start()
        watcher.start()
        assert wait_until(lambda: bool(statuses) and statuses[-1].health is m.Health.OK)
        with pytest.raises(PaperJamError):
            list(service.pages())
        assert wait_until(lambda: statuses[-1].errors == ["paper_jam"])
        assert statuses[-1].health is m.Health.ERROR
        sim.clear_jam()
        assert len(list(service.pages())) == 4
        assert wait_until(lambda: statuses[-1].health is m.Health.OK)
        sim.state.faults.empty = True
        with pytest.raises(FeederEmptyError):
            list(service.pages())
        assert wait_until(lambda: statuses[-1].errors == ["feeder_empty"])
        last = statuses[-1]  # a fresh name: mypy still holds the ERROR seen above for statuses[-1]
        assert last.health is m.Health.WARNING
    finally:
        watcher.stop()
        service.stop()
        sim.stop()
