"""The tests' shared Mosquitto, secured as a centre's: anonymous access off, the users, secrets and ACL
made by ``motcua site credentials`` (``write_credentials``) from the demo site.

Tests use a fresh site id each (``t1``, ``t2``, …) on this one broker, so the ACL is written with
``any_site=True``: the site level of every rule is ``+``, the rules are otherwise those a centre gets.
Every client logs in as its own id with the secret from ``secrets/{id}.secret`` (``BrokerUrl``'s
``secrets_dir``), so ``BusClient(mosquitto, site, "kiosk-1")`` is kiosk 1, with kiosk 1's rights.

An id the credentials do not know yet (a new test's observer, say) is added on its first login with
the rights every client of a centre has and nothing more (its own requests and answers, its own
device topics, the public state); the broker rereads its files (``SIGHUP``) before the client
connects. A test that needs more must connect as the identity that has it (``queue-server``, a
device of the demo site, ``supervisor-*``...).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from support import wait_until

from bus.broker import EmbeddedBroker
from bus.client import BrokerUrl, BusError
from bus.topics import TopicError, check_level
from motcua_cli.credentials import write_credentials
from siteconf import Site

log = logging.getLogger(__name__)

TEST_CLIENTS = (
    # supervisors' consoles the tests drive (every request, on every counter)
    "supervisor-services",
    "supervisor-e2e",
    "supervisor-scenario",
    # a second hall board, asking calls_since
    "hall-board-2",
    # ids that are no client of the site: the server must refuse them
    "intruder",
    "no-such-keypad",
    # readers of what every client may read (calls, states, server availability)
    "watcher",
    "crash-watcher",
    "probe",
    "vandal",
)
"""Ids the tests connect with beside the demo site's identities (``queue-server``, its devices,
``console-N``, ``supervisor-1``, ``hub-shipper``); each gets only the rights its id gives."""


@dataclass(frozen=True)
class ProvisioningUrl(BrokerUrl):
    """The test broker's URL: a client whose id has no secret yet gets one (``SharedBroker.provision``)."""

    provision: Callable[[str], None] | None = field(default=None, repr=False, compare=False)

    def login(self, client_id: str) -> tuple[str, str | None] | None:
        if self.username is None and self.secrets_dir is not None and self.provision is not None:
            self.provision(client_id)
        return super().login(client_id)


class SharedBroker:
    """A Mosquitto with the generated users and ACL, for every site id the tests make up."""

    def __init__(self, site: Site, out: Path) -> None:
        self.site = site
        self.out = out
        self.clients = list(TEST_CLIENTS)
        self.secrets = write_credentials(site, out, extra=tuple(self.clients), any_site=True)
        self.broker = EmbeddedBroker(
            port=0, engine="mosquitto", auth=(out / "mosquitto.passwd", out / "mosquitto.acl")
        )
        self._lock = threading.Lock()
        self.added: list[str] = []

    def start(self) -> ProvisioningUrl:
        url = self.broker.start()
        return ProvisioningUrl(
            url.host,
            url.port,
            protocol=url.protocol,
            secrets_dir=str(self.out / "secrets"),
            provision=self.provision,
        )

    def stop(self) -> None:
        self.broker.stop()
        if self.added:
            log.info("ids given the common rights on first login: %s", ", ".join(self.added))

    def provision(self, client_id: str) -> None:
        """Give ``client_id`` a secret and the rights every client has, if it has none yet."""
        try:
            check_level(client_id, "client id")
        except TopicError:
            return  # not an id a broker user can have: the login fails as for a stranger
        with self._lock:
            if client_id in self.secrets:
                return
            self.clients.append(client_id)
            self.secrets = write_credentials(self.site, self.out, extra=tuple(self.clients), any_site=True)
            self.added.append(client_id)
            self.broker.reload()
            url = self.broker.url
            if not wait_until(lambda: admitted(url, client_id, self.secrets[client_id])):
                raise BusError(f"the test broker did not take the new user {client_id}")


def admitted(url: BrokerUrl, user: str, secret: str) -> bool:
    """Does the broker let ``user`` in with ``secret``? (one MQTT CONNECT, answered or not in 2 s)"""
    probe = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-login-probe", protocol=paho.MQTTv5)
    probe.username_pw_set(user, secret)
    answers: list[bool] = []
    probe.on_connect = lambda _c, _u, _f, reason, _p: answers.append(not reason.is_failure)
    try:
        probe.connect(url.host, url.port)
        for _ in range(20):
            probe.loop(timeout=0.1)
            if answers:
                break
        probe.disconnect()
    finally:
        probe._reset_sockets()
    return answers == [True]


def anonymous(url: BrokerUrl) -> BrokerUrl:
    """The same broker, for a client that names no user (and so has no secret)."""
    return replace(BrokerUrl(url.host, url.port, protocol=url.protocol), username=None)


def as_identity(url: BrokerUrl, identity: str) -> BrokerUrl:
    """The same broker, logged in as ``identity`` whatever the client's own id: a test's observer
    that must hear what only the server may (``as_identity(mosquitto, "queue-server")``) connects
    with the server's user and rights under a client id of its own, beside the real server."""
    login = url.login(identity)
    if login is None or login[1] is None:
        raise BusError(f"no secret for {identity} on {url}")
    return BrokerUrl(url.host, url.port, protocol=url.protocol).as_client(login[0], login[1])
