"""Facility staff's view of every device: is it there (availability), and is it well (health).

Devices announce themselves on retained MQTT topics: ``availability`` (``online``, or ``offline``
from their Last Will) and ``status`` (``DeviceStatus``: health, paper, cover, errors). The registry
remembers the last of each per device id, from the bus thread, and lists every device of the site
file with it for ``GET /api/v1/devices`` and the dashboard (a device that said nothing is unknown).
It decides nothing and stores nothing: after a restart the broker's retained messages refill it.

A device's status is taken only from its own topic ``device/{id}/status`` (the id comes from the
topic, never from the payload, and the broker's ACL lets only that device publish there); messages
for ids the site file does not know are dropped, so a stray retained message cannot add a row.
"""

from __future__ import annotations

import threading
from datetime import datetime

from bus import models as m
from queue_server.views import DeviceView
from siteconf import Site


class DeviceRegistry:
    """The last availability and status each device published."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[bool, datetime]] = {}
        self._status: dict[str, m.DeviceStatus] = {}
        self._known = {device.id for device in site.devices}

    def availability(self, device_id: str, payload: str, at: datetime) -> None:
        """``device_id`` said ``payload`` (``online``; anything else is offline) at ``at``."""
        if device_id not in self._known:
            return
        with self._lock:
            self._seen[device_id] = (payload == "online", at)

    def status(self, device_id: str, status: m.DeviceStatus) -> None:
        """``status`` arrived on ``device/{device_id}/status``; unknown ids are ignored."""
        if device_id not in self._known:
            return
        with self._lock:
            self._status[device_id] = status

    def views(self) -> list[DeviceView]:
        """Every device of the site file with what it last said about itself (nothing: unknown)."""
        with self._lock:
            return [self._view(device.id, str(device.kind), device.counter) for device in self.site.devices]

    def _view(self, device_id: str, kind: str, counter: int | None) -> DeviceView:
        seen = self._seen.get(device_id)
        status = self._status.get(device_id)
        return DeviceView(
            id=device_id,
            kind=kind,
            counter=counter,
            online=seen[0] if seen else None,
            since=seen[1] if seen else None,
            health=str(status.health) if status else "unknown",
            paper=str(status.paper) if status and status.paper else None,
            cover_open=status.cover_open if status else None,
            errors=list(status.errors) if status else [],
            detail=status.detail if status else None,
        )
