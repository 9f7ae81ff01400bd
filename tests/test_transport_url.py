"""Transport URLs: what parses to what, and what each bad URL is told."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transport import (
    Transport,
    TransportError,
    TransportUrl,
    TransportUrlError,
    open_transport,
    parse_transport_url,
)
from transport.loop import LoopTransport
from transport.scheme import ParamValue
from transport.spy import SpyTransport

GOOD_URLS = [
    ("serial:///dev/ttyUSB0", "serial", "/dev/ttyUSB0", {}),
    (
        "serial:///dev/ttyUSB0?baudrate=9600&bytesize=8&parity=N&stopbits=1&xonxoff=0&rtscts=0&timeout=1.0",
        "serial",
        "/dev/ttyUSB0",
        {
            "baudrate": 9600,
            "bytesize": 8,
            "parity": "N",
            "stopbits": 1.0,
            "xonxoff": False,
            "rtscts": False,
            "timeout": 1.0,
        },
    ),
    (
        "serial:///dev/ttyS1?baudrate=19200&parity=e&stopbits=1.5&rs485=1&rts_level_for_tx=1"
        "&rts_level_for_rx=0&delay_before_tx=0.002&delay_before_rx=0.0",
        "serial",
        "/dev/ttyS1",
        {
            "baudrate": 19200,
            "parity": "E",
            "stopbits": 1.5,
            "rs485": True,
            "rts_level_for_tx": True,
            "rts_level_for_rx": False,
            "delay_before_tx": 0.002,
            "delay_before_rx": 0.0,
        },
    ),
    (
        "serial:///dev/serial/by-id/usb-1a86_USB_Serial-if00-port0",
        "serial",
        "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0",
        {},
    ),
    ("serial:///dev/my%20port", "serial", "/dev/my port", {}),
    ("tcp://10.0.0.5:9100", "tcp", "10.0.0.5:9100", {}),
    (
        "tcp://Printer.local:9100/?timeout=2&connect_timeout=0.5",
        "tcp",
        "printer.local:9100",
        {"timeout": 2.0, "connect_timeout": 0.5},
    ),
    ("tcp://[fe80::1]:9100", "tcp", "[fe80::1]:9100", {}),
    ("usb://0x0416:0x5011", "usb", "0416:5011", {}),
    (
        "usb://4b8:E03?interface=1&in_ep=0x82&out_ep=1&timeout=0.25",
        "usb",
        "04b8:0e03",
        {"interface": 1, "in_ep": 0x82, "out_ep": 0x01, "timeout": 0.25},
    ),
    ("sim://printer-1", "sim", "printer-1", {}),
    ("sim://Kiosk_2.scanner?timeout=0.1", "sim", "Kiosk_2.scanner", {"timeout": 0.1}),
    ("loop://", "loop", "", {}),
    ("loop://?timeout=0", "loop", "", {"timeout": 0.0}),
]


@pytest.mark.parametrize(("url", "scheme", "target", "params"), GOOD_URLS)
def test_good_urls_parse_to_scheme_target_and_typed_params(
    url: str, scheme: str, target: str, params: dict[str, ParamValue]
) -> None:
    parsed = parse_transport_url(url)
    assert parsed == TransportUrl(scheme=scheme, target=target, params=params, url=url)
    assert str(parsed) == url


BAD_URLS = [
    ("", "missing scheme"),
    ("/dev/ttyUSB0", "for a serial port write serial:///dev/"),
    ("ftp://host/file", "unknown scheme 'ftp://'"),
    ("socket://10.0.0.5:9100", "spelt tcp://"),
    ("tcp://printer", "missing port, expected tcp://HOST:PORT"),
    ("tcp://:9100", "missing host"),
    ("tcp://printer:http", "bad port"),
    ("tcp://printer:70000", "bad port"),
    ("tcp://printer:0", "bad port 0"),
    ("tcp://printer:9100/queue", "unexpected path '/queue'"),
    ("tcp://user:secret@printer:9100", "user names and passwords are not supported"),
    ("tcp://[::1:9100", "not a URL"),
    ("tcp://printer:9100?timeout=soon", "bad timeout='soon'"),
    ("tcp://printer:9100?timeout=-1", "seconds ≥ 0"),
    ("tcp://printer:9100?timeout=inf", "seconds ≥ 0"),
    ("tcp://printer:9100?baudrate=9600", "unknown parameter 'baudrate' for tcp://"),
    ("tcp://printer:9100?timeout", "malformed query"),
    ("tcp://printer:9100#frag", "unexpected '#frag'"),
    ("serial://", "missing device path, expected serial:///DEVICE-PATH"),
    ("serial://dev/ttyUSB0", "three slashes"),
    ("serial:///dev/ttyUSB0?baudrate=fast", "bad baudrate='fast': expected a whole number"),
    ("serial:///dev/ttyUSB0?baudrate=0", "bad baudrate='0'"),
    ("serial:///dev/ttyUSB0?bytesize=9", "bad bytesize='9'"),
    ("serial:///dev/ttyUSB0?parity=X", "bad parity='X': expected one of N, E, O, M, S"),
    ("serial:///dev/ttyUSB0?stopbits=3", "bad stopbits='3'"),
    ("serial:///dev/ttyUSB0?rtscts=maybe", "bad rtscts='maybe': expected 1 or 0"),
    ("serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200", "parameter 'baudrate' given twice"),
    ("serial:///dev/ttyUSB0?rts_level_for_tx=0", "rts_level_for_tx: only meaningful with rs485=1"),
    ("serial:///dev/ttyUSB0?baud=9600", "unknown parameter 'baud'"),
    ("usb://", "missing VID:PID"),
    ("usb://printer", "bad device id 'printer'"),
    ("usb://0416-5011", "bad device id"),
    ("usb://10416:5011", "bad device id"),
    ("usb://0416:5011?in_ep=0x01", "bad in_ep='0x01': expected a whole number from 0x81 to 0x8f"),
    ("usb://0416:5011?out_ep=0x81", "bad out_ep='0x81'"),
    ("usb://0416:5011?interface=-1", "bad interface='-1'"),
    ("usb://0416:5011/extra", "unexpected path"),
    ("sim://", "missing simulator name"),
    ("sim://bad name", "bad simulator name"),
    ("sim://printer-1/x", "unexpected path"),
    ("loop://somewhere", "unexpected 'somewhere' after loop://"),
    ("loop://?spy=please", "bad spy='please'"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_bad_urls_are_quoted_with_the_problem_named(url: str, problem: str) -> None:
    with pytest.raises(TransportUrlError) as caught:
        parse_transport_url(url)
    assert caught.value.url == url
    assert repr(url) in str(caught.value)
    assert problem in caught.value.problem


@pytest.mark.parametrize(("url", "problem"), BAD_URLS[:6])
def test_open_transport_rejects_bad_urls_before_opening_anything(url: str, problem: str) -> None:
    with pytest.raises(TransportUrlError, match="bad transport URL"):
        open_transport(url)


def test_url_errors_are_transport_errors_and_value_errors() -> None:
    with pytest.raises(TransportError):
        parse_transport_url("tcp://printer")
    with pytest.raises(ValueError, match="missing port"):
        parse_transport_url("tcp://printer")


def test_spy_is_stripped_from_the_params_the_scheme_sees() -> None:
    parsed = parse_transport_url("tcp://printer:9100?spy=1&timeout=2")
    assert parsed.spy is True
    assert dict(parsed.params) == {"timeout": 2.0}


def test_parsed_urls_are_hashable_despite_their_params_dict() -> None:
    assert len({parse_transport_url("loop://?timeout=1"), parse_transport_url("loop://?timeout=1")}) == 1


def test_url_timeout_overrides_the_callers_and_the_callers_overrides_the_default() -> None:
    with open_transport("loop://") as plain, open_transport("loop://", timeout=0.1) as caller:
        assert plain.timeout == 1.0
        assert caller.timeout == 0.1
    with open_transport("loop://?timeout=0.3", timeout=0.1) as site:
        assert site.timeout == 0.3


def test_open_transport_returns_the_schemes_transport_wrapped_by_spy_on_request() -> None:
    with open_transport("loop://") as plain, open_transport("loop://?spy=1") as spied:
        assert isinstance(plain, LoopTransport)
        assert isinstance(spied, SpyTransport)
        assert isinstance(spied.inner, LoopTransport)
        assert isinstance(spied, Transport)


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_transport_url_error(text: str) -> None:
    try:
        parsed = parse_transport_url(text)
    except TransportUrlError as err:
        assert err.url == text
    else:
        assert parsed.url == text


@given(
    st.sampled_from(["serial", "tcp", "usb", "sim", "loop"]),
    st.text(string.printable, max_size=40),
)
def test_any_text_after_a_known_scheme_parses_or_fails_with_a_transport_url_error(
    scheme: str, rest: str
) -> None:
    url = f"{scheme}://{rest}"
    try:
        parsed = parse_transport_url(url)
    except TransportUrlError as err:
        assert repr(url) in str(err)
    else:
        assert parsed.scheme == scheme


@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True),
    st.integers(1, 65535),
    st.floats(0, 3600, allow_nan=False),
)
def test_tcp_urls_round_trip_host_port_and_timeout(host: str, port: int, timeout: float) -> None:
    parsed = parse_transport_url(f"tcp://{host}:{port}?timeout={timeout!r}")
    assert parsed.target == f"{host}:{port}"
    assert parsed.params == {"timeout": timeout}


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.booleans())
def test_usb_ids_parse_with_or_without_0x(vendor: int, product: int, prefixed: bool) -> None:
    prefix = "0x" if prefixed else ""
    parsed = parse_transport_url(f"usb://{prefix}{vendor:x}:{prefix}{product:X}")
    assert parsed.target == f"{vendor:04x}:{product:04x}"
