"""A thin MQTT client for motcua processes, on paho-mqtt 2.x.

It adds to paho what every process needs: availability as the Last Will and republished on every
(re)connect, subscriptions restored after a reconnect, reconnect with exponential backoff, QoS 1,
typed decoding with a warning (naming the topic) for malformed payloads, duplicate message ids
ignored, expired commands dropped, and request/response with a timeout.

Broker URL grammar: ``mqtt[s]://[USER@]HOST[:PORT][?protocol=5|311&keepalive=S&secret_file=PATH&ca_file=PATH]``
(``mqtts``: TLS, port 8883 by default, the broker's certificate verified against ``ca_file``);
the password is read from ``secret_file`` (one made by ``motcua site credentials``), else from the
environment variable ``MOTCUA_MQTT_PASSWORD`` (never from a file in the repo).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, TypeAdapter, ValidationError

from bus.errors import BusError, PayloadTooLargeError, TopicError
from bus.models import Envelope, Response
from bus.topics import OFFLINE, ONLINE, Topics, check_publish_topic

log = logging.getLogger(__name__)

T = TypeVar("T")
Handler = Callable[[str, Any], None]

_SEEN_IDS = 8192
MAX_PAYLOAD_BYTES = 256 * 1024
"""Largest message a motcua client sends or reads; the broker's ``message_size_limit`` matches it.

