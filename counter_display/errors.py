"""The one exception tree of ``counter_display``: LED counter displays and calling keypads.

Codecs raise :class:`FrameError` subclasses for bytes that are not a valid frame; drivers convert
transport failures into :class:`CounterLinkError` (``raise … from err``) and report devices that stay
silent or refuse a command with errors that name the transport URL and the device address.
"""

from __future__ import annotations


class CounterDeviceError(Exception):
    """Base of every error raised by ``counter_display``."""


class FrameError(CounterDeviceError, ValueError):
    """Bytes that do not form a valid frame of the protocol a codec speaks."""


class CounterLinkError(CounterDeviceError):
    """The byte link to a counter device failed or was closed; the message names its URL."""


class DisplayTimeoutError(CounterDeviceError):
    """An LED display did not give a valid reply, even after the configured retries."""

    def __init__(self, url: str, unit: int, action: str, attempts: int, reply_timeout: float) -> None:
        super().__init__(
            f"LED display unit {unit} on {url} did not answer {action} after {attempts} attempt(s) "
            f"of {reply_timeout:.2f} s each; check power, RS-485 wiring (A/B), the unit id and the baud rate"
        )
        self.url = url
        self.unit = unit
        self.action = action
        self.attempts = attempts


class DisplayRejectedError(CounterDeviceError):
    """An LED display answered with a Modbus exception response: it understood and refused."""

    def __init__(self, url: str, unit: int, action: str, code: int, meaning: str) -> None:
        super().__init__(
            f"LED display unit {unit} on {url} refused {action}: Modbus exception {code:02X} ({meaning}); "
            "check the register map and the value range this display model supports"
        )
        self.url = url
        self.unit = unit
        self.action = action
        self.code = code
