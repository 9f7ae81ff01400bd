"""Demultiplexing what a printer sends: DLE EOT replies, ASB blocks, GS r replies and noise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from printer.errors import StatusReplyError
from printer.status import (
    PaperState,
    PrinterStatus,
    Reply,
    ReplyKind,
    StatusStream,
    decode_asb,
    decode_status,
    encode_asb,
    encode_paper_sensor,
    encode_status,
)

statuses = st.builds(
    PrinterStatus,
    paper=st.sampled_from([PaperState.OK, PaperState.NEAR_END, PaperState.OUT]),
    cover_open=st.booleans(),
    offline=st.booleans(),
    cutter_error=st.booleans(),
    unrecoverable_error=st.booleans(),
    recoverable_error=st.booleans(),
)


def _feed_in_pieces(data: bytes, cuts: list[int]) -> list[Reply]:
    stream = StatusStream()
    out: list[Reply] = []
    start = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        out += stream.feed(data[start:cut])
        start = cut
    return out


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=10))
def test_any_byte_stream_in_any_chunks_parses_the_same_and_never_raises(data: bytes, cuts: list[int]) -> None:
    whole = StatusStream()
    replies = whole.feed(data)
    assert _feed_in_pieces(data, cuts) == replies
    consumed = sum(len(r.data) for r in replies) + whole.pending
    assert consumed == len(data)
    for reply in replies:
        if reply.kind is ReplyKind.ASB:
            decode_asb(reply.data)
        elif reply.kind is ReplyKind.STATUS:
            decode_status({1: reply.data[0]})


@given(statuses, st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=8))
def test_valid_status_replies_come_out_with_their_bits(status: PrinterStatus, asked: list[int]) -> None:
    data = bytes(encode_status(status, n) for n in asked)
    replies = StatusStream().feed(data)
    assert [r.kind for r in replies] == [ReplyKind.STATUS] * len(asked)
    decoded = decode_status({n: r.data[0] for n, r in zip(asked, replies, strict=True)})
    if 2 in asked or 4 in asked:
        assert (decoded.paper is PaperState.OUT) == (status.paper is PaperState.OUT)
    if 4 in asked:
        assert decoded.paper is status.paper
    if 2 in asked:
        assert decoded.cover_open == status.cover_open
    if 3 in asked:
        assert decoded.cutter_error == status.cutter_error
        assert decoded.unrecoverable_error == status.unrecoverable_error
        assert decoded.recoverable_error == status.recoverable_error
    if 1 in asked:
        assert decoded.offline == status.offline


@given(statuses, statuses, st.lists(st.integers(min_value=0, max_value=20), max_size=5))
def test_asb_blocks_between_replies_are_told_apart(
    first: PrinterStatus, second: PrinterStatus, cuts: list[int]
) -> None:
    data = (
        encode_asb(first)
        + bytes((encode_status(second, 4),))
        + bytes((encode_paper_sensor(second.paper),))
        + encode_asb(second)
    )
    replies = _feed_in_pieces(data, cuts)
    assert [r.kind for r in replies] == [
        ReplyKind.ASB,
        ReplyKind.STATUS,
        ReplyKind.PAPER_SENSOR,
        ReplyKind.ASB,
    ]
    for block, status in ((replies[0].data, first), (replies[3].data, second)):
        decoded = decode_asb(block)
        assert (decoded.paper, decoded.cover_open, decoded.offline, decoded.cutter_error) == (
            status.paper,
            status.cover_open,
            status.offline,
            status.cutter_error,
        )
        assert decoded.unrecoverable_error == status.unrecoverable_error
        assert decoded.recoverable_error == status.recoverable_error


def test_fixed_bytes() -> None:
    assert StatusStream().feed(bytes.fromhex("16 10 00 0c 00 72 0c 80")) == [
        Reply(ReplyKind.STATUS, b"\x16"),
        Reply(ReplyKind.ASB, bytes.fromhex("10 00 0c 00")),
        Reply(ReplyKind.STATUS, b"\x72"),
        Reply(ReplyKind.PAPER_SENSOR, b"\x0c"),
        Reply(ReplyKind.NOISE, b"\x80"),
    ]
    assert decode_asb(bytes.fromhex("10 00 0c 00")).paper is PaperState.OUT
    assert decode_asb(bytes.fromhex("38 08 03 00")) == PrinterStatus(
        paper=PaperState.NEAR_END, cover_open=True, offline=True, cutter_error=True
    )


@pytest.mark.parametrize("block", [b"\x10\x00\x00", bytes.fromhex("12 00 00 00"), b""])
def test_bad_asb_blocks_raise(block: bytes) -> None:
    with pytest.raises(StatusReplyError, match="ASB block"):
        decode_asb(block)
