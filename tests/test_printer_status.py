"""DLE EOT / GS r / ASB status codec: byte tables and Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from printer.errors import PrinterError, StatusReplyError
from printer.status import (
    HEALTHY_REPLIES,
    PaperState,
    PrinterStatus,
    check_reply,
    decode_paper_sensor,
    decode_status,
    encode_asb,
    encode_paper_sensor,
    encode_status,
    is_asb_header,
    is_paper_sensor_reply,
    is_status_reply,
    status_request,
)

HEALTHY = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}


def test_status_request_bytes() -> None:
    assert [status_request(n) for n in (1, 2, 3, 4)] == [
        b"\x10\x04\x01",
        b"\x10\x04\x02",
        b"\x10\x04\x03",
        b"\x10\x04\x04",
    ]
    with pytest.raises(ValueError, match=r"1\.\.4"):
        status_request(5)


def test_healthy_replies_decode_to_a_printer_that_can_print() -> None:
    status = decode_status(HEALTHY)
    assert status == PrinterStatus(paper=PaperState.OK)
    assert status.can_print
    assert status.problems == []
    assert status.describe_reply(4) == "DLE EOT 4 = 0x12"


@pytest.mark.parametrize(
    ("n", "reply", "expected"),
    [
        (1, 0x1E, {"offline": True}),
        (1, 0x12, {}),  # drawer pin low is not a problem
        (2, 0x16, {"cover_open": True}),
        (2, 0x32, {"paper": PaperState.OUT}),
        (3, 0x1A, {"cutter_error": True}),
        (3, 0x32, {"unrecoverable_error": True}),
        (3, 0x52, {"recoverable_error": True}),
        (4, 0x1E, {"paper": PaperState.NEAR_END}),
        (4, 0x72, {"paper": PaperState.OUT}),
        (4, 0x7E, {"paper": PaperState.OUT}),
    ],
)
def test_one_abnormal_reply(n: int, reply: int, expected: dict[str, object]) -> None:
    status = decode_status({**HEALTHY, n: reply})
    assert status == PrinterStatus(**{"paper": PaperState.OK, **expected})  # type: ignore[arg-type]
    assert status.reply(n) == reply


def test_problems_are_listed_most_actionable_first() -> None:
    status = decode_status({1: 0x1E, 2: 0x36, 3: 0x12, 4: 0x72})
    assert status.problems == ["paper out", "cover open"]
    assert not status.can_print


def test_offline_alone_is_a_problem() -> None:
    assert decode_status({**HEALTHY, 1: 0x1E}).problems == ["offline"]


def test_paper_unknown_without_reply_4() -> None:
    assert decode_status({1: 0x16, 2: 0x12}).paper is PaperState.UNKNOWN
    assert decode_status({2: 0x32}).paper is PaperState.OUT


@pytest.mark.parametrize("reply", [0x00, 0xFF, 0x10, 0x13, 0x92, 0x1D, 0x0A])
def test_replies_off_the_pattern_raise(reply: int) -> None:
    with pytest.raises(StatusReplyError, match="0xx1xx10b"):
        decode_status({**HEALTHY, 2: reply})


def test_status_reply_error_is_a_printer_error() -> None:
    with pytest.raises(PrinterError):
        check_reply(1, 0x00)


@given(st.integers(0, 255), st.sampled_from([1, 2, 3, 4]))
def test_any_byte_parses_or_raises_status_reply_error(byte: int, n: int) -> None:
    try:
        status = decode_status({n: byte})
    except StatusReplyError:
        assert not is_status_reply(byte)
    else:
        assert is_status_reply(byte)
        assert status.reply(n) == byte


@given(st.sampled_from([PaperState.OK, PaperState.NEAR_END, PaperState.OUT]), st.tuples(*[st.booleans()] * 7))
def test_encode_then_decode_round_trips(
    paper: PaperState, flags: tuple[bool, bool, bool, bool, bool, bool, bool]
) -> None:
    cover, offline, cutter, unrecoverable, recoverable, mechanical, unexplained = flags
    named = cutter or unrecoverable or recoverable or mechanical
    status = PrinterStatus(
        paper=paper,
        cover_open=cover,
        offline=offline,
        cutter_error=cutter,
        unrecoverable_error=unrecoverable,
        recoverable_error=recoverable,
        mechanical_error=mechanical,
        unexplained_error=unexplained and not named,  # a named cause explains DLE EOT 2 bit 6
    )
    assert decode_status({n: encode_status(status, n) for n in (1, 2, 3, 4)}) == status


def test_healthy_encoding_matches_the_manual() -> None:
    assert {n: encode_status(PrinterStatus(paper=PaperState.OK), n) for n in (1, 2, 3, 4)} == HEALTHY_REPLIES


@pytest.mark.parametrize(
    ("byte", "paper"),
    [(0x00, PaperState.OK), (0x03, PaperState.NEAR_END), (0x0C, PaperState.OUT), (0x0F, PaperState.OUT)],
)
def test_paper_sensor_reply(byte: int, paper: PaperState) -> None:
    assert decode_paper_sensor(byte) is paper


def test_paper_sensor_round_trip_and_bad_pattern() -> None:
    for paper in (PaperState.OK, PaperState.NEAR_END, PaperState.OUT):
        assert decode_paper_sensor(encode_paper_sensor(paper)) is paper
    with pytest.raises(StatusReplyError, match="GS r 1"):
        decode_paper_sensor(0x12)


@given(st.integers(0, 255))
def test_the_three_reply_kinds_never_overlap(byte: int) -> None:
    assert sum((is_status_reply(byte), is_asb_header(byte), is_paper_sensor_reply(byte))) <= 1


def test_asb_block_layout() -> None:
    assert encode_asb(PrinterStatus(paper=PaperState.OK)) == b"\x10\x00\x00\x00"
    block = encode_asb(PrinterStatus(paper=PaperState.OUT, cover_open=True, offline=True, cutter_error=True))
    assert block == b"\x38\x08\x0c\x00"
    assert is_asb_header(block[0])
    assert all(is_paper_sensor_reply(b) for b in block[1:])  # why a reader must skip whole blocks
