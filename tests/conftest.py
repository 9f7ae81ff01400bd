"""Shared fixtures: a real Mosquitto on a free port per test session, site files, unique sites."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl
from siteconf import Site, load_site

REPO = Path(__file__).resolve().parent.parent
DEMO_SITE = REPO / "sites" / "demo.toml"
_site_ids = itertools.count(1)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[BrokerUrl]:
    """A real Mosquitto started for the tests, never the system's broker."""
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: run the README's test command, which installs it")
    broker = EmbeddedBroker(port=0, engine="mosquitto")
    url = broker.start()
    yield url
    broker.stop()


@pytest.fixture
def demo_site() -> Site:
    """The demo site under a site id of its own, so tests sharing a broker never see each other.

    Open around the clock, so that tests pass on a Sunday night too; tests of issuing hours make
    their own site.
    """
    site = load_site(DEMO_SITE).around_the_clock()
    return site.model_copy(update={"site": site.site.model_copy(update={"id": f"t{next(_site_ids)}"})})
