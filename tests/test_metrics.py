"""``GET /metrics`` scraped like Prometheus does, parsed with prometheus_client's own parser.

Only an API key with the ``metrics`` scope may read it: no key is 401, a key of another scope 403.
The numbers follow the server: tickets issued and served today per service, waiting now, counters
open, each device's connection and health, and alerts sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl, BusClient
from queue_server.access import Access
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration
SCRAPER = "k-" + "m" * 30
READER = "k-" + "r" * 30


@pytest.fixture
def served(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[tuple[QueueServer, str]]:
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    access = Access.of(store)
    access.api_keys.add("prometheus", ["metrics"], key=SCRAPER)
    access.api_keys.add("reports", ["read", "counter", "dossier", "upload"], key=READER)
    access.officers.add("cb01", "Cán bộ quầy 1", "officer", "mật-khẩu-cb01")
    server = QueueServer(demo_site, store, mosquitto).start()
    http = HttpServer(create_app(server, access, demo_site.site.name), "127.0.0.1", free_port()).start()
    try:
        yield server, http.url
    finally:
        http.stop()
        server.stop()
        store.close()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {SCRAPER}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_metrics_need_a_key_of_the_metrics_scope(served: tuple[QueueServer, str]) -> None:
    _, url = served
    assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401
    wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401
    other = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {READER}"}, timeout=10)
    assert other.status_code == 403 and "metrics" in other.text
    in_url = httpx.get(f"{url}/metrics", params={"key": SCRAPER}, timeout=10)
    assert in_url.status_code == 401  # keys only in the header
    # The scraper's key reads nothing else: not the staff reads, not an operation.
    staff = httpx.get(f"{url}/api/v1/counters", headers={"Authorization": f"Bearer {SCRAPER}"}, timeout=10)
    assert all(c["officer"] is None for c in staff.json())


def test_metrics_follow_tickets_counters_devices_and_alerts(
    served: tuple[QueueServer, str], connect_as: Callable[[str], BusClient]
) -> None:
    server, url = served
    before = scrape(url)
    assert before[("motcua_tickets_issued_today", (("service", "civil"),))] == 0
    for _ in range(3):
        assert server.handle(m.IssueTicket(service="civil")).ok
    assert server.handle(m.IssueTicket(service="land")).ok
    assert server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01")).ok
    called = server.handle(m.CounterRequest(counter=1, action=m.CounterAction.CALL_NEXT))
    assert called.ok
    assert server.handle(m.CounterRequest(counter=1, action=m.CounterAction.FINISH)).ok
    for device_id, availability in (("printer-k1", "online"), ("keypad-2", "offline")):
        device = connect_as(device_id)  # a device says itself whether it is there
        device.publish(
            device.topics.device_availability(device_id), availability, retain=True
        ).wait_for_publish(5)
    assert wait_until(lambda: sum(d.online is not None for d in server.device_views()) == 2)
    after = scrape(url)
    issued = {k[1]: v for k, v in after.items() if k[0] == "motcua_tickets_issued_today"}
    served_ = {k[1]: v for k, v in after.items() if k[0] == "motcua_tickets_served_today"}
    waiting = {k[1]: v for k, v in after.items() if k[0] == "motcua_waiting"}
    assert issued[(("service", "civil"),)] + issued[(("service", "land"),)] == 4
    assert sum(served_.values()) == 1
    assert sum(waiting.values()) == 3
    assert after[("motcua_counters_open", ())] == 1
    assert after[("motcua_device_up", (("device", "printer-k1"), ("kind", "printer")))] == 1
    assert after[("motcua_device_up", (("device", "keypad-2"), ("kind", "keypad")))] == 0
    assert ("motcua_device_up", (("device", "led-3"), ("kind", "led_display"))) not in after  # never heard
    health = ("motcua_device_health", (("device", "keypad-2"), ("health", "offline"), ("kind", "keypad")))
    assert after[health] == 1
    assert after[("motcua_device_open_incidents", (("device", "keypad-2"),))] == 1
    assert not any(k[0] == "motcua_alerts_total" for k in after)  # no channel configured, nothing sent
