"""``GET /metrics`` for the IT team's Prometheus, and the device incident history for the dashboard.

The metrics are read when scraped (a collector over the server's read models), so serving them adds
nothing to the queue worker's path:

- ``motcua_tickets_issued_today{service}``, ``motcua_tickets_served_today{service}``: this business
  day's tickets (served: finished at a counter), gauges that restart at 0 each day;
- ``motcua_waiting{service}``: tickets waiting now; ``motcua_counters_open``: counters open now;
- ``motcua_device_up{device,kind}``: 1 connected, 0 not (unknown devices are left out);
  ``motcua_device_health{device,kind,health}``: 1 for the device's current health;
  ``motcua_device_open_incidents{device}``; ``motcua_printer_paper_left_ratio{device}``;
- ``motcua_alerts_total{channel,outcome}``: e-mails and webhook calls sent or failed.

Access: a bearer API key with the ``metrics`` scope (``motcua apikey add prometheus --scope
metrics``), which gives nothing else; the numbers carry no personal data, but they tell an outsider
when a centre is busy and which device is down, so they are not public. docs/security.md says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Protocol

from fastapi import APIRouter, Header, HTTPException, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from queue_server.device_texts import HEALTH_VI
from queue_server.incidents import IncidentView
from queue_server.views import CounterView, DeviceView, QueueView

METRICS_SCOPE = "metrics"


class MetricSource(Protocol):
    def queue_views(self) -> list[QueueView]: ...
    def counter_views(self) -> list[CounterView]: ...
    def device_views(self) -> list[DeviceView]: ...
    def tickets_today(self) -> dict[str, tuple[int, int]]: ...
    def alerts_sent(self) -> dict[tuple[str, str], int]: ...
    def device_incidents(self, device_id: str | None = None, limit: int = 200) -> list[IncidentView]: ...


class ServerCollector(Collector):
    """The queue server's numbers, read at each scrape."""

    def __init__(self, source: MetricSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self._tickets()
        yield from self._devices(self.source.device_views())
        alerts = CounterMetricFamily(
            "motcua_alerts", "Alert e-mails and webhook calls", labels=["channel", "outcome"]
        )
        for (channel, outcome), count in sorted(self.source.alerts_sent().items()):
            alerts.add_metric([channel, outcome], count)
        yield alerts

    def _tickets(self) -> Iterator[Metric]:
        issued = GaugeMetricFamily(
            "motcua_tickets_issued_today", "Tickets issued this business day", labels=["service"]
        )
        served = GaugeMetricFamily(
            "motcua_tickets_served_today", "Tickets served this business day", labels=["service"]
        )
        for service, (n_issued, n_served) in sorted(self.source.tickets_today().items()):
            issued.add_metric([service], n_issued)
            served.add_metric([service], n_served)
        waiting = GaugeMetricFamily("motcua_waiting", "Tickets waiting now", labels=["service"])
        for queue in self.source.queue_views():
            waiting.add_metric([queue.service], queue.waiting)
        open_now = sum(1 for c in self.source.counter_views() if c.status == "open")
        yield from (
            issued,
            served,
            waiting,
            GaugeMetricFamily("motcua_counters_open", "Counters open now", open_now),
        )

    def _devices(self, devices: Iterable[DeviceView]) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "motcua_device_up", "1 when the device is connected", labels=["device", "kind"]
        )
        health = GaugeMetricFamily(
            "motcua_device_health", "1 for the device's current health", labels=["device", "kind", "health"]
        )
        incidents = GaugeMetricFamily("motcua_device_open_incidents", "Open incidents", labels=["device"])
        paper = GaugeMetricFamily(
            "motcua_printer_paper_left_ratio", "Paper left on the roll", labels=["device"]
        )
        for d in devices:
            if d.online is not None:
                up.add_metric([d.id, d.kind], 1.0 if d.online and d.health != "offline" else 0.0)
            for state in HEALTH_VI:
                health.add_metric([d.id, d.kind, state], 1.0 if d.health == state else 0.0)
            incidents.add_metric([d.id], len(d.problems_vi))
            if d.paper_left_pct is not None:
                paper.add_metric([d.id], d.paper_left_pct / 100)
        yield from (up, health, incidents, paper)


def device_routes(source: MetricSource, require: Callable[[str, str | None], object]) -> APIRouter:
    """``/metrics`` (``metrics`` scope) and ``/api/v1/device-incidents`` (staff dashboard)."""
    router = APIRouter()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(source))

    @router.get("/metrics", include_in_schema=False)
    def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
        require(METRICS_SCOPE, authorization)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/api/v1/device-incidents", response_model=list[IncidentView], tags=["devices"])
    def incidents(
        device: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[IncidentView]:
        """The latest incidents of every device (or of ``device``), newest first, with their durations."""
        if device is not None and device not in {d.id for d in source.device_views()}:
            raise HTTPException(404, f"no device {device!r} in the site file")
        return source.device_incidents(device, limit)

    return router
