"""Byte links opened by URL: serial://, tcp://, usb://, sim://, loop:// (see ``transport.url``).

Drivers call :func:`open_transport` with the URL from the site file and talk to the
:class:`Transport` it returns; they never learn which kind of link carries their bytes.
"""

from transport.base import Transport, TransportClosedError, TransportError, TransportUrlError
from transport.scheme import TransportUrl
from transport.sim import SimDevice, SimLink, register_simulator, unregister_simulator
from transport.spy import SpyTransport, enable_wire_log
from transport.url import open_transport, parse_transport_url

__all__ = [
    "SimDevice",
    "SimLink",
    "SpyTransport",
    "Transport",
    "TransportClosedError",
    "TransportError",
    "TransportUrl",
    "TransportUrlError",
    "enable_wire_log",
    "open_transport",
    "parse_transport_url",
    "register_simulator",
    "unregister_simulator",
]
