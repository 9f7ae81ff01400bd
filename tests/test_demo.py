"""``motcua demo``: the headless run's observed counts, and a centre that shrugs off bad messages."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker_support import as_identity
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key
from motcua_cli.demo import VirtualCentre
from siteconf import Site

pytestmark = pytest.mark.integration
SUMMARY = re.compile(r"^tickets issued=(\d+) printed=(\d+) called=(\d+) displayed=(\d+)$")


@pytest.mark.slow
def test_headless_demo_prints_one_line_of_observed_counts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "motcua_cli.main",
            "demo",
            "--headless",
            "--for",
            "20",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    issued, printed, called, displayed = map(int, match.groups())
    assert min(issued, printed, called, displayed) > 0, lines[0]
    assert printed == issued  # the kiosk hands every issued ticket to its printer, once
    assert len(list(tmp_path.glob("printer-k1-*.png"))) == printed
    assert called <= issued  # nobody is called twice and nobody is called without a ticket
    assert displayed == called  # every call reached its counter's LED, once
    # As production: every process logged in as itself against a generated password file and ACL.
    creds = tmp_path / "credentials"
    users = {line.split(":")[0] for line in (creds / "mosquitto.passwd").read_text().splitlines()}
    assert {"queue-server", "kiosk-1", "printer-k1", "keypad-1", "led-1", "demo-observer"} <= users


@pytest.mark.slow
def test_ctrl_c_stops_everything_cleanly_and_still_reports(tmp_path: Path) -> None:
    """A terminal Ctrl-C signals the whole process group, twice if the user insists."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "motcua_cli.main", "demo", "--headless", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: len(list(tmp_path.glob("printer-k1-*.png"))) >= 2, timeout=30)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert SUMMARY.match(out.strip()), out
    assert "lost the broker" not in err


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[VirtualCentre]:
    c = VirtualCentre(demo_site, mosquitto, tmp_path, seed=7)
    c.start(citizens=False)
    c.clerks.stopping.set()  # this test presses the keys itself
    yield c
    c.stop()


def test_every_printed_ticket_was_handed_over_and_numbers_reach_the_leds(centre: VirtualCentre) -> None:
    numbers = [centre.kiosks[0].take_ticket(s).ticket.number for s in ["land", "civil", "business"]]  # type: ignore[union-attr]
    assert numbers == ["A1001", "B2001", "C3001"]
    assert wait_until(lambda: centre.sims.printed() == 3)
    assert [t for t in centre.sims.printers["printer-k1"].page_texts if "A1001" in t]
    centre.sims.keypads[4].press(Key.CALL)
    assert wait_until(lambda: centre.sims.leds[4].shown.strip() == "2001")
    assert centre.handed_to_printers() == centre.sims.printed() == 3


def test_malformed_json_on_every_subscribed_topic_is_reported_and_later_messages_still_work(
    centre: VirtualCentre, demo_site: Site, mosquitto: BrokerUrl, caplog: pytest.LogCaptureFixture
) -> None:
    t = centre.server.topics
    # Each topic written by the identity the broker's ACL lets write it (a broken or hijacked one).
    writers = {
        t.req("vandal", "issue_ticket"): "vandal",
        t.req("vandal", "counter"): "vandal",
        t.device_evt("keypad-1"): "keypad-1",
        t.device_cmd("printer-k1"): "kiosk-1",
        t.device_cmd("led-1"): "queue-server",
        t.counter_state(1): "queue-server",
        t.calls(): "queue-server",
        t.resp("kiosk-1"): "queue-server",
        t.device_evt("printer-k1"): "printer-k1",
    }
    topics = list(writers)
    vandals = {
        who: BusClient(as_identity(mosquitto, who), demo_site.site.id, f"vandal-as-{who}").start()
        for who in set(writers.values())
    }
    try:
        with caplog.at_level(logging.WARNING, logger="bus.client"):
            for topic, who in writers.items():
                vandals[who].publish(topic, '{"kind": "issue_ticket", "service": ')
            assert wait_until(
                lambda: all(
                    any(
                        topic in r.getMessage() and "malformed JSON" in r.getMessage() for r in caplog.records
                    )
                    for topic in topics
                ),
                timeout=5,
            ), [r.getMessage() for r in caplog.records]
    finally:
        for vandal in vandals.values():
            vandal.stop()
    outcome = centre.kiosks[0].take_ticket("land")
    assert outcome.ticket is not None
    assert wait_until(lambda: centre.sims.printed() == 1)
    centre.sims.keypads[1].press(Key.CALL)
    assert wait_until(lambda: centre.sims.leds[1].shown.strip() == "1001")


