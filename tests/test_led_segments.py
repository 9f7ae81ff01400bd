"""Seven-segment glyphs: text ↔ bitmaps as LED counter displays show them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter_display.seven_segment import FONT, decode_segments, encode_text, number_text, segment_on


def test_digits_use_the_standard_gfedcba_patterns() -> None:
    assert encode_text("0123456789", 10) == (0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F)


def test_text_is_right_aligned_and_points_join_the_digit_before() -> None:
    assert encode_text("12.5", 4) == (0x00, 0x06, 0x5B | 0x80, 0x6D)
    assert encode_text("-", 3) == (0x00, 0x00, 0x40)
    assert encode_text(".", 2) == (0x00, 0x80)


@pytest.mark.parametrize(("text", "problem"), [("12345", "needs 5 digits"), ("1x", "cannot show 'x'")])
def test_encode_text_refuses(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        encode_text(text, 4)


def test_decode_reads_what_a_person_sees() -> None:
    assert decode_segments((0x00, 0x06, 0xDB, 0x6D)) == " 12.5"
    assert decode_segments((0x40, 0x40)) == "--"
    assert decode_segments((0x01,)) == "?"


@pytest.mark.parametrize(
    ("value", "decimals", "text"), [(123, 0, "123"), (1234, 1, "123.4"), (5, 2, "0.05"), (0, 0, "0")]
)
def test_number_text(value: int, decimals: int, text: str) -> None:
    assert number_text(value, 4, decimals) == text


@pytest.mark.parametrize(("value", "decimals"), [(10000, 0), (-1, 0), (1, 4)])
def test_number_text_refuses_what_does_not_fit(value: int, decimals: int) -> None:
    with pytest.raises(ValueError, match=r"display|0 and up"):
        number_text(value, 4, decimals)


def test_segment_on() -> None:
    assert segment_on(0x06, "b")
    assert segment_on(0x06, "c")
    assert not segment_on(0x06, "a")
    assert segment_on(0x80, ".")


@given(st.text(alphabet="".join(FONT), max_size=8))
def test_text_round_trips_up_to_padding(text: str) -> None:
    assert decode_segments(encode_text(text, 8)) == text.rjust(8)
