"""Hostile input on the bus never stops the centre (issue 12, item 6).

Each probe is published raw (paho, bypassing ``BusClient``'s own checks) through a real Mosquitto,
and is followed by the liveness check: the server answers a normal request within 1 s.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from support import wait_until

from bus import models as m
from bus.client import (
    MAX_PAYLOAD_BYTES,
    BrokerUrl,
    BusClient,
    PayloadTooLargeError,
    RequestTimeoutError,
    TopicError,
)
from bus.topics import Topics
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration


def raw_client(mosquitto: BrokerUrl, user: str) -> paho.Client:
    """A client that publishes whatever it is given, as an attacker's would: logged in as ``user``
    (a kiosk in the hall, say), so the broker's ACL lets it write ``req/{user}/...`` only."""
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"intruder-{user}", protocol=paho.MQTTv5)
    login = mosquitto.login(user)
    assert login is not None
    c.username_pw_set(*login)
    connected = threading.Event()
    c.on_connect = lambda _c, _u, _f, reason, _p: None if reason.is_failure else connected.set()
    c.connect(mosquitto.host, mosquitto.port)
    c.loop_start()
    assert connected.wait(5), f"{user} was not let in"
    return c


@pytest.fixture
def raw(mosquitto: BrokerUrl) -> Iterator[paho.Client]:
    """An attacker's client with kiosk 1's identity."""
    c = raw_client(mosquitto, "kiosk-1")
    yield c
    c.disconnect()
    c.loop_stop()


def send(raw: paho.Client, topic: str, payload: bytes | str) -> None:
    raw.publish(topic, payload, qos=1).wait_for_publish(timeout=5)


def request_json(server: QueueServer, reply_to: Any, **fields: Any) -> str:
    body = {"kind": "issue_ticket", "service": "land", "reply_to": reply_to, **fields}
    return json.dumps(body)


def still_serving(client: BusClient) -> None:
    """The liveness check after every probe: a normal request answered within 1 s."""
    answer = client.request("issue_ticket", m.IssueTicket(service="land"), timeout=1.0)
    assert answer.ok, answer


@pytest.mark.parametrize(
    "reply_to",
    [
        "{p}/resp/#",
        "{p}/resp/+",
        "{p}/#",
        "{p}/resp/a\x00b",
        "{p}/resp/a/b",
        "{p}/resp/",
        "{p}/resp//x",
        "motcua/v1/othersite/resp/console-1",
        "{p}/calls",
        "{p}/resp/" + "x" * 70_000,
        "{p}/resp/con\u0301sole",
        "{p}/resp/supervisor-1",
    ],
    ids=[
        "wildcard-hash",
        "wildcard-plus",
        "site-wildcard",
        "nul",
        "multi-level",
        "empty-client",
        "empty-level",
        "another-site",
        "not-resp",
        "over-long",
        "non-ascii",
        "another-client",
    ],
)
def test_hostile_reply_to_is_ignored_and_the_server_carries_on(
    server: QueueServer, client: BusClient, raw: paho.Client, reply_to: str
) -> None:
    prefix = server.topics.prefix
    issued_before = len(server.engine.tickets)
    send(raw, server.topics.req("kiosk-1", "issue_ticket"), request_json(server, reply_to.format(p=prefix)))
    still_serving(client)
    # The hostile request was never executed: only the liveness check's own ticket was issued.
    assert len(server.engine.tickets) == issued_before + 1
    assert server.worker.alive()


@pytest.mark.parametrize(
    "payload",
    [
        b"x" * (1024 * 1024),
        json.dumps({"kind": "issue_ticket", "service": "x" * (1024 * 1024), "reply_to": "{r}"}).encode(),
        b"\xff\xfe\x00not utf-8",
        b"{not json",
        b"null",
        b"[]",
        b'{"kind": "issue_ticket", "service": 123, "reply_to": "{r}"}',
        b'{"kind": "issue_ticket", "service": "land", "reply_to": 5}',
        b'{"kind": "counter", "counter": "two", "action": "open", "reply_to": "{r}"}',
        b'{"kind": "counter", "counter": 99999999999999999999, "action": "open", "reply_to": "{r}"}',
        b'{"kind": "issue_ticket", "service": "land", "reply_to": "{r}", "id": "short"}',
    ],
    ids=[
        "1MB-garbage",
        "1MB-json",
        "not-utf8",
        "not-json",
        "null",
        "array",
        "service-int",
        "reply-to-int",
        "counter-str",
        "counter-huge",
        "id-too-short",
    ],
)
def test_malformed_payload_is_dropped_and_the_server_carries_on(
    server: QueueServer, client: BusClient, raw: paho.Client, payload: bytes
) -> None:
    payload = payload.replace(b"{r}", server.topics.resp("kiosk-1").encode())
    # Over the broker's message_size_limit, Mosquitto drops the message (and an MQTT 5 sender's
    # connection); either way it never reaches the server.
    send(raw, server.topics.req("kiosk-1", "issue_ticket"), payload)
    still_serving(client)
    assert server.worker.alive()


