"""The MQTT client wrapper against real brokers: Mosquitto (MQTT 5 and 3.1.1) and amqtt (3.1.1)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from support import wait_until

from bus import models as m
from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BrokerUrlError, BusClient, RequestTimeoutError

pytestmark = pytest.mark.integration
_ids = itertools.count(1)


@pytest.fixture(params=[5, 311], ids=["mqtt5", "mqtt311"])
def broker(request: pytest.FixtureRequest, mosquitto: BrokerUrl) -> BrokerUrl:
    return replace(mosquitto, protocol=request.param)


@pytest.fixture
def site() -> str:
    return f"bus{next(_ids)}"


@pytest.fixture
def clients() -> Iterator[list[BusClient]]:
    made: list[BusClient] = []
    yield made
    for client in made:
        client.stop()


def start(clients: list[BusClient], broker: BrokerUrl, site: str, name: str, **kw: Any) -> BusClient:
    client = BusClient(broker, site, f"{site}-{name}", **kw)
    clients.append(client)
    return client


def collect(client: BusClient, pattern: str, schema: Any = None, **kw: Any) -> list[tuple[str, Any]]:
    got: list[tuple[str, Any]] = []
    client.subscribe(pattern, lambda t, msg: got.append((t, msg)), schema, **kw)
    return got


def test_broker_url_parsing() -> None:
    url = BrokerUrl.parse("mqtt://kiosk-1@10.0.0.2:1884?protocol=311")
    assert (url.host, url.port, url.username, url.protocol) == ("10.0.0.2", 1884, "kiosk-1", 311)
    for bad, problem in [
        ("tcp://h:1", "scheme"),
        ("mqtt://:1883", "missing host"),
        ("mqtt://h:99999", "port"),
        ("mqtt://h?protocol=4", "protocol"),
        ("mqtt://h?qos=2", "unknown parameter"),
    ]:
        with pytest.raises(BrokerUrlError, match=problem) as err:
            BrokerUrl.parse(bad)
        assert repr(bad) in str(err.value)


def test_publish_subscribe_typed_and_duplicates_ignored(
    broker: BrokerUrl, site: str, clients: list[BusClient]
) -> None:
    rx = start(clients, broker, site, "rx")
    got = collect(rx, rx.topics.all_device("evt"), m.device_event_adapter)
    rx.start()
    tx = start(clients, broker, site, "tx").start()
    event = m.KeyPressed(key=m.Key.CALL_NEXT, keypad_address=5)
    for _ in range(3):
        tx.publish(tx.topics.device_evt("keypad-5"), event)
    tx.publish(tx.topics.device_evt("keypad-5"), m.JobPrinted(job_id="j1", bytes_sent=10))
    # The last message is the barrier: same publisher, same topic, so the copies arrived before it.
    assert wait_until(lambda: any(isinstance(msg, m.JobPrinted) for _, msg in got))
    assert tuple(type(msg) for _, msg in got) == (m.KeyPressed, m.JobPrinted)
    assert got[0] == (tx.topics.device_evt("keypad-5"), event)


def test_malformed_payloads_warn_naming_the_topic_and_later_messages_still_arrive(
    broker: BrokerUrl, site: str, clients: list[BusClient], caplog: pytest.LogCaptureFixture
) -> None:
    rx = start(clients, broker, site, "rx")
    got = collect(rx, rx.topics.all_req(), m.request_adapter)
    rx.start()
    tx = start(clients, broker, site, "tx").start()
    topic = tx.topics.req(tx.client_id, "issue_ticket")
    with caplog.at_level(logging.WARNING, logger="bus.client"):
        for payload in ["{not json", "[1, 2]", '{"kind": "nope"}', '{"kind": "issue_ticket"}']:
            tx.publish(topic, payload)
        tx._mqtt.publish(topic, b"\xff\xfe", qos=1)
        good = m.IssueTicket(service="land")
        tx.publish(topic, good)
        assert wait_until(lambda: len(got) == 1)
    assert got[0][1] == good
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if topic in w]) == 5, warnings
    assert any("malformed JSON" in w for w in warnings)
    assert any("not UTF-8" in w for w in warnings)


def test_expired_commands_are_dropped(broker: BrokerUrl, site: str, clients: list[BusClient]) -> None:
    rx = start(clients, broker, site, "rx")
    got = collect(rx, rx.topics.device_cmd("led-1"), m.device_command_adapter)
    rx.start()
    tx = start(clients, broker, site, "tx").start()
    tx.publish(tx.topics.device_cmd("led-1"), m.ShowText(text="OLD", expires_at=m.expires_in(-0.5)))
    fresh = m.ShowText(text="NEW", expires_at=m.expires_in(30))
    tx.publish(tx.topics.device_cmd("led-1"), fresh)
    # The fresh command, sent after the stale one on the same topic, is the barrier.
    assert wait_until(lambda: any(msg.text == "NEW" for _, msg in got))
    assert [msg.text for _, msg in got] == ["NEW"]


def test_availability_is_the_last_will(broker: BrokerUrl, site: str, clients: list[BusClient]) -> None:
    topic = f"motcua/v1/{site}/device/led-1/availability"
    watcher = start(clients, broker, site, "watch")
    seen = collect(watcher, topic)
    watcher.start()
    dev = BusClient(broker, site, f"{site}-dev", availability_topic=topic).start()
    assert wait_until(lambda: seen[-1:] == [(topic, "online")])
    dev._mqtt.loop_stop()
    sock = dev._mqtt.socket()
    assert sock is not None
    sock.close()  # the process dies: no DISCONNECT, so the broker fires the will
    assert wait_until(lambda: seen[-1:] == [(topic, "offline")], timeout=10)


def test_request_response_and_timeout(broker: BrokerUrl, site: str, clients: list[BusClient]) -> None:
    server = start(clients, broker, site, "server")

    def answer(_topic: str, req: m.IssueTicket) -> None:
        assert req.reply_to is not None
        server.publish(req.reply_to, m.Response(request_id=req.id, ok=req.service == "land"))

    server.subscribe(server.topics.all_req("issue_ticket"), answer, m.request_adapter, dedupe=False)
    server.start()
    kiosk = start(clients, broker, site, "kiosk")
    kiosk.enable_requests()
    kiosk.start()
    assert kiosk.request("issue_ticket", m.IssueTicket(service="land")).ok
    assert not kiosk.request("issue_ticket", m.IssueTicket(service="civil")).ok
    with pytest.raises(RequestTimeoutError):
        kiosk.request("counter", m.CounterRequest(counter=1, action=m.CounterAction.CALL_NEXT), timeout=0.3)


def test_reconnects_resubscribes_and_republishes_availability_after_a_broker_restart(site: str) -> None:
    first = EmbeddedBroker(port=0, engine="mosquitto")
    url = first.start()
    topic = f"motcua/v1/{site}/device/printer-1/availability"
    dev = BusClient(url, site, f"{site}-dev", availability_topic=topic)
    cmds = collect(dev, dev.topics.device_cmd("printer-1"), m.device_command_adapter)
    dev.start()
    first.stop()  # a broker restart loses every retained message
    assert wait_until(lambda: not dev.connected.is_set())
    second = EmbeddedBroker(port=url.port, engine="mosquitto")
    second.start()
    try:
        assert wait_until(dev.connected.is_set, timeout=15)
        probe = BusClient(url, site, f"{site}-probe")
        seen = collect(probe, topic)
        probe.start()
        assert wait_until(lambda: seen == [(topic, "online")])
        probe.publish(probe.topics.device_cmd("printer-1"), m.Beep(expires_at=m.expires_in(10)))
        assert wait_until(lambda: len(cmds) == 1)
        assert dev.connect_count == 2
        probe.stop()
    finally:
        dev.stop()
        second.stop()


def test_amqtt_fallback_broker_carries_the_contract(site: str) -> None:
    broker = EmbeddedBroker(port=0, engine="amqtt")
    url = broker.start()
    assert url.protocol == 311
    done = threading.Event()
    rx = BusClient(url, site, f"{site}-rx")
    rx.subscribe(rx.topics.calls(), lambda _t, _msg: done.set(), m.CallEvent)
    tx = BusClient(url, site, f"{site}-tx")
    try:
        rx.start()
        tx.start()
        tx.publish(
            tx.topics.calls(),
            m.CallEvent(seq=1, number="A1", service="land", counter=1, counter_name="Quầy 1"),
        )
        assert done.wait(5)
    finally:
        rx.stop()
        tx.stop()
        broker.stop()
