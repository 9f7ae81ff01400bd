"""The MQTT topic tree every motcua process shares.

Grammar (root ``motcua/v1/{site}/``)::

    server/availability              retained, LWT        "online" | "offline"
    device/{id}/availability         retained, LWT        "online" | "offline"
    device/{id}/info                 retained             DeviceInfo
    device/{id}/status               retained             DeviceStatus
    device/{id}/evt                  QoS 1                DeviceEvent (device -> server)
    device/{id}/cmd                  QoS 1, expires_at    DeviceCommand (-> device)
    req/{verb}                       QoS 1                Request (client -> server)
    resp/{client}                    QoS 1                Response (server -> client)
    queue/{service}/state            retained             QueueState
    counter/{n}/state                retained             CounterState
    calls                            QoS 1, seq           CallEvent

Site ids, device ids, service codes and client ids are topic levels: letters, digits, ``-`` and
``_`` only, so that no wildcard or separator can slip in and no personal data ends up in a topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "motcua/v1"
ONLINE = "online"
OFFLINE = "offline"

LEVEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Site ids, device ids, service codes, verbs and client ids: one MQTT topic level each."""
_LEVEL = re.compile(LEVEL_PATTERN)


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it is a safe topic level, else raise ``ValueError`` naming ``what``."""
    if not _LEVEL.match(value):
        raise ValueError(
            f"{what} {value!r} cannot be an MQTT topic level: use 1-64 letters, digits, '-' or '_'"
        )
    return value


@dataclass(frozen=True)
class Topics:
    """Builds the topics of one site."""

    site: str

    def __post_init__(self) -> None:
        check_level(self.site, "site id")

    @property
    def prefix(self) -> str:
        return f"{ROOT}/{self.site}"

    def server_availability(self) -> str:
        return f"{self.prefix}/server/availability"

    def device(self, device_id: str, leaf: str) -> str:
        return f"{self.prefix}/device/{check_level(device_id, 'device id')}/{leaf}"

    def device_availability(self, device_id: str) -> str:
        return self.device(device_id, "availability")

    def device_info(self, device_id: str) -> str:
        return self.device(device_id, "info")

    def device_status(self, device_id: str) -> str:
        return self.device(device_id, "status")

    def device_evt(self, device_id: str) -> str:
        return self.device(device_id, "evt")

    def device_cmd(self, device_id: str) -> str:
        return self.device(device_id, "cmd")

    def all_device(self, leaf: str) -> str:
        """Filter matching ``leaf`` of every device, e.g. all events."""
        return f"{self.prefix}/device/+/{leaf}"

    def req(self, verb: str) -> str:
        return f"{self.prefix}/req/{check_level(verb, 'request verb')}"

    def all_req(self) -> str:
        return f"{self.prefix}/req/+"

    def resp(self, client_id: str) -> str:
        return f"{self.prefix}/resp/{check_level(client_id, 'client id')}"

    def queue_state(self, service: str) -> str:
        return f"{self.prefix}/queue/{check_level(service, 'service code')}/state"

    def all_queue_state(self) -> str:
        return f"{self.prefix}/queue/+/state"

    def counter_state(self, counter: int) -> str:
        return f"{self.prefix}/counter/{int(counter)}/state"

    def all_counter_state(self) -> str:
        return f"{self.prefix}/counter/+/state"

    def calls(self) -> str:
        return f"{self.prefix}/calls"

    def device_id_of(self, topic: str) -> str | None:
        """The device id in a ``device/{id}/...`` topic of this site, else ``None``."""
        parts = topic.split("/")
        base = self.prefix.split("/")
        if parts[: len(base)] != base or len(parts) != len(base) + 3 or parts[len(base)] != "device":
            return None
        return parts[len(base) + 1]

    def verb_of(self, topic: str) -> str | None:
        """The verb in a ``req/{verb}`` topic of this site, else ``None``."""
        head = f"{self.prefix}/req/"
        if not topic.startswith(head) or "/" in topic[len(head) :]:
            return None
        return topic[len(head) :]