def test_request_id_with_nul_is_answered_safely(
    server: QueueServer, client: BusClient, mosquitto: BrokerUrl
) -> None:
    """A NUL inside the payload (not the topic) is just data: the answer goes out, JSON-escaped."""
    got: list[m.Response] = []
    done = threading.Event()

    def seen(_t: str, r: m.Response) -> None:
        if r.request_id == "evil\x00request-id":
            got.append(r)
            done.set()

    client.subscribe(server.topics.resp("supervisor-1"), seen, m.Response, dedupe=False)
    reply_to = server.topics.resp("supervisor-1")
    raw = raw_client(mosquitto, "supervisor-1")  # a second connection of the supervisors' identity
    try:
        send(
            raw,
            server.topics.req("supervisor-1", "issue_ticket"),
            request_json(server, reply_to, id="evil\x00request-id"),
        )
        assert done.wait(5) and got[0].ok
        still_serving(client)
    finally:
        raw.disconnect()
        raw.loop_stop()


def test_bus_client_refuses_invalid_topics_and_oversized_payloads(client: BusClient) -> None:
    for topic in ["a/#", "a/+/b", "a\x00b", "a//b", "/a", "a/", "", "x" * 1000]:
        with pytest.raises(TopicError):
            client.publish(topic, "x")
    with pytest.raises(PayloadTooLargeError, match="over the"):
        client.publish(client.topics.calls(), "x" * (MAX_PAYLOAD_BYTES + 1))


def test_a_failure_after_commit_does_not_kill_the_worker(
    server: QueueServer, client: BusClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = server.publisher.publish
    calls = {"n": 0}

    def broken_once(out: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected: the broker connection broke mid-publish")
        real(out)

    monkeypatch.setattr(server.publisher, "publish", broken_once)
    with pytest.raises(RequestTimeoutError):
        client.request("issue_ticket", m.IssueTicket(service="land"), timeout=1.0)
    assert calls["n"] == 1
    still_serving(client)
    assert server.worker.alive()


# --- Hypothesis: any request through the broker, then a liveness check -------------------------

_texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["#", "+", "land", "\x00", "a/b", "resp/#", "</script>", "x" * 300]),
)
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), _texts)
_verbs = st.sampled_from(["issue_ticket", "counter", "offline_tickets", "reserve_block", "lookup", "zz"])


@st.composite
def hostile_requests(draw: st.DrawFn, prefix: str) -> tuple[str, bytes]:
    verb = draw(_verbs)
    body: dict[str, Any] = {"kind": draw(st.one_of(_verbs, _texts))}
    for key in draw(st.lists(st.sampled_from(["service", "counter", "action", "id", "numbers", "officer"]))):
        body[key] = draw(st.one_of(_values, st.lists(_values, max_size=3)))
    body["reply_to"] = draw(
        st.one_of(_values, st.builds(lambda t: f"{prefix}/resp/{t}", _texts), st.just(f"{prefix}/resp/h1"))
    )
    return verb, json.dumps(body).encode()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_requests_never_stop_the_server(
    server: QueueServer, client: BusClient, raw: paho.Client, data: st.DataObject
) -> None:
    verb, payload = data.draw(hostile_requests(server.topics.prefix))
    send(raw, f"{server.topics.prefix}/req/kiosk-1/{verb}", payload)
    still_serving(client)
    assert wait_until(server.worker.alive, 1)


# --- the watchdog: a dead or stuck worker takes the server offline ------------------------------


