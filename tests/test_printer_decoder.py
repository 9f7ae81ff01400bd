"""Streaming ESC/POS decoder: byte tables, chunking invariance, Kanji pairs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printer.escpos_decoder import Command, EscposDecoder

ESC_POS_PIECES = [
    b"\x1b@",
    b"\x1ba\x01",
    b"\x1d!\x11",
    b"\x1c.",
    b"\x1c&",
    b"\x10\x04\x01",
    b"\x1dV\x01",
    b"\x1dVB\x03",
    b"\x1dv0\x00\x01\x00\x02\x00\xff\x81",
    b"\x1d(k\x03\x001Q0",
    b"\x1dkI\x03{BA",
    b"\x1dr\x01",
    b"\n",
    b"\xc4\xe3",
    b"ABC",
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x1b@", [Command("ESC @")]),
        (b"\x1ba\x01", [Command("ESC a", b"\x01")]),
        (b"\x1d!\x33", [Command("GS !", b"\x33")]),
        (b"\x1c.", [Command("FS .")]),
        (b"\x1dL\x10\x00", [Command("GS L", b"\x10\x00")]),
        (b"\x1bp\x00\x19\xfa", [Command("ESC p", b"\x00\x19\xfa")]),
        (b"\x1dV\x01", [Command("GS V", b"\x01")]),
        (b"\x1dVB\x00", [Command("GS V", b"B\x00")]),
        (b"\x1dv0\x00\x01\x00\x02\x00\xf0\x0f", [Command("GS v 0", b"\x00\x01\x00\x02\x00", b"\xf0\x0f")]),
        (b"\x1d(k\x03\x001Q0", [Command("GS ( k", data=b"1Q0")]),
        (b"\x1d(L\x02\x0002", [Command("GS ( L", data=b"02")]),
        (b"\x1d8L\x02\x00\x00\x0002", [Command("GS 8 L", data=b"02")]),
        (b"\x1dkI\x04{B12", [Command("GS k", b"I", b"{B12")]),
        (b"\x1dk\x04ABC\x00", [Command("GS k", b"\x04", b"ABC")]),
        (b"\x1b*\x00\x02\x00\xff\xff", [Command("ESC *", b"\x00\x02\x00", b"\xff\xff")]),
        (b"\x1bD\x08\x10\x00", [Command("ESC D", b"\x08\x10")]),
        (b"\x10\x04\x04", [Command("DLE EOT", b"\x04")]),
        (b"\x10\x14\x01\x00\x01", [Command("DLE DC4", b"\x01\x00\x01")]),
        (
            b"Hi\nthere\t",
            [
                Command("text", data=b"Hi"),
                Command("LF", b"\n"),
                Command("text", data=b"there"),
                Command("HT", b"\t"),
            ],
        ),
        (b"\x1b\xff", [Command("unknown", b"\x1b\xff")]),
        (b"\x1dv1", [Command("unknown", b"\x1dv"), Command("text", data=b"1")]),
        (b"\x07", [Command("control", b"\x07")]),
    ],
)
def test_decodes(data: bytes, expected: list[Command]) -> None:
    assert EscposDecoder().feed(data) == expected


def test_incomplete_commands_wait_for_their_bytes() -> None:
    decoder = EscposDecoder()
    assert decoder.feed(b"\x1dv0\x00\x02\x00\x02\x00\xff") == []
    assert decoder.pending == 9
    assert decoder.feed(b"\xff\xff") == []
    assert decoder.feed(b"\xffA") == [
        Command("GS v 0", b"\x00\x02\x00\x02\x00", b"\xff" * 4),
        Command("text", data=b"A"),
    ]
    assert decoder.pending == 0


def test_kanji_mode_keeps_byte_pairs_together() -> None:
    decoder = EscposDecoder()
    assert decoder.feed(b"\x1c&A\xc4") == [Command("FS &"), Command("text", data=b"A")]
    assert decoder.feed(b"\xe3\x1c.\xc4") == [
        Command("text", data=b"\xc4\xe3"),
        Command("FS ."),
        Command("text", data=b"\xc4"),
    ]
    assert not decoder.kanji


def test_esc_at_restores_the_power_on_kanji_mode() -> None:
    decoder = EscposDecoder(kanji_default=True)
    decoder.feed(b"\x1c.")
    assert not decoder.kanji
    decoder.feed(b"\x1b@")
    assert decoder.kanji


def _merge_text(commands: list[Command]) -> list[Command]:
    merged: list[Command] = []
    for command in commands:
        if merged and command.name == "text" and merged[-1].name == "text":
            merged[-1] = Command("text", data=merged[-1].data + command.data)
        else:
            merged.append(command)
    return merged


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(ESC_POS_PIECES), st.binary(max_size=12)), max_size=40),
    st.lists(st.integers(1, 7), min_size=1, max_size=20),
)
def test_chunking_never_changes_the_commands(pieces: list[bytes], cuts: list[int]) -> None:
    data = b"".join(pieces)
    whole = EscposDecoder()
    expected = _merge_text(whole.feed(data))
    chunked = EscposDecoder()
    got: list[Command] = []
    pos, i = 0, 0
    while pos < len(data):
        size = cuts[i % len(cuts)]
        got += chunked.feed(data[pos : pos + size])
        pos, i = pos + size, i + 1
    assert _merge_text(got) == expected
    assert chunked.pending == whole.pending