def test_a_job_for_a_printer_out_of_paper_is_reported_failed(centre: VirtualCentre) -> None:
    failed: list[m.JobFailed] = []
    centre.kiosks[0].on_job_failed = failed.append
    sim = centre.sims.printers["printer-k1"]
    assert centre.kiosks[0].take_ticket("land").ticket is not None
    assert wait_until(lambda: centre.sims.printed() == 1)
    sim.paper_out_at_job = sim.jobs_started + 1
    assert centre.kiosks[0].take_ticket("land").ticket is not None
    assert wait_until(lambda: len(failed) == 1, timeout=15)
    assert "paper" in failed[0].reason
    assert centre.sims.printed() == 1


def test_the_demo_broker_refuses_anonymous_clients_and_admits_each_identity(tmp_path: Path) -> None:
    """`motcua demo` runs with authentication on, as production does (password file and ACL)."""
    from dataclasses import replace

    from bus.errors import BusError
    from motcua_cli.demo import _secured_broker
    from siteconf import load_site

    site = load_site(Path(__file__).resolve().parent.parent / "sites" / "demo.toml")
    broker, url = _secured_broker(site, tmp_path)
    try:
        assert url.secrets_dir is not None and url.username is None
        kiosk = BusClient(url, site.site.id, "kiosk-1").start(wait=5)  # its own secret: admitted
        kiosk.stop()
        anonymous = replace(url, secrets_dir=None)
        with pytest.raises(BusError, match="no connection"):
            BusClient(anonymous, site.site.id, "kiosk-1").start(wait=3)
        with pytest.raises(BusError, match="no MQTT secret for stranger"):
            BusClient(url, site.site.id, "stranger").start(wait=3)
    finally:
        broker.stop()


def test_without_mosquitto_the_demo_falls_back_to_amqtt_with_a_warning_and_no_anonymous_clients(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The pure-Python fallback has no per-client users or ACL: it says so, it refuses to be given
    users or an ACL (so nothing believes it is secured), and it still turns away anonymous clients."""
    from dataclasses import replace

    from bus.broker import EmbeddedBroker
    from bus.errors import BusError
    from motcua_cli.demo import _secured_broker
    from siteconf import load_site

    site = load_site(Path(__file__).resolve().parent.parent / "sites" / "demo.toml")
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the mosquitto program
    with caplog.at_level(logging.WARNING, logger="bus.broker"):
        broker, url = _secured_broker(site, tmp_path)
    try:
        assert broker.engine == "amqtt" and url.secrets_dir is None
        warned = [r.getMessage() for r in caplog.records]
        assert any("no per-client users, ACL or TLS; for a demo only" in w for w in warned), warned
        BusClient(url, site.site.id, "kiosk-1").start(wait=5).stop()  # every motcua client names a user
        anonymous = BusClient(replace(url, username=None), site.site.id, "kiosk-1")
        with pytest.raises(BusError, match="no connection"):
            anonymous.start(wait=2)
        anonymous.stop()
    finally:
        broker.stop()
    auth = (tmp_path / "mosquitto.passwd", tmp_path / "mosquitto.acl")
    with pytest.raises(BusError, match="users and ACL need Mosquitto"):
        EmbeddedBroker(port=0, engine="amqtt", auth=auth)