motcua's messages are small JSON documents (the largest, a print job, is a few kilobytes); scanned
documents travel over HTTP. Anything bigger is hostile or a bug: refused on publish, dropped on receipt.
"""

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "BrokerUrl",
    "BrokerUrlError",
    "BusClient",
    "BusError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "TopicError",
]


class BrokerUrlError(BusError, ValueError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"bad broker URL {url!r}: {problem}")


class RequestTimeoutError(BusError, TimeoutError):
    pass


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int = 1883
    username: str | None = None
    protocol: int = 5
    keepalive: int = 30
    secret_file: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    tls: bool = False
    ca_file: str | None = None
    secrets_dir: str | None = None  # no user name: log in as the client id, secret from {id}.secret here

    def login(self, client_id: str) -> tuple[str, str | None] | None:
        """User name and password for ``client_id``: the URL's user, else the client's own identity from
        ``secrets_dir`` (as ``motcua site credentials`` writes it), else anonymous (``None``)."""
        if self.username:
            return self.username, self.secret()
        if self.secrets_dir is None:
            return None
        path = Path(self.secrets_dir) / f"{client_id}.secret"
        try:
            return client_id, path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise BusError(
                f"no MQTT secret for {client_id} in {self.secrets_dir} ({err.strerror}): "
                "run `motcua site credentials` for this site"
            ) from err

    def as_client(self, username: str, password: str) -> BrokerUrl:
        """The same broker for another identity (each process connects with its own)."""
        return replace(self, username=username, password=password, secret_file=None)

    def secret(self) -> str | None:
        """The password: given in code, else read from ``secret_file``, else ``MOTCUA_MQTT_PASSWORD``."""
        if self.password is not None:
            return self.password
        if self.secret_file is not None:
            try:
                return Path(self.secret_file).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise BusError(
                    f"cannot read the MQTT secret file {self.secret_file}: {err.strerror}"
                ) from err
        return os.environ.get("MOTCUA_MQTT_PASSWORD")

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"}:
            raise BrokerUrlError(url, "scheme must be mqtt:// or mqtts:// (TLS)")
        tls = parts.scheme == "mqtts"
        if not parts.hostname:
            raise BrokerUrlError(url, "missing host, expected mqtt://HOST[:PORT]")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as err:
            raise BrokerUrlError(url, "port must be a number 1-65535") from err
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(query) - {"protocol", "keepalive", "secret_file", "ca_file", "secrets_dir"}
        if unknown:
            raise BrokerUrlError(url, f"unknown parameter(s) {', '.join(sorted(unknown))}")
        protocol = {"5": 5, "311": 311, "3.1.1": 311}.get(query.get("protocol", "5"))
        if protocol is None:
            raise BrokerUrlError(url, "protocol must be 5 or 311")
        keepalive = query.get("keepalive", "30")
        if not keepalive.isdigit() or int(keepalive) < 5:
            raise BrokerUrlError(url, "keepalive must be a whole number of seconds >= 5")
        if "ca_file" in query and not tls:
            raise BrokerUrlError(url, "ca_file needs mqtts://")
        return cls(
            parts.hostname,
            port,
            parts.username,
            protocol,
            int(keepalive),
            query.get("secret_file"),
            tls=tls,
            ca_file=query.get("ca_file"),
            secrets_dir=query.get("secrets_dir"),
        )

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        scheme = "mqtts" if self.tls else "mqtt"
        extra = "".join(
            f"&{k}={v}"
            for k, v in (
                ("secret_file", self.secret_file),
                ("ca_file", self.ca_file),
                ("secrets_dir", self.secrets_dir),
            )
            if v
        )
        return f"{scheme}://{user}{self.host}:{self.port}?protocol={self.protocol}{extra}"


@dataclass
class _Subscription:
    pattern: str
    handler: Handler
    adapter: TypeAdapter[Any] | None
    dedupe: bool


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    response: Response | None = None


def acknowledged(info: paho.MQTTMessageInfo) -> bool:
    """Whether the broker acknowledged this QoS 1 publish. One that failed when it was sent (no
    connection at that moment, paho's queue full) never will be in this session, and paho raises for
    it rather than answer: here it is simply not acknowledged."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False


class BusClient:
    """One MQTT connection of one process (or one component inside a process)."""

    def __init__(
        self,
        broker: str | BrokerUrl,
        site: str,
        client_id: str,
        *,
        availability_topic: str | None = None,
    ) -> None:
        self.broker = broker if isinstance(broker, BrokerUrl) else BrokerUrl.parse(broker)
        self.topics = Topics(site)
        self.client_id = client_id
        self.availability_topic = availability_topic
        self.connected = threading.Event()
        self.connect_count = 0
        self._subs: list[_Subscription] = []
        self._subs_lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._stopping = False
        self._connect_hooks: list[Callable[[], None]] = []
        self.subscribed = threading.Event()
        self._resubscribe_mid: int | None = None
        self._mqtt = self._make_client()

    def _make_client(self) -> paho.Client:
        v5 = self.broker.protocol == 5
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            clean_session=None if v5 else True,
        )
        login = self.broker.login(self.client_id)
        if login is not None:
            client.username_pw_set(*login)
        if self.broker.tls:
            # Verifies the broker's certificate and host name against the site's CA (or the system's).
            client.tls_set(ca_certs=self.broker.ca_file)
        if self.availability_topic:
            client.will_set(self.availability_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = _no_delay
        return client

    # --- life cycle ----------------------------------------------------------------------------

    def start(self, wait: float | None = 10.0) -> BusClient:
        """Connect in the background; with ``wait``, block until connected or raise ``BusError``."""
        self._mqtt.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        self._mqtt.loop_start()
        if wait is not None and not (self.connected.wait(wait) and self.subscribed.wait(wait)):
            self._mqtt.loop_stop()
            raise BusError(f"{self.client_id}: no connection to {self.broker} within {wait:.0f} s")
        return self

    def stop(self) -> None:
        """Say ``offline`` (a clean stop does not fire the Last Will), then disconnect."""
        self._stopping = True
        if self.availability_topic and self.connected.is_set():
            info = self._mqtt.publish(self.availability_topic, OFFLINE, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # gone meanwhile: the Last Will says it
                info.wait_for_publish(timeout=2.0)
        self._mqtt.disconnect()
        self._mqtt.loop_stop()
        # paho keeps a socket pair to wake its loop and closes it only when garbage-collected, which
        # pytest reports as an unclosed-socket ResourceWarning at the end of a run; close it now.
        reset = getattr(self._mqtt, "_reset_sockets", None)
        if reset is not None:
            reset()
        # A connection still in its TLS handshake (an untrusted broker) is left open by paho.
        close = getattr(self._mqtt, "_sock_close", None)
        if close is not None:
            close()
        self.connected.clear()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("%s: broker %s refused the connection: %s", self.client_id, self.broker, reason)
            return
        self.connect_count += 1
        with self._subs_lock:  # a concurrent subscribe() either lands in this list or sees connected
            patterns = sorted({s.pattern for s in self._subs})
            if patterns:
                _result, mid = client.subscribe([(p, 1) for p in patterns])
                self._resubscribe_mid = mid
            else:
                self.subscribed.set()
            self.connected.set()
        # "online" only after the SUBSCRIBE: the broker handles a client's packets in order, so whoever
        # reacts to it (a kiosk handing over its offline tickets) finds the subscriptions in place.
        if self.availability_topic:
            client.publish(self.availability_topic, ONLINE, qos=1, retain=True)
        log.info("%s: connected to %s (connection %d)", self.client_id, self.broker, self.connect_count)
        for hook in list(self._connect_hooks):
            try:
                hook()
            except Exception:
                log.exception("%s: a connect hook failed", self.client_id)

    def on_every_connect(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after each (re)connect, e.g. to republish retained state a broker lost."""
        self._connect_hooks.append(hook)

    def _on_subscribe(self, _c: paho.Client, _u: Any, mid: int, _codes: Any, _p: Any) -> None:
        if mid == self._resubscribe_mid:
            self.subscribed.set()

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stopping:
            log.warning("%s: lost the broker (%s); reconnecting with backoff", self.client_id, reason)

    # --- publishing ------------------------------------------------------------------------------

    def publish(self, topic: str, message: BaseModel | str, *, retain: bool = False) -> paho.MQTTMessageInfo:
        """Send ``message`` (QoS 1) to ``topic``.

        Raises ``TopicError`` for a topic no message may go to (wildcards, NUL, empty levels, too
        long) and ``PayloadTooLargeError`` over ``MAX_PAYLOAD_BYTES``, before anything is sent.
        """
        check_publish_topic(topic)
        if isinstance(message, Envelope):
            payload: bytes = message.to_json()
        elif isinstance(message, BaseModel):
            payload = message.model_dump_json(exclude_none=True).encode()
        else:
            payload = message.encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError(
                f"{self.client_id}: a {len(payload)}-byte message for {topic} is over "
                f"the {MAX_PAYLOAD_BYTES}-byte limit"
            )
        return self._mqtt.publish(topic, payload, qos=1, retain=retain)

    # --- subscribing -----------------------------------------------------------------------------

    def subscribe(
        self,
        pattern: str,
        handler: Handler,
        schema: TypeAdapter[Any] | type[BaseModel] | None = None,
        *,
        dedupe: bool = True,
    ) -> None:
        """Call ``handler(topic, message)`` for each message matching ``pattern``.

        With a ``schema`` the payload is decoded and validated first; ``None`` passes text through.
        ``dedupe=False`` lets repeated ids through (the server answers a retried request again).
        """
        adapter = TypeAdapter(schema) if isinstance(schema, type) else schema
        with self._subs_lock:
            self._subs.append(_Subscription(pattern, handler, adapter, dedupe))
            connected = self.connected.is_set()
        if connected:
            self._mqtt.subscribe(pattern, qos=1)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        if len(msg.payload) > MAX_PAYLOAD_BYTES:
            log.warning(
                "%s: dropped a %d-byte message on %s: over the %d-byte limit",
                self.client_id,
                len(msg.payload),
                msg.topic,
                MAX_PAYLOAD_BYTES,
            )
            return
        with self._subs_lock:
            subs = [s for s in self._subs if paho.topic_matches_sub(s.pattern, msg.topic)]
        decoded: dict[int, Any] = {}
        for sub in subs:
            key = id(sub.adapter)
            if key not in decoded:
                decoded[key] = self._decode(msg.topic, bytes(msg.payload), sub.adapter)
            message = decoded[key]
            if message is None or not self._fresh(msg.topic, message, sub.dedupe):
                continue
            try:
                sub.handler(msg.topic, message)
            except Exception:
                log.exception(
                    "%s: handler for %s failed on a message of %s", self.client_id, sub.pattern, msg.topic
                )
        envelopes = [d for d in decoded.values() if isinstance(d, Envelope)]
        if envelopes:
            self._remember(envelopes[0].id)

    def _decode(self, topic: str, payload: bytes, adapter: TypeAdapter[Any] | None) -> Any:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("ignored a message on %s: payload is not UTF-8 (%d bytes)", topic, len(payload))
            return None
        if adapter is None:
            return text
        try:
            return adapter.validate_json(text)
        except ValidationError as err:
            if _is_json_error(err):
                log.warning("ignored a message on %s: malformed JSON (%s)", topic, _first_error(err))
            else:
                log.warning("ignored a message on %s: %s", topic, _first_error(err))
            return None

    def _fresh(self, topic: str, message: Any, dedupe: bool) -> bool:
        if not isinstance(message, Envelope):
            return True
        if message.expired():
            log.info(
                "dropped an expired %s on %s (expired at %s)",
                message_kind(message),
                topic,
                message.expires_at,
            )
            return False
        if dedupe:
            with self._seen_lock:
                if message.id in self._seen:
                    log.debug("dropped duplicate message %s on %s", message.id, topic)
                    return False
        return True

    def _remember(self, message_id: str) -> None:
        with self._seen_lock:
            self._seen[message_id] = None
            while len(self._seen) > _SEEN_IDS:
                self._seen.popitem(last=False)

    # --- request / response ----------------------------------------------------------------------

    def enable_requests(self) -> None:
        """Subscribe to this client's ``resp`` topic; call before ``start`` to use ``request``."""
        # No dedupe: a retried request is answered again with the very same stored response.
        self.subscribe(self.topics.resp(self.client_id), self._on_response, Response, dedupe=False)

    def request(self, verb: str, message: Envelope, timeout: float = 5.0) -> Response:
        """Publish ``message`` on ``req/{client}/{verb}`` and wait for its response.

        Retrying after a timeout with the *same* message is safe: the server answers a repeated id
        with the response it already committed.
        """
        message = message.model_copy(update={"reply_to": self.topics.resp(self.client_id)})
        deadline = time.monotonic() + timeout
        # After a reconnect the broker knows our ``resp`` topic again only once the resubscription is
        # acknowledged; a request published before that (paho sends queued messages first) would be
        # answered to nobody. Wait for it, within the same timeout.
        if not self.subscribed.wait(timeout):
            raise RequestTimeoutError(
                f"{verb} request {message.id}: not connected to {self.broker} within {timeout} s"
            )
        pending = self._pending.setdefault(message.id, _Pending())
        self.publish(self.topics.req(self.client_id, verb), message)
        try:
            if not pending.done.wait(max(0.0, deadline - time.monotonic())):
                raise RequestTimeoutError(f"no answer to {verb} request {message.id} within {timeout} s")
            assert pending.response is not None
            return pending.response
        finally:
            self._pending.pop(message.id, None)

    def _on_response(self, _topic: str, response: Response) -> None:
        pending = self._pending.get(response.request_id)
        if pending is not None:
            pending.response = response
            pending.done.set()


def _no_delay(_client: paho.Client, _userdata: Any, sock: Any) -> None:
    """Send each small MQTT packet at once.

    With Nagle's algorithm on, a PUBACK followed by a PUBLISH waits for the peer's delayed ACK:
    ~40 ms per hop, measured as an 88 ms request/response round trip on loopback (bench/queue_day.py).
    """
    # Not a TCP socket (a unix socket or a websocket wrapper): nothing to do.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def message_kind(message: Any) -> str:
    return str(getattr(message, "kind", type(message).__name__))


def _is_json_error(err: ValidationError) -> bool:
    return any(e.get("type") == "json_invalid" for e in err.errors())


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
    return f"{where}: {first.get('msg')}"


def dumps(message: BaseModel) -> str:
    """Pretty JSON of a message, for logs and docs (never with personal data)."""
    return json.dumps(json.loads(message.model_dump_json(exclude_none=True)), ensure_ascii=False)
