"""CallerBusKeypad driver against the calling-keypad simulator over sim://, noise included."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from support import sim_link

from counter_display.caller_bus import Key, display_frame, encode_frame, key_frame
from counter_display.errors import CounterLinkError
from counter_display.keypad import CallerBusKeypad, KeyPress
from firmware_sim.keypad import CallerBusKeypadSim, KeypadNotAttachedError
from transport.sim import SimTransport

FAST = 0.05


@pytest.fixture
def sim() -> CallerBusKeypadSim:
    return CallerBusKeypadSim(addr=5, seed=1)


@pytest.fixture
def link(sim: CallerBusKeypadSim) -> Iterator[SimTransport]:
    with sim_link(sim, "keypad-test") as transport:
        yield transport


@pytest.fixture
def keypad(link: SimTransport) -> CallerBusKeypad:
    return CallerBusKeypad(link, inter_byte_timeout=0.02)


def poll_for(keypad: CallerBusKeypad, seconds: float = 0.2) -> list[KeyPress]:
    """Every key press reported within ``seconds``."""
    presses: list[KeyPress] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        presses += keypad.poll(timeout=0.02)
    return presses


def test_press_call_is_reported_and_acknowledged(sim: CallerBusKeypadSim, keypad: CallerBusKeypad) -> None:
    sim.press(Key.CALL)
    assert keypad.poll(timeout=FAST) == [KeyPress(addr=5, key=Key.CALL)]
    assert sim.acked == 1
    assert sim.unacked == []


def test_nothing_pressed_gives_nothing(keypad: CallerBusKeypad) -> None:
    started = time.monotonic()
    assert keypad.poll(timeout=FAST) == []
    assert time.monotonic() - started < 0.5


def test_without_ack_the_keypad_keeps_waiting(sim: CallerBusKeypadSim, link: SimTransport) -> None:
    keypad = CallerBusKeypad(link, ack=False)
    sim.press(Key.RECALL)
    assert keypad.poll(timeout=FAST) == [KeyPress(5, Key.RECALL)]
    assert sim.acked == 0
    assert sim.unacked == [Key.RECALL]


def test_a_resend_after_a_lost_ack_is_acked_but_reported_once(
    sim: CallerBusKeypadSim, link: SimTransport
) -> None:
    deaf = CallerBusKeypad(link, ack=False)
    sim.press(Key.CALL)
    assert deaf.poll(timeout=FAST) == [KeyPress(5, Key.CALL)]
    keypad = CallerBusKeypad(link)
    keypad.poll(timeout=0)
    sim.press(Key.CALL, repeats=3)
    sim.resend_unacked()
    assert poll_for(keypad, 0.1) == [KeyPress(5, Key.CALL)]
    assert sim.unacked == []
    assert sim.acked == 4
    assert keypad.repeats_suppressed >= 3


def test_presses_further_apart_than_the_repeat_window_all_count(
    sim: CallerBusKeypadSim, link: SimTransport
) -> None:
    keypad = CallerBusKeypad(link, repeat_window=0.0)
    sim.press(Key.CALL)
    sim.press(Key.CALL)
    sim.press(Key.DIGIT_7)
    assert keypad.poll(timeout=FAST) == [
        KeyPress(5, Key.CALL),
        KeyPress(5, Key.CALL),
        KeyPress(5, Key.DIGIT_7),
    ]


def test_noise_between_presses_is_ignored(sim: CallerBusKeypadSim, keypad: CallerBusKeypad) -> None:
    sim.inject_noise(300)
    sim.press(Key.CALL)
    sim.inject_noise(b"\x00\x16\xff\x68\x03\x03\x68")
    sim.press(Key.TRANSFER)
    sim.inject_noise(b"\xff\x68\x03")  # a frame start that never completes
    assert poll_for(keypad) == [KeyPress(5, Key.CALL), KeyPress(5, Key.TRANSFER)]
    assert sim.acked == 2
    assert keypad.rejected_bytes >= 300


@pytest.mark.parametrize(
    "broken",
    [
        key_frame(5, Key.CALL)[:-1],  # truncated
        key_frame(5, Key.CALL)[:-2] + b"\x00\x16",  # bad checksum
        key_frame(5, Key.CALL)[:-1] + b"\x17",  # bad end byte
        key_frame(5, Key.CALL)[:3] + b"\x04" + key_frame(5, Key.CALL)[4:],  # LEN bytes differ
        encode_frame(5, 0x01, b"\x0e"),  # valid frame, unknown key code
        encode_frame(5, 0x07, b"\x0c"),  # valid frame, not a key event
    ],
    ids=["truncated", "bad-checksum", "bad-end", "len-mismatch", "unknown-key", "not-a-key-event"],
)
def test_broken_frames_never_become_key_presses(
    sim: CallerBusKeypadSim, keypad: CallerBusKeypad, broken: bytes
) -> None:
    sim.inject_noise(broken)
    assert poll_for(keypad, 0.1) == []
    sim.press(Key.PAUSE)
    assert poll_for(keypad, 0.1) == [KeyPress(5, Key.PAUSE)]


def test_a_frame_arriving_in_pieces_is_reassembled(sim: CallerBusKeypadSim, keypad: CallerBusKeypad) -> None:
    frame = key_frame(5, Key.RATING)
    sim.inject_noise(frame[:4])
    later = threading.Timer(0.005, sim.inject_noise, args=(frame[4:],))
    later.start()
    try:
        assert poll_for(keypad, 0.1) == [KeyPress(5, Key.RATING)]
    finally:
        later.join()


def test_display_and_beep(sim: CallerBusKeypadSim, keypad: CallerBusKeypad) -> None:
    keypad.show_digits(5, "123")
    keypad.beep(5)
    keypad.show_digits(6, "999")  # another keypad's display
    assert sim.display_text == "   123"
    assert sim.beeps == 1


def test_host_command_frames_heard_on_the_bus_are_not_echoed(
    sim: CallerBusKeypadSim, keypad: CallerBusKeypad
) -> None:
    sim.inject_noise(display_frame(5, "1"))  # as if the line echoed a display frame back to us
    assert keypad.poll(timeout=FAST) == []
    assert sim.display_text == ""
    assert keypad.frames_received == 1


def test_closed_link_is_a_counter_link_error(keypad: CallerBusKeypad, link: SimTransport) -> None:
    link.close()
    with pytest.raises(CounterLinkError, match="sim://keypad-test"):
        keypad.poll(timeout=0)


def test_pressing_a_detached_keypad_says_what_to_do() -> None:
    with pytest.raises(KeypadNotAttachedError, match="open its sim:// URL"):
        CallerBusKeypadSim(3).press(Key.CALL)


@pytest.mark.parametrize("fault", ["garble", "bad_checksum", "truncate"])
def test_a_keypad_sending_damaged_frames_presses_nothing_and_is_not_acked(
    sim: CallerBusKeypadSim, keypad: CallerBusKeypad, fault: str
) -> None:
    sim.press(Key.CALL, repeats=3, fault=fault)
    assert poll_for(keypad, 0.1) == []
    assert sim.acked == 0 and sim.unacked == [Key.CALL] * 3
    sim.press(Key.RECALL)
    assert poll_for(keypad, 0.1) == [KeyPress(5, Key.RECALL)]


def test_a_muted_keypad_sends_and_hears_nothing(sim: CallerBusKeypadSim, keypad: CallerBusKeypad) -> None:
    sim.mute = True
    sim.press(Key.CALL)
    keypad.show_digits(5, "12")
    assert poll_for(keypad, 0.1) == []
    assert sim.display_text == ""
    sim.mute = False
    sim.resend_unacked()
    assert poll_for(keypad, 0.1) == [KeyPress(5, Key.CALL)]


def test_an_unknown_fault_is_refused(sim: CallerBusKeypadSim) -> None:
    with pytest.raises(ValueError, match="unknown keypad fault 'melt'"):
        sim.press(Key.CALL, fault="melt")
