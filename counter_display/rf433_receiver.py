"""Driver and device service of a 433 MHz EV1527 receiver module on a serial line.

:class:`Ev1527Receiver` reads the line (any transport URL), decodes frames with the ``rf433``
codec, merges repeats and keeps only remotes bound in the site file's ``[[display.remotes]]``:
a remote nobody bound (a neighbour's doorbell, another counter's remote heard through the wall) is
counted and ignored. Each press becomes a ``bus.models.Key`` through the remote's key map.

:class:`Rf433KeypadService` owns one receiver that stands for one counter's keypad (a ``keypad``
device of the site file listed in ``display.rf433_receivers``); it publishes the same
``key_pressed`` events a caller-bus keypad does, so the server treats both alike.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from counter_display.errors import CounterDeviceError, CounterLinkError
from counter_display.rf433 import Ev1527Decoder, RemoteCode, RepeatFilter
from device_service.base import PolledDeviceService
from siteconf.display import Remote
from siteconf.model import Device
from transport import open_transport
from transport.base import Transport, TransportError

log = logging.getLogger(__name__)

KEY_PRESS_TTL_S = 10.0
RETRY_S = 1.0


@dataclass(frozen=True)
class RemotePress:
    """Button ``key`` of the remote ``remote_id``, bound to ``counter``."""

    remote_id: int
    counter: int
    key: m.Key


class Ev1527Receiver:
    """A receiver module on ``transport`` that accepts only ``remotes``."""

    def __init__(self, transport: Transport, remotes: list[Remote], hold_s: float = 0.3) -> None:
        self.transport = transport
        self.remotes = {r.id: r for r in remotes}
        self._decoder = Ev1527Decoder()
        self._repeats = RepeatFilter(hold_s)
        self.unknown_remotes = 0
        self.unmapped_keys = 0

    def __repr__(self) -> str:
        return f"<Ev1527Receiver on {self.transport.url}: {len(self.remotes)} remote(s)>"

    @property
    def rejected_bytes(self) -> int:
        return self._decoder.rejected_bytes

    @property
    def repeats(self) -> int:
        return self._repeats.repeats

    def poll(self, timeout: float = 0.1) -> list[RemotePress]:
        """Wait up to ``timeout`` for bytes; return the new presses of bound remotes."""
        try:
            data = self.transport.read(4096, timeout=timeout)
        except TransportError as err:
            raise CounterLinkError(
                f"cannot read the 433 MHz receiver on {self.transport.url}: {err}; "
                "check the receiver is plugged in and the URL is right"
            ) from err
        if not data:
            if self._decoder.pending:
                self._decoder.resync()  # a frame cut short by silence is noise
            return []
        now = time.monotonic()
        return [p for code in self._decoder.feed(data) if (p := self._press(code, now)) is not None]

    def _press(self, code: RemoteCode, now: float) -> RemotePress | None:
        if not self._repeats.new_press(code, now):
            return None
        remote = self.remotes.get(code.id)
        if remote is None:
            self.unknown_remotes += 1
            log.debug("433 MHz: %s is not bound to any counter; ignored", code)
            return None
        key = remote.keys.get(code.key)
        if key is None:
            self.unmapped_keys += 1
            log.info("433 MHz: %s has no key assigned; ignored", code)
            return None
        return RemotePress(code.id, remote.counter, key)


class Rf433KeypadService(PolledDeviceService[RemotePress]):
    """Owns one receiver standing for ``device``'s counter; presses become ``key_pressed`` events.

    A failing receiver line is reported ERROR once, closed and reopened every ``RETRY_S`` until a
    poll works (``device_service.base.PolledDeviceService``).
    """

    retry_first_s = RETRY_S
    retry_max_s = RETRY_S
    line_errors = (CounterDeviceError, TransportError)

    def __init__(
        self,
        site_id: str,
        device: Device,
        broker: str | BrokerUrl,
        remotes: list[Remote],
        poll_s: float = 0.1,
    ) -> None:
        assert device.url is not None and device.counter is not None
        self.device = device
        self._url: str = device.url
        self._remotes = [r for r in remotes if r.counter == device.counter]
        self.receiver = Ev1527Receiver(open_transport(device.url), self._remotes)
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.KEYPAD,
            model="433 MHz EV1527 receiver",
            transport=device.url.split(":", 1)[0],
            capabilities=["ev1527"],
            counter=device.counter,
        )
        super().__init__(device.id, DeviceLink(broker, site_id, device.id, info))
        self.poll_s = poll_s
        self.presses = 0

    def _poll(self) -> list[RemotePress]:
        if self.receiver.transport.closed:
            self.receiver = Ev1527Receiver(open_transport(self._url), self._remotes)
        return self.receiver.poll(self.poll_s)

    def _close_line(self) -> None:
        self.receiver.transport.close()

    def _publish(self, press: RemotePress) -> None:
        self.presses += 1
        expires = m.expires_in(KEY_PRESS_TTL_S)
        self.link.emit(m.KeyPressed(key=press.key, expires_at=expires))
