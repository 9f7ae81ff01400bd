"""Caller-bus codec: the documented frames byte for byte, and the streaming decoder under noise."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counter_display.caller_bus import (
    MAX_LEN,
    CallerBusDecoder,
    CallerBusFrame,
    CallerBusFrameError,
    Command,
    Key,
    beep_frame,
    decode_frame,
    display_frame,
    encode_frame,
    key_frame,
    key_of,
    text_of,
)

SHOW_123_ON_5 = bytes.fromhex("FF 68 08 08 68 05 02 0A 0A 0A 01 02 03 2B 16")
BEEP_5 = bytes.fromhex("FF 68 02 02 68 05 03 08 16")


def test_show_123_on_address_5_is_the_documented_frame() -> None:
    assert display_frame(5, "123") == SHOW_123_ON_5


def test_beep_is_the_documented_frame() -> None:
    assert beep_frame(5) == BEEP_5


def test_documented_frames_decode() -> None:
    assert decode_frame(SHOW_123_ON_5) == CallerBusFrame(
        5, Command.DISPLAY, bytes.fromhex("0A 0A 0A 01 02 03")
    )
    assert text_of(decode_frame(SHOW_123_ON_5)) == "   123"
    assert decode_frame(BEEP_5) == CallerBusFrame(5, Command.BEEP)


@pytest.mark.parametrize(
    ("key", "code"),
    [(Key.CALL, 0x0C), (Key.RECALL, 0x0D), (Key.RATING, 0x0B), (Key.PAUSE, 0x12), (Key.TRANSFER, 0x13)],
)
def test_key_frames_carry_the_key_code_last(key: Key, code: int) -> None:
    frame = key_frame(7, key)
    assert frame == bytes((0xFF, 0x68, 3, 3, 0x68, 7, 0x01, code, (7 + 1 + code) % 256, 0x16))
    assert key_of(decode_frame(frame)) is key


def test_confirm_and_digit_keys() -> None:
    assert Key(0x0F) is Key.CONFIRM
    assert [Key(d).digit for d in range(10)] == list(range(10))
    assert Key.CALL.digit is None


def test_display_text_is_right_aligned_with_blanks() -> None:
    assert display_frame(1, "")[7:13] == bytes([0x0A] * 6)
    assert display_frame(1, "1 2")[7:13] == bytes.fromhex("0A 0A 0A 01 0A 02")
    assert display_frame(1, "987654")[7:13] == bytes.fromhex("09 08 07 06 05 04")


@pytest.mark.parametrize("text", ["1234567", "12a", "-1", "1.5"])
def test_display_refuses_what_it_cannot_show(text: str) -> None:
    with pytest.raises(ValueError, match="caller keypad"):
        display_frame(1, text)


def test_encode_refuses_out_of_range_fields() -> None:
    with pytest.raises(ValueError, match=r"0\.\.255"):
        encode_frame(256, 1)
    with pytest.raises(ValueError, match="at most"):
        encode_frame(1, 1, bytes(MAX_LEN))


def test_key_of_ignores_other_frames_and_unknown_codes() -> None:
    assert key_of(decode_frame(BEEP_5)) is None
    assert key_of(CallerBusFrame(5, Command.KEY_EVENT, b"\x0e")) is None
    assert key_of(CallerBusFrame(5, Command.KEY_EVENT, b"")) is None
    assert key_of(CallerBusFrame(5, Command.KEY_EVENT, b"\x99\x0c")) is Key.CALL


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        ("FF 68 02 03 68 05 03 08 16", "LEN bytes differ"),
        ("FF 68 02 02 69 05 03 08 16", "second 68"),
        ("FF 68 02 02 68 05 03 09 16", "checksum"),
        ("FF 68 02 02 68 05 03 08 17", "trailing byte"),
        ("FF 68 02 02 68 05 03 08", "LEN 2 means 9"),
        ("FE 68 02 02 68 05 03 08 16", "FF 68"),
        ("FF 68 01 01 68 05 06 16", "LEN 1 outside"),
    ],
)
def test_decode_frame_says_what_is_wrong(wire: str, problem: str) -> None:
    with pytest.raises(CallerBusFrameError, match=problem):
        decode_frame(bytes.fromhex(wire))


def test_decoder_resyncs_after_garbage_and_counts_it() -> None:
    decoder = CallerBusDecoder()
    garbage = bytes.fromhex("00 FF FF 68 02 03 68 16")
    assert decoder.feed(garbage + BEEP_5) == [CallerBusFrame(5, Command.BEEP)]
    assert decoder.rejected_bytes == len(garbage)
    assert decoder.pending == 0


def test_decoder_does_not_wait_for_an_absurd_len() -> None:
    decoder = CallerBusDecoder()
    assert decoder.feed(bytes.fromhex("FF 68 F0 F0 68") + BEEP_5) == [CallerBusFrame(5, Command.BEEP)]


def test_resync_after_silence_frees_a_frame_stuck_behind_a_broken_one() -> None:
    decoder = CallerBusDecoder()
    broken = bytes.fromhex("FF 68 20 20 68 01")  # a frame that stopped half-way
    assert decoder.feed(broken + BEEP_5) == []
    assert decoder.resync() == [CallerBusFrame(5, Command.BEEP)]
    assert decoder.pending == 0


_addr = st.integers(0, 255)
_frames = st.builds(CallerBusFrame, _addr, _addr, st.binary(max_size=MAX_LEN - 2))
_garbage = st.binary(max_size=30).map(lambda b: b.replace(b"\xff", b""))


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@given(_frames)
def test_any_frame_round_trips(frame: CallerBusFrame) -> None:
    assert decode_frame(encode_frame(frame.addr, frame.cmd, frame.data)) == frame
    assert CallerBusDecoder().feed(frame.raw) == [frame]


@settings(deadline=None)
@given(
    frames=st.lists(_frames, min_size=1, max_size=5),
    garbage=st.lists(_garbage, min_size=6, max_size=6),
    cuts=st.lists(st.integers(0, 1000), max_size=15),
)
def test_frames_survive_chunking_and_garbage(
    frames: list[CallerBusFrame], garbage: list[bytes], cuts: list[int]
) -> None:
    # Garbage without FF cannot start a frame, so exactly the real frames must come out.
    stream = b"".join(g + f.raw for g, f in zip(garbage, frames, strict=False)) + garbage[-1]
    decoder = CallerBusDecoder()
    found = [frame for chunk in _chunks(stream, cuts) for frame in decoder.feed(chunk)]
    assert found == frames
    assert decoder.rejected_bytes == sum(map(len, garbage[: len(frames)])) + len(garbage[-1])


@given(st.binary(max_size=400), st.lists(st.integers(0, 500), max_size=10))
def test_noise_never_raises_or_invents_frames(noise: bytes, cuts: list[int]) -> None:
    decoder = CallerBusDecoder()
    found = [frame for chunk in _chunks(noise, cuts) for frame in decoder.feed(chunk)]
    found += decoder.resync()
    assert all(frame.raw in noise for frame in found)
    if b"\xff\x68" not in noise:
        assert found == []
    assert decoder.pending == 0


@given(st.sampled_from(list(Key)), _addr, st.integers(1, 9), _garbage)
def test_a_truncated_key_frame_is_never_a_key_press(key: Key, addr: int, cut: int, garbage: bytes) -> None:
    decoder = CallerBusDecoder()
    truncated = key_frame(addr, key)[:-cut]
    found = decoder.feed(garbage + truncated) + decoder.resync()
    assert found == []


@given(st.sampled_from(list(Key)), _addr, st.integers(1, 9))
def test_a_truncated_frame_does_not_swallow_the_next_one(key: Key, addr: int, cut: int) -> None:
    decoder = CallerBusDecoder()
    found = decoder.feed(key_frame(addr, key)[:-cut] + BEEP_5)
    found += decoder.resync()
    assert found == [CallerBusFrame(5, Command.BEEP)]