def availability_watcher(site: Site, mosquitto: BrokerUrl) -> tuple[BusClient, list[str]]:
    """A client that records every ``server/availability`` it hears, and that list."""
    seen: list[str] = []
    watcher = BusClient(mosquitto, site.site.id, "watcher")
    topic = Topics(site.site.id).server_availability()
    watcher.subscribe(topic, lambda _t, p: seen.append(p), None, dedupe=False)
    return watcher.start(), seen


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the injected death
def test_a_dead_worker_turns_the_server_offline(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = threading.Event()
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    srv = QueueServer(demo_site, store, mosquitto, on_worker_failure=failed.set).start()
    watcher, seen = availability_watcher(demo_site, mosquitto)
    try:
        assert wait_until(lambda: seen[-1:] == ["online"])

        def die(_batch: object) -> None:
            raise SystemExit("injected: the worker thread ends")  # not an Exception: not caught

        monkeypatch.setattr(srv.worker, "_guarded", die)
        srv.worker.put(_item())
        assert failed.wait(5), "the watchdog never noticed the dead worker"
        assert "died" in srv.watchdog.reason
        assert wait_until(lambda: seen[-1:] == ["offline"])
    finally:
        watcher.stop()
        srv.stop()
        store.close()


def test_a_stuck_worker_turns_the_server_offline(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = threading.Event()
    release = threading.Event()
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    srv = QueueServer(demo_site, store, mosquitto, on_worker_failure=failed.set).start()
    watcher, seen = availability_watcher(demo_site, mosquitto)
    srv.watchdog.stuck_after = 0.5
    try:
        monkeypatch.setattr(srv.worker, "_run", lambda _batch: release.wait(30))
        srv.worker.put(_item())
        assert failed.wait(5), "the watchdog never noticed the stuck worker"
        assert "one batch" in srv.watchdog.reason
        assert wait_until(lambda: seen[-1:] == ["offline"])
    finally:
        release.set()
        watcher.stop()
        srv.stop()
        store.close()


def _item() -> Any:
    from queue_server.publishing import Item

    return Item(m.IssueTicket(service="land"), "issue_ticket")


# --- SIGTERM: the server process stops within 2 s, even after hostile requests -----------------


def test_sigterm_stops_the_server_within_two_seconds(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, raw: paho.Client
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    site_file = tmp_path / "site.toml"
    text = (Path(__file__).parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    site_file.write_text(text.replace('id = "demo"', f'id = "{demo_site.site.id}"', 1), encoding="utf-8")
    watcher, seen = availability_watcher(demo_site, mosquitto)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # SIGABRT prints every thread's stack to the log if it ever hangs
            "-m",
            "motcua_cli.main",
            "server",
            "--site",
            str(site_file),
            "--broker",
            str(mosquitto),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert wait_until(lambda: seen[-1:] == ["online"], 30), "the server never came online"
        prefix = f"motcua/v1/{demo_site.site.id}"
        for reply_to in (f"{prefix}/resp/#", f"{prefix}/resp/a\x00b"):  # the issue's two killers
            send(
                raw,
                f"{prefix}/req/kiosk-1/issue_ticket",
                json.dumps({"kind": "issue_ticket", "service": "land", "reply_to": reply_to}),
            )
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(10)
            log.flush()
            stacks = (tmp_path / "server.log").read_text(errors="replace")
            pytest.fail(f"no stop 15 s after SIGTERM; the server's stacks:\n{stacks}")
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        watcher.stop()
        log.close()
    assert code == 0, (tmp_path / "server.log").read_text(errors="replace")
    assert took < 2.0, f"SIGTERM took {took:.2f} s"
    assert seen[-1] == "offline"


def test_a_sigterm_the_moment_the_server_is_online_is_a_clean_stop(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """The signal comes right after ``online`` is published, while the HTTP port is still to open:
    the handler is already in place (the signal's default action would kill the process, -15)."""
    import os
    import subprocess
    import sys

    site_file = tmp_path / "site.toml"
    text = (Path(__file__).parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    site_file.write_text(text.replace('id = "demo"', f'id = "{demo_site.site.id}"', 1), encoding="utf-8")
    script = (
        "import os, signal, sys\n"
        "from motcua_cli.main import main\n"
        "from queue_server.server import QueueServer\n"
        "start = QueueServer.start\n"
        "def start_then_sigterm(self, *args, **kwargs):\n"
        "    started = start(self, *args, **kwargs)  # online is published\n"
        "    os.kill(os.getpid(), signal.SIGTERM)  # systemd stops the server before the HTTP port opens\n"
        "    return started\n"
        "QueueServer.start = start_then_sigterm\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "server", "--site", str(site_file), "--broker", str(mosquitto)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr
