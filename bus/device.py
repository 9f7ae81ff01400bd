"""What every device service shares: one MQTT connection with the device's availability as Last
Will, its retained ``info``, its ``status`` republished on change, its ``evt`` out and ``cmd`` in.

A device service owns exactly one physical device; the hardware side (driver, transport) lives in
the device's own package and is composed in, never subclassed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.topics import Topics

log = logging.getLogger(__name__)


class DeviceLink:
    """The bus side of one device service."""

    def __init__(self, broker: str | BrokerUrl, site: str, device_id: str, info: m.DeviceInfo) -> None:
        self.device_id = device_id
        topics = Topics(site)
        self.bus = BusClient(
            broker, site, device_id, availability_topic=topics.device_availability(device_id)
        )
        self.topics = topics
        self.bus.on_every_connect(self._republish)
        self.info = info
        self._status: m.DeviceStatus | None = None
        self._status_lock = threading.Lock()

    def on_command(self, handler: Callable[[Any], None]) -> None:
        """Receive this device's commands; expired and repeated ones are dropped by the client."""
        self.bus.subscribe(
            self.topics.device_cmd(self.device_id), lambda _t, cmd: handler(cmd), m.device_command_adapter
        )

    def start(self, wait: float = 10.0) -> None:
        self.bus.start(wait)

    def _republish(self) -> None:
        """After every connect: the broker may have restarted and lost what was retained."""
        self.bus.publish(self.topics.device_info(self.device_id), self.info, retain=True)
        with self._status_lock:
            status = self._status
        if status is not None:
            self.bus.publish(self.topics.device_status(self.device_id), status, retain=True)

    def stop(self) -> None:
        self.bus.stop()

    def emit(self, event: m.Envelope) -> None:
        self.bus.publish(self.topics.device_evt(self.device_id), event)

    def set_status(self, status: m.DeviceStatus) -> bool:
        """Publish ``status`` (retained) if it differs from the last one; return whether it did."""
        with self._status_lock:
            previous = self._status
            same = previous is not None and _health_fields(previous) == _health_fields(status)
            if same:
                return False
            self._status = status
        log.info("device %s status: %s", self.device_id, status.detail or status.health)
        self.bus.publish(self.topics.device_status(self.device_id), status, retain=True)
        return True


def _health_fields(status: m.DeviceStatus) -> dict[str, Any]:
    return status.model_dump(exclude={"id", "ts", "expires_at", "reply_to", "seq"})
