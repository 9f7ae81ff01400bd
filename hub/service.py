"""The ``motcua hub serve`` process: the ingest and the dashboard side by side until SIGTERM."""

from __future__ import annotations

import logging

from hub.config import HubConfig
from hub.ingest import Ingest
from hub.store import HubStore

log = logging.getLogger(__name__)


def serve(config: HubConfig, store: HubStore, duration: float | None = None) -> int:
    """Create the tables if needed, follow every centre and serve the dashboard; returns the exit code."""
    from bus.process import StopSignal
    from hub.web import HttpServer, create_app

    stop = StopSignal()
    store.create()
    ingest = Ingest(config, store).start(wait=60)
    host, port = config.http.address()
    http = HttpServer(create_app(config, store), host, port).start()
    log.warning("hub of %s: dashboard on %s, %d centres", config.hub.province, http.url, len(config.centres))
    try:
        stop.wait(duration)
    finally:
        http.stop()
        ingest.stop()
    return 0
