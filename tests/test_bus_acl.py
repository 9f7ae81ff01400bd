"""The broker's ACL made by ``motcua site credentials``, tried as an attacker on the LAN would
(issue 12, items 1, 3 and 9): a real Mosquitto with the generated users, secrets and ACL.

"Never arrives" is shown without sleeping: after each forbidden publish, the same client publishes
something it may, to a topic the observer also hears; Mosquitto keeps one client's messages in
order, so once the allowed one has arrived the forbidden one would have arrived before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from support import wait_until

from bus import models as m
from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BusClient, BusError
from motcua_cli.credentials import hash_secret, write_credentials
from motcua_cli.main import main
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration


@dataclass
class SecuredBroker:
    url: BrokerUrl
    secrets: dict[str, str]
    out: Path

    def url_for(self, client_id: str) -> BrokerUrl:
        return self.url.as_client(client_id, self.secrets[client_id])


@pytest.fixture
def secured(demo_site: Site, tmp_path: Path) -> Iterator[SecuredBroker]:
    out = tmp_path / "credentials"
    made = write_credentials(demo_site, out)
    broker = EmbeddedBroker(
        port=0, engine="mosquitto", auth=(out / "mosquitto.passwd", out / "mosquitto.acl")
    )
    url = broker.start()
    yield SecuredBroker(url, made, out)
    broker.stop()


@pytest.fixture
def connect(demo_site: Site, secured: SecuredBroker) -> Iterator[Callable[[str], BusClient]]:
    made: list[BusClient] = []

    def make(client_id: str, *, requests: bool = False) -> BusClient:
        c = BusClient(secured.url_for(client_id), demo_site.site.id, client_id)
        if requests:
            c.enable_requests()
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


@pytest.fixture
def server(demo_site: Site, secured: SecuredBroker, tmp_path: Path) -> Iterator[QueueServer]:
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    srv = QueueServer(demo_site, store, secured.url_for("queue-server")).start()
    yield srv
    srv.stop()
    store.close()


class Heard:
    """Every message on every topic of the site, as the server's identity hears it."""

    def __init__(self, client: BusClient) -> None:
        self.topics: list[str] = []
        self.lock = threading.Lock()
        client.subscribe(f"{client.topics.prefix}/#", self._on, None, dedupe=False)

    def _on(self, topic: str, _payload: str) -> None:
        with self.lock:
            self.topics.append(topic)

    def saw(self, topic: str) -> bool:
        with self.lock:
            return topic in self.topics


def test_the_generated_password_file_is_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    import base64
    import shutil
    import subprocess

    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed")
    passwd = tmp_path / "p"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "alice", "s3cret"], check=True)
    theirs = passwd.read_text().strip().split(":", 1)[1]
    _, seven, iterations, salt, _hash = theirs.split("$")
    assert seven == "7"
    assert hash_secret("s3cret", base64.b64decode(salt), int(iterations)) == theirs


def test_no_secret_or_a_wrong_one_gets_no_connection(demo_site: Site, secured: SecuredBroker) -> None:
    for url in (secured.url, secured.url.as_client("kiosk-1", "wrong"), secured.url.as_client("nobody", "x")):
        client = BusClient(url, demo_site.site.id, url.username or "anon")
        with pytest.raises(BusError, match="no connection"):
            client.start(wait=2)
        client.stop()


@pytest.mark.parametrize(
    ("faker", "topic"),
    [
        ("tablet-2", "calls"),
        ("kiosk-1", "counter/2/state"),
        ("keypad-1", "queue/land/state"),
        ("keypad-1", "device/keypad-2/status"),
        ("keypad-1", "device/keypad-2/evt"),
        ("kiosk-1", "device/led-1/cmd"),
        ("kiosk-1", "req/console-1/counter"),
        ("led-1", "server/availability"),
        ("console-1", "resp/kiosk-1"),
    ],
)
def test_a_client_cannot_publish_as_another(
    demo_site: Site, connect: Callable[..., BusClient], faker: str, topic: str
) -> None:
    heard = Heard(connect("queue-server").start())
    client = connect(faker).start()
    prefix = client.topics.prefix
    client.publish(f"{prefix}/{topic}", '{"kind": "call", "number": "A0001"}')
    allowed = client.topics.req(faker, "issue_ticket")  # every client may write its own requests
    client.publish(allowed, "barrier")
    assert wait_until(lambda: heard.saw(allowed)), "the allowed message never arrived"
    assert not heard.saw(f"{prefix}/{topic}"), f"{faker} published on {topic}"


def test_one_client_cannot_read_anothers_answers(
    server: QueueServer, connect: Callable[..., BusClient]
) -> None:
    snoop = connect("console-2", requests=True)
    stolen: list[m.Response] = []
    snoop.subscribe(snoop.topics.resp("kiosk-1"), lambda _t, r: stolen.append(r), m.Response, dedupe=False)
    snoop.start()
    kiosk = connect("kiosk-1", requests=True).start()
    ticket = kiosk.request("issue_ticket", m.IssueTicket(service="land"))
    assert ticket.ok
    # console-2's own answer comes after kiosk-1's on the server's connection: by then it would be here.
    own = snoop.request("counter", m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="cb02"))
    assert own.ok
    assert stolen == []


