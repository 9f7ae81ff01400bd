"""Shared fixtures: a real Mosquitto on a free port per test session, secured as a centre's (users,
secrets and ACL from ``motcua site credentials``; ``broker_support.py``), site files, unique sites, and
the ``--hw-KIND URL`` options that run a device kind's contract suite on real hardware."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from broker_support import SharedBroker
from contract_support import ContractTargets

from bus.client import BrokerUrl, BusClient
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site, load_site

REPO = Path(__file__).resolve().parent.parent
DEMO_SITE = REPO / "sites" / "demo.toml"
_site_ids = itertools.count(1)

HARDWARE = {
    "printer": "an ESC/POS printer: serial:///dev/ttyUSB0?baudrate=115200, tcp://10.0.0.50:9100, usb://0x0416:0x5011",
    "led": "a Modbus RTU LED display at unit 1: serial:///dev/ttyUSB0?baudrate=9600",
    "keypad": "a caller-bus keypad at address 1: serial:///dev/ttyUSB1?baudrate=9600",
    "rf433": "a 433 MHz EV1527 receiver module: serial:///dev/ttyUSB2?baudrate=9600",
    "scanner": "an eSCL network scanner with paper in its feeder: http://192.168.1.40",
}
"""Device kinds with a contract suite → what ``--hw-KIND`` takes."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("motcua hardware", "run the device contract suites on real hardware too")
    for kind, what in HARDWARE.items():
        group.addoption(f"--hw-{kind}", metavar="URL", help=f"{what} (default: simulator only)")


@pytest.fixture
def hardware_url(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """``hardware_url("led")``: the ``--hw-led`` URL, or skip saying how to give one.

    ``MOTCUA_HW_PRINTER`` is still read for the printer (the option wins)."""

    def url(kind: str) -> str:
        given = request.config.getoption(f"--hw-{kind}")
        if not given and kind == "printer":
            given = os.environ.get("MOTCUA_HW_PRINTER")
        if not given:
            pytest.skip(f"no real {kind}: run pytest with --hw-{kind}=URL ({HARDWARE[kind]})")
        return str(given)

    return url


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerUrl]:
    """A real Mosquitto started for the tests, never the system's broker, with anonymous access off
    and the generated users and ACL: ``BusClient(mosquitto, site, "kiosk-1")`` logs in as kiosk 1."""
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: run the README's test command, which installs it")
    broker = SharedBroker(load_site(DEMO_SITE), tmp_path_factory.mktemp("broker-credentials"))
    yield broker.start()
    broker.stop()


@pytest.fixture
def demo_site() -> Site:
    """The demo site under a site id of its own, so tests sharing a broker never see each other.

    Open around the clock, so that tests pass on a Sunday night too; tests of issuing hours make
    their own site.
    """
    site = load_site(DEMO_SITE).around_the_clock()
    return site.model_copy(update={"site": site.site.model_copy(update={"id": f"t{next(_site_ids)}"})})


@pytest.fixture
def contract_targets(request: pytest.FixtureRequest, hardware_url: Callable[[str], str]) -> ContractTargets:
    return ContractTargets(request, hardware_url)


@pytest.fixture
def server(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[QueueServer]:
    """The real queue server on its own SQLite file, for the demo site of this test."""
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    srv = QueueServer(demo_site, store, mosquitto).start()
    yield srv
    srv.stop()
    store.close()


@pytest.fixture
def client(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[BusClient]:
    """A supervisor's bus client (it may act on every counter and issue tickets), ready for requests."""
    c = BusClient(mosquitto, demo_site.site.id, "supervisor-1")
    c.enable_requests()
    c.start()
    yield c
    c.stop()


@pytest.fixture
def connect_as(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[Callable[[str], BusClient]]:
    """``connect_as("keypad-2")``: a started client of this test's site logged in as that identity,
    with its rights only (a keypad writes its own ``device/keypad-2/evt``); stopped after the test."""
    made: list[BusClient] = []

    def connect(client_id: str) -> BusClient:
        c = BusClient(mosquitto, demo_site.site.id, client_id)
        made.append(c)
        return c.start()

    yield connect
    for c in made:
        c.stop()
