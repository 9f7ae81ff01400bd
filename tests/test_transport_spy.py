"""The spy wrapper: hexdumps on the motcua.wire logger only, and only when turned on."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from transport import SpyTransport, enable_wire_log, open_transport
from transport.loop import LoopTransport
from transport.spy import disable_wire_log, hexdump, wire_log


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def wire(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog listening on motcua.wire itself: the logger does not propagate to caplog's root handler."""
    wire_log.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        wire_log.removeHandler(caplog.handler)


@pytest.fixture
def root_records() -> Iterator[list[logging.LogRecord]]:
    handler = _ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


def test_wire_logger_is_off_and_separate_by_default() -> None:
    assert wire_log.name == "motcua.wire"
    assert wire_log.propagate is False
    assert wire_log.level == logging.WARNING


def test_hexdump_shows_offset_hex_and_printable_ascii() -> None:
    assert hexdump(b"\x1b@Hi\n") == "  0000  1b 40 48 69 0a" + " " * 33 + "  .@Hi."
    lines = hexdump(bytes(range(0x40, 0x54))).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("  0000  40 41 42")
    assert lines[0].endswith("@ABCDEFGHIJKLMNO")
    assert lines[1].startswith("  0010  50 51 52 53")
    assert lines[1].endswith("PQRS")


def test_spy_logs_nothing_while_the_wire_log_is_off(wire: pytest.LogCaptureFixture) -> None:
    with open_transport("loop://?spy=1") as link:
        link.write(b"\x1b@")
        assert link.read(2) == b"\x1b@"
    assert wire.records == []


def test_spy_dumps_both_directions_when_enabled(
    wire: pytest.LogCaptureFixture, root_records: list[logging.LogRecord]
) -> None:
    wire.set_level(logging.DEBUG, logger="motcua.wire")
    with open_transport("loop://?spy=1&timeout=0.05") as link:
        link.write(b"\x1b@Hi\n")
        assert link.read_exactly(5) == b"\x1b@Hi\n"
        assert link.read(1) == b""
    dumps = [record.getMessage() for record in wire.records if "bytes" in record.getMessage()]
    assert dumps == [
        "loop://?spy=1&timeout=0.05 TX 5 bytes\n" + hexdump(b"\x1b@Hi\n"),
        "loop://?spy=1&timeout=0.05 RX 5 bytes\n" + hexdump(b"\x1b@Hi\n"),
    ]
    assert all(record.name == "motcua.wire" for record in wire.records)
    assert not [record for record in root_records if record.name == "motcua.wire"]


def test_wrapping_by_hand_spies_on_any_transport(wire: pytest.LogCaptureFixture) -> None:
    wire.set_level(logging.DEBUG, logger="motcua.wire")
    inner = LoopTransport(timeout=0.05)
    spy = SpyTransport(inner)
    spy.write(b"\x10\x04\x01")
    assert spy.read(3) == b"\x10\x04\x01"
    spy.reset_input()
    spy.timeout = 0.2
    assert inner.timeout == 0.2
    spy.close()
    assert inner.closed
    assert spy.closed
    messages = [record.getMessage() for record in wire.records]
    assert messages[0].startswith("loop:// TX 3 bytes\n  0000  10 04 01")
    assert messages[1].startswith("loop:// RX 3 bytes")
    assert messages[2:] == ["loop:// input reset", "loop:// closed"]


def test_enable_wire_log_turns_dumps_on_and_disable_turns_them_off() -> None:
    handler = enable_wire_log(_ListHandler())
    assert isinstance(handler, _ListHandler)
    try:
        with open_transport("loop://?spy=1") as link:
            link.write(b"A")
        assert [record.getMessage().splitlines()[0] for record in handler.records] == [
            "loop://?spy=1 TX 1 bytes",
            "loop://?spy=1 closed",
        ]
    finally:
        disable_wire_log(handler)
    assert wire_log.level == logging.WARNING
    assert handler not in wire_log.handlers