def test_a_kiosk_acting_on_a_counter_is_refused_through_the_real_acl(
    server: QueueServer, connect: Callable[..., BusClient]
) -> None:
    kiosk = connect("kiosk-1", requests=True).start()
    answer = kiosk.request("counter", m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="x"))
    assert not answer.ok and answer.error is not None and answer.error.code == "forbidden"
    assert kiosk.request("issue_ticket", m.IssueTicket(service="land"), timeout=1.0).ok


def test_every_device_and_app_runs_with_its_own_identity(
    demo_site: Site, server: QueueServer, connect: Callable[..., BusClient]
) -> None:
    """The server, a kiosk, a console and a display each connect with their own secret and work."""
    calls: list[m.CallEvent] = []
    board = connect("led-1")
    board.subscribe(board.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    board.start()
    kiosk = connect("kiosk-1", requests=True).start()
    console = connect("console-1", requests=True).start()
    assert kiosk.request("issue_ticket", m.IssueTicket(service="land")).ok
    assert console.request(
        "counter", m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01")
    ).ok
    assert console.request("counter", m.CounterRequest(counter=1, action=m.CounterAction.CALL_NEXT)).ok
    assert wait_until(lambda: [c.counter for c in calls] == [1])


def test_the_hall_board_has_an_identity_of_its_own(
    secured: SecuredBroker, server: QueueServer, connect: Callable[..., BusClient]
) -> None:
    """``motcua hall`` connects as ``hall-board``: the credentials give it a user, and it may rebuild
    its list of calls (``calls_since``), nothing more."""
    board = connect("hall-board", requests=True).start()
    assert board.request("calls_since", m.CallsSince(after_seq=0)).ok
    refused = board.request("issue_ticket", m.IssueTicket(service="land"))
    assert refused.error is not None and refused.error.code == "forbidden"


def test_rotating_one_secret_keeps_the_others(demo_site: Site, tmp_path: Path) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        (Path(__file__).parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    out = tmp_path / "cred"
    assert main(["site", "credentials", "--site", str(site_file), "--out", str(out)]) == 0
    before = {p.name: p.read_text() for p in (out / "secrets").iterdir()}
    assert (out / "secrets" / "kiosk-1.secret").stat().st_mode & 0o077 == 0
    assert (
        main(["site", "credentials", "--site", str(site_file), "--out", str(out), "--rotate", "kiosk-1"]) == 0
    )
    after = {p.name: p.read_text() for p in (out / "secrets").iterdir()}
    assert after["kiosk-1.secret"] != before["kiosk-1.secret"]
    assert {k: v for k, v in after.items() if k != "kiosk-1.secret"} == {
        k: v for k, v in before.items() if k != "kiosk-1.secret"
    }


# paho leaves the socket of a refused TLS handshake (the untrusting client's retry) to the collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_listener_with_generated_certificates_and_verified_by_clients(
    demo_site: Site, secured: SecuredBroker, tmp_path: Path
) -> None:
    from motcua_cli.tls_certs import make_site_ca

    tls = make_site_ca(tmp_path / "tls", demo_site.site.id, ["127.0.0.1", "localhost"])
    auth = (secured.out / "mosquitto.passwd", secured.out / "mosquitto.acl")
    broker = EmbeddedBroker(
        port=0, engine="mosquitto", auth=auth, tls=(tls["ca.crt"], tls["server.crt"], tls["server.key"])
    )
    url = broker.start()
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        assert url.tls and str(url).startswith("mqtts://")
        server = QueueServer(demo_site, store, url.as_client("queue-server", secured.secrets["queue-server"]))
        server.start()
        kiosk = BusClient(url.as_client("kiosk-1", secured.secrets["kiosk-1"]), demo_site.site.id, "kiosk-1")
        kiosk.enable_requests()
        kiosk.start()
        assert kiosk.request("issue_ticket", m.IssueTicket(service="land")).ok
        kiosk.stop()
        # A client that does not trust the centre's CA (the system's CAs only) never connects.
        untrusting = replace(url.as_client("kiosk-1", secured.secrets["kiosk-1"]), ca_file=None)
        stranger = BusClient(untrusting, demo_site.site.id, "kiosk-1")
        with pytest.raises(BusError, match="no connection"):
            stranger.start(wait=2)
        stranger.stop()
        server.stop()
    finally:
        store.close()
        broker.stop()


def test_a_broker_url_names_tls_and_its_ca() -> None:
    url = BrokerUrl.parse(
        "mqtts://kiosk-1@10.0.0.2?ca_file=/etc/motcua/ca.crt&secret_file=/etc/motcua/k.secret"
    )
    assert (url.tls, url.port, url.ca_file, url.secret_file) == (
        True,
        8883,
        "/etc/motcua/ca.crt",
        "/etc/motcua/k.secret",
    )
    assert BrokerUrl.parse(str(url)) == url
    with pytest.raises(BusError, match="ca_file needs mqtts"):
        BrokerUrl.parse("mqtt://h?ca_file=/x")


def test_a_device_service_speaks_under_its_own_identity(
    demo_site: Site, server: QueueServer, secured: SecuredBroker
) -> None:
    """A device service connects as its device id: its availability, info, status and events pass
    the ACL, and the server's registry sees them."""
    from bus.device import DeviceLink

    info = m.DeviceInfo(device_kind=m.DeviceKind.KEYPAD, model="sim", transport="sim", counter=2)
    link = DeviceLink(secured.url_for("keypad-2"), demo_site.site.id, "keypad-2", info)
    link.start()
    try:
        link.set_status(m.DeviceStatus(health=m.Health.OK, detail="ready"))
        assert wait_until(
            lambda: any(v.id == "keypad-2" and v.online and v.health == "ok" for v in server.device_views())
        )
    finally:
        link.stop()


# --- the shared test broker (conftest's ``mosquitto``) runs with the same users and ACL --------------


def test_the_shared_test_broker_refuses_anonymous_clients(demo_site: Site, mosquitto: BrokerUrl) -> None:
    from broker_support import anonymous

    stranger = BusClient(anonymous(mosquitto), demo_site.site.id, "kiosk-1")
    with pytest.raises(BusError, match="no connection"):
        stranger.start(wait=2)
    stranger.stop()
    wrong = BusClient(mosquitto.as_client("kiosk-1", "not-its-secret"), demo_site.site.id, "kiosk-1")
    with pytest.raises(BusError, match="no connection"):
        wrong.start(wait=2)
    wrong.stop()
    # The same client id with its own secret (from the fixture's secrets_dir) is let in.
    BusClient(mosquitto, demo_site.site.id, "kiosk-1").start().stop()


@pytest.mark.parametrize(
    ("faker", "topic"),
    [
        ("kiosk-1", "calls"),
        ("console-1", "counter/2/state"),
        ("keypad-1", "device/keypad-2/evt"),
        ("a-new-test-observer", "calls"),  # an id the credentials did not know: common rights only
        ("a-new-test-observer", "device/led-1/cmd"),
    ],
)
def test_the_shared_test_broker_enforces_the_generated_acl_on_any_site(
    demo_site: Site, mosquitto: BrokerUrl, faker: str, topic: str
) -> None:
    server = BusClient(mosquitto, demo_site.site.id, "queue-server")
    heard = Heard(server.start())
    client = BusClient(mosquitto, demo_site.site.id, faker).start()
    try:
        prefix = client.topics.prefix
        client.publish(f"{prefix}/{topic}", '{"kind": "call", "number": "A0001"}')
        allowed = client.topics.req(faker, "issue_ticket")
        client.publish(allowed, "barrier")
        assert wait_until(lambda: heard.saw(allowed)), "the allowed message never arrived"
        assert not heard.saw(f"{prefix}/{topic}"), f"{faker} published on {topic}"
    finally:
        client.stop()
        server.stop()


def test_the_tests_site_wildcard_never_reaches_a_centres_acl(demo_site: Site, tmp_path: Path) -> None:
    from motcua_cli.credentials import acl_text

    centre = acl_text(demo_site)
    assert "motcua/v1/+" not in centre
    assert f"topic readwrite motcua/v1/{demo_site.site.id}/#" in centre
    tests = acl_text(demo_site, any_site=True)
    assert "topic readwrite motcua/v1/+/#" in tests and f"/{demo_site.site.id}/" not in tests
    out = tmp_path / "c"
    assert main(["site", "credentials", "--site", str(_site_file(tmp_path)), "--out", str(out)]) == 0
    assert "motcua/v1/+" not in (out / "mosquitto.acl").read_text()


def _site_file(tmp_path: Path) -> Path:
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        (Path(__file__).parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return site_file


def test_each_hall_screen_has_a_login_of_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two TVs in the hall under one login would knock each other off the broker: ``[display.hall]
    boards = 3`` gives ``hall-board``, ``hall-board-2`` and ``hall-board-3``, and ``motcua hall
    --board N`` logs in as the N-th; a screen the site does not have is refused before it connects."""
    text = (Path(__file__).parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    site_file = tmp_path / "site.toml"
    three = text.replace("[display.hall]\n", "[display.hall]\nboards = 3\n", 1)
    site_file.write_text(three, encoding="utf-8")
    out = tmp_path / "cred"
    assert main(["site", "credentials", "--site", str(site_file), "--out", str(out)]) == 0
    secrets = {p.stem for p in (out / "secrets").iterdir()}
    assert {"hall-board", "hall-board-2", "hall-board-3"} <= secrets and "hall-board-4" not in secrets
    users = (out / "mosquitto.passwd").read_text()
    assert "hall-board-3:" in users
    assert main(["hall", "--site", str(site_file), "--board", "4", "--no-voice"]) == 2
    assert "the site has 3 hall screen(s)" in capsys.readouterr().err
