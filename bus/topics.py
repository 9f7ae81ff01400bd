"""The MQTT topic tree every motcua process shares.

Grammar (root ``motcua/v1/{site}/``)::

    server/availability              retained, LWT        "online" | "offline"
    device/{id}/availability         retained, LWT        "online" | "offline"
    device/{id}/info                 retained             DeviceInfo
    device/{id}/status               retained             DeviceStatus
    device/{id}/evt                  QoS 1                DeviceEvent (device -> server)
    device/{id}/cmd                  QoS 1, expires_at    DeviceCommand (-> device)
    req/{client}/{verb}              QoS 1                Request (client -> server)
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

from bus.errors import TopicError

__all__ = ["TopicError", "Topics", "check_level", "check_publish_topic"]

ROOT = "motcua/v1"
ONLINE = "online"
OFFLINE = "offline"

LEVEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Site ids, device ids, service codes, verbs and client ids: one MQTT topic level each."""
_LEVEL = re.compile(LEVEL_PATTERN)


MAX_TOPIC_BYTES = 512
"""Longest topic motcua publishes to (MQTT allows 65535; ours are far shorter, so longer is hostile)."""


def check_level(value: str, what: str) -> str:
    """Return ``value`` if it is a safe topic level, else raise ``ValueError`` naming ``what``."""
    if not _LEVEL.match(value):
        raise TopicError(
            f"{what} {value!r} cannot be an MQTT topic level: use 1-64 letters, digits, '-' or '_'"
        )
    return value


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_TOPIC = re.compile("[#+\x00-\x1f\x7f-\x9f\ud800-\udfff]|//|^/|/$")


def check_publish_topic(topic: str) -> str:
    """Return ``topic`` if a message may be published to it, else raise ``TopicError`` saying why.

    Refused: empty, wildcards (``#``, ``+``), NUL or other control characters, empty levels (``//``,
    a leading or trailing ``/``) and topics over ``MAX_TOPIC_BYTES``; the broker would drop the
    connection for some of these (a NUL is a malformed packet), so they never reach it.
    """
    if not isinstance(topic, str) or not topic:
        raise TopicError("empty topic")
    if len(topic.encode("utf-8", "surrogatepass")) > MAX_TOPIC_BYTES:
        raise TopicError(f"topic of {len(topic)} characters is over the {MAX_TOPIC_BYTES}-byte limit")
    if _BAD_TOPIC.search(topic) is None:
        return topic  # the common case: one regular-expression scan
    if "#" in topic or "+" in topic:
        raise TopicError(f"topic {_shown(topic)} contains a wildcard (# or +)")
    if _CONTROL.search(topic):
        raise TopicError(f"topic {_shown(topic)} contains a control character or a lone surrogate")
    raise TopicError(f"topic {_shown(topic)} has an empty level")


def _shown(topic: str) -> str:
    """The topic for a message or a log line: escaped and cut, so hostile input stays readable."""
    text = repr(topic)
    return text if len(text) <= 120 else text[:117] + "..."


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

    def req(self, client_id: str, verb: str) -> str:
        """Where ``client_id`` sends a ``verb`` request: the broker's ACL lets only that client write
        here, so the server knows who asks from the topic alone."""
        client = check_level(client_id, "client id")
        return f"{self.prefix}/req/{client}/{check_level(verb, 'request verb')}"

    def all_req(self, verb: str | None = None) -> str:
        """Filter matching every client's requests (of one ``verb``, or all)."""
        return f"{self.prefix}/req/+/{'+' if verb is None else check_level(verb, 'request verb')}"

    def resp(self, client_id: str) -> str:
        return f"{self.prefix}/resp/{check_level(client_id, 'client id')}"

    def check_reply_to(self, reply_to: str) -> str:
        """The client id of a ``reply_to`` that is exactly this site's ``resp/{client}``.

        Raises ``TopicError`` for anything else: a wildcard, NUL, several levels, another site's
        prefix or a level that is not a client id. Checked before a request is queued, so a hostile
        ``reply_to`` is refused at the door instead of failing later inside the worker.
        """
        head = f"{self.prefix}/resp/"
        if not isinstance(reply_to, str) or not reply_to.startswith(head):
            raise TopicError(f"reply_to {_shown(str(reply_to))} is not this site's {head}{{client}}")
        return check_level(reply_to[len(head) :], "reply_to client id")

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

    def request_of(self, topic: str) -> tuple[str, str] | None:
        """``(client id, verb)`` of a ``req/{client}/{verb}`` topic of this site, else ``None``."""
        head = f"{self.prefix}/req/"
        if not topic.startswith(head):
            return None
        levels = topic[len(head) :].split("/")
        if len(levels) != 2 or not all(_LEVEL.match(level) for level in levels):
            return None
        return levels[0], levels[1]
