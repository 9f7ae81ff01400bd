"""Open any byte link from its URL, the way pyserial's ``serial_for_url`` does.

URL grammar::

    SCHEME://TARGET[?NAME=VALUE[&NAME=VALUE]...]

    serial:///dev/ttyUSB0?baudrate=9600&parity=E   a serial port          (transport.serialport)
    tcp://10.0.0.5:9100                            a TCP stream           (transport.tcp)
    usb://0416:5011?in_ep=0x81&out_ep=0x03         USB bulk endpoints     (transport.usbbulk)
    sim://printer-1                                an in-process simulator (transport.sim)
    loop://                                        writes come back       (transport.loop)

Every scheme also takes ``timeout=SECONDS``, the default read timeout (it overrides the
``timeout`` a caller passes to :func:`open_transport`, since the URL is the site's word on its own
link), and ``spy=1``, which wraps the link in a :class:`~transport.spy.SpyTransport`. Each
parameter is checked when the URL is parsed: a typo in a site file fails at start-up with a
``TransportUrlError`` quoting the URL, not at the first print. :func:`parse_transport_url` checks a
URL without opening anything.
"""

from __future__ import annotations

import logging
from urllib.parse import SplitResult, parse_qsl, urlsplit

from transport.base import DEFAULT_TIMEOUT, Transport, TransportUrlError
from transport.loop import SCHEME as LOOP
from transport.scheme import Param, ParamValue, Scheme, TransportUrl, flag, seconds
from transport.serialport import SCHEME as SERIAL
from transport.sim import SCHEME as SIM
from transport.spy import SpyTransport
from transport.tcp import SCHEME as TCP
from transport.usbbulk import SCHEME as USB

logger = logging.getLogger(__name__)

SCHEMES: dict[str, Scheme] = {scheme.name: scheme for scheme in (SERIAL, TCP, USB, SIM, LOOP)}
"""The registry: URL scheme name → how to parse and open it."""

COMMON_PARAMS: dict[str, Param] = {
    "timeout": Param(seconds, DEFAULT_TIMEOUT, "default read timeout in seconds"),
    "spy": Param(flag, False, "log hexdumps of the traffic to the motcua.wire logger"),
}

_SCHEME_HINTS = {
    "socket": "pyserial's socket:// is spelt tcp:// here",
    "spy": "spying is a parameter here: add ?spy=1 to the URL",
}


def register_scheme(scheme: Scheme) -> None:
    """Add or replace a scheme, for transports that live outside this package."""
    SCHEMES[scheme.name] = scheme


def parse_transport_url(url: str) -> TransportUrl:
    """Check ``url`` against its scheme without opening anything.

    Raises ``TransportUrlError`` (quoting the URL and naming the problem) for an unknown scheme, a
    missing or malformed target, an unknown or badly typed parameter, or a senseless combination.
    """
    parts = _split(url)
    scheme = _scheme_of(url, parts)
    try:
        target = scheme.parse_target(parts)
    except ValueError as err:
        raise TransportUrlError(url, f"{err}, expected {scheme.grammar}") from err
    if parts.fragment:
        raise TransportUrlError(url, f"unexpected '#{parts.fragment}'")
    params, extra = _params(url, parts.query, scheme)
    spy = bool(params.pop("spy", False))
    if scheme.check is not None:
        try:
            scheme.check(params)
        except ValueError as err:
            raise TransportUrlError(url, str(err)) from err
    return TransportUrl(scheme=scheme.name, target=target, params=params, url=url, spy=spy, extra=extra)


def open_transport(url: str, *, timeout: float | None = None) -> Transport:
    """Open the link ``url`` names; reads default to ``timeout`` unless the URL sets its own.

    Raises ``TransportUrlError`` for a URL that is wrong as written and ``TransportError`` for one
    that cannot be opened now (device missing, busy, refused).
    """
    parsed = parse_transport_url(url)
    default = DEFAULT_TIMEOUT if timeout is None else timeout
    read_timeout = float(parsed.params.get("timeout", default))
    logger.debug("opening %s", url)
    transport = SCHEMES[parsed.scheme].opener(parsed, read_timeout)
    return SpyTransport(transport) if parsed.spy else transport


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as err:
        raise TransportUrlError(url, f"not a URL ({err})") from err


def _scheme_of(url: str, parts: SplitResult) -> Scheme:
    known = ", ".join(f"{name}://" for name in sorted(SCHEMES))
    if not parts.scheme:
        hint = "; for a serial port write serial:///dev/..." if url.startswith("/dev/") else ""
        raise TransportUrlError(url, f"missing scheme, expected one of {known}{hint}")
    scheme = SCHEMES.get(parts.scheme)
    if scheme is None:
        hint = _SCHEME_HINTS.get(parts.scheme, f"expected one of {known}")
        raise TransportUrlError(url, f"unknown scheme {parts.scheme + '://'!r}; {hint}")
    return scheme


def _params(url: str, query: str, scheme: Scheme) -> tuple[dict[str, ParamValue], dict[str, str]]:
    """The query's parameters converted to their types; unknown, repeated or bad ones are errors,
    except in a scheme with ``free_params``, where unknown ones are returned apart, as text."""
    accepted = {**COMMON_PARAMS, **scheme.params}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as err:
        raise TransportUrlError(
            url, f"malformed query {query!r}: write NAME=VALUE pairs joined by &"
        ) from err
    values: dict[str, ParamValue] = {}
    extra: dict[str, str] = {}
    for name, text in pairs:
        param = accepted.get(name)
        if name in values or name in extra:
            raise TransportUrlError(url, f"parameter {name!r} given twice")
        if param is None and scheme.free_params:
            extra[name] = text
            continue
        if param is None:
            names = ", ".join(sorted(accepted))
            raise TransportUrlError(
                url, f"unknown parameter {name!r} for {scheme.name}:// (it takes {names})"
            )
        try:
            values[name] = param.parse(text)
        except ValueError as err:
            raise TransportUrlError(url, f"bad {name}={text!r}: {err}") from err
    return values, extra
