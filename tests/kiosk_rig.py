"""A kiosk with everything real behind it: Mosquitto, the queue server on SQLite, the printer service
talking ESC/POS to its simulator, and the kiosk backend with its offline journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker_support import as_identity

from bus import models as m
from bus.client import BrokerUrl, BusClient
from firmware_sim.centre import SimulatedDevices
from kiosk.backend import KioskBackend
from kiosk.offline import OfflineJournal
from printer.service import PrinterService
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site


@dataclass
class KioskRig:
    site: Site
    broker: BrokerUrl
    tmp: Path
    with_server: bool = True
    journal: bool = True
    sims: SimulatedDevices = field(init=False)
    printer: PrinterService = field(init=False)
    backend: KioskBackend = field(init=False)
    server: QueueServer | None = None
    store: Store | None = None
    clients: list[BusClient] = field(default_factory=list)

    def __enter__(self) -> KioskRig:
        self.sims = SimulatedDevices(self.site, self.tmp / "printed")
        if self.with_server:
            self.store = Store.open(f"sqlite:///{self.tmp / 'server.db'}")
            self.server = QueueServer(self.site, self.store, self.broker).start()
        self.printer = PrinterService(self.site.site.id, self.site.device("printer-k1"), self.broker).start()
        journal = OfflineJournal(self.tmp / "journal.db") if self.journal else None
        self.backend = KioskBackend(self.site, "kiosk-1", self.broker, journal=journal).start()
        return self

    def client(self, name: str) -> BusClient:
        """Another MQTT client on the same site (a spy, or a stand-in for a server verb), logged in
        with the server's user: the broker's ACL lets it hear and answer every request."""
        client = BusClient(as_identity(self.broker, "queue-server"), self.site.site.id, name)
        self.clients.append(client)
        return client

    def printed_texts(self) -> list[str]:
        return list(self.sims.printers["printer-k1"].page_texts)

    def __exit__(self, *_: Any) -> None:
        for client in self.clients:
            client.stop()
        self.backend.stop()
        if self.backend.journal is not None:
            self.backend.journal.close()
        self.printer.stop()
        if self.server is not None:
            self.server.stop()
        if self.store is not None:
            self.store.close()
        self.sims.close()


def answer_with_error(client: BusClient, code: str, message: str) -> list[m.IssueTicket]:
    """Make ``client`` answer every ``issue_ticket`` with the refusal ``code`` (a server's answer
    the current queue server cannot give yet, e.g. ``outside_hours``); return the requests seen."""
    seen: list[m.IssueTicket] = []

    def answer(_topic: str, request: Any) -> None:
        seen.append(request)
        response = m.Response(request_id=request.id, ok=False, error=m.ErrorInfo(code=code, message=message))
        client.publish(request.reply_to, response)

    client.subscribe(client.topics.all_req("issue_ticket"), answer, m.request_adapter, dedupe=False)
    return seen
