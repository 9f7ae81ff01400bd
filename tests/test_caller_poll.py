"""The polled caller-bus master: exact bytes, the issue's forged frame, confirmation by a second
sighting, lost echoes, and noise that never becomes a press (Hypothesis); then the keypad
simulator behind a noisy line (firmware_sim.line_noise)."""

from __future__ import annotations

import random

import pytest
from broker_support import as_identity
from hypothesis import given, settings
from hypothesis import strategies as st
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key, decode_frame, key_frame, poll_frame
from counter_display.caller_poll import CallerBusPoller, PolledPress, idle_frame
from counter_display.service import KeypadService
from firmware_sim.centre import SimulatedDevices
from firmware_sim.keypad import CallerBusKeypadSim
from firmware_sim.line_noise import LineNoise
from siteconf import Site
from siteconf.model import parse_site

ISSUE_FRAME = bytes.fromhex("ff 68 03 03 68 01 01 0f 11 16")


def window(poller: CallerBusPoller, reply: bytes, now: float = 0.0) -> tuple[bytes, list[PolledPress]]:
    poller.start_poll()
    poller.receive(reply)
    return poller.end_window(now)


def test_poll_and_idle_frames_are_these_bytes() -> None:
    assert poll_frame(5) == bytes.fromhex("ff 68 02 02 68 05 04 09 16")
    assert idle_frame(5) == bytes.fromhex("ff 68 03 03 68 05 04 00 09 16")
    assert key_frame(1, Key.CONFIRM) == ISSUE_FRAME


def test_the_issues_offsetting_two_bit_error_is_never_a_press() -> None:
    forged = bytearray(ISSUE_FRAME)
    forged[5] ^= 0b10  # address 01 -> 03
    forged[7] ^= 0b10  # key 0F -> 0D (RECALL); the additive checksum still matches
    forged_frame = decode_frame(bytes(forged))
    assert (forged_frame.addr, forged_frame.data) == (3, b"\x0d")  # the old master took it as keypad 3
    poller = CallerBusPoller([1, 3])
    assert poller.start_poll() == poll_frame(1)
    poller.receive(bytes(forged))
    assert poller.end_window(0.0) == (b"", [])  # not the polled address
    assert poller.stats.foreign == 1
    assert window(poller, bytes(forged)) == (b"", [])  # polled 3: seen once is only a candidate
    assert poller.stats.unconfirmed == 1
    assert window(poller, ISSUE_FRAME) == (b"", [])  # polled 1 again: a fresh candidate, no press


def test_a_press_is_reported_and_echoed_when_seen_twice() -> None:
    poller = CallerBusPoller([2])
    frame = key_frame(2, Key.CALL)
    assert window(poller, frame) == (b"", [])
    assert window(poller, frame[:4]) == (b"", [])  # a truncated copy between: nothing changes
    assert window(poller, frame) == (frame, [PolledPress(2, Key.CALL)])


def test_a_keypad_that_missed_the_echo_is_echoed_again_and_reported_once() -> None:
    poller = CallerBusPoller([2])
    frame = key_frame(2, Key.CALL)
    window(poller, frame)
    assert window(poller, frame, 0.1)[1] == [PolledPress(2, Key.CALL)]
    assert window(poller, frame, 0.2) == (frame, [])  # our echo was lost: echo again, no new press
    assert window(poller, idle_frame(2), 0.3) == (b"", [])  # the keypad is idle: the echo arrived
    window(poller, frame, 5.0)
    assert window(poller, frame, 5.1)[1] == [PolledPress(2, Key.CALL)]  # a new press of the same key


def test_only_a_one_key_key_event_from_the_polled_address_counts() -> None:
    poller = CallerBusPoller([4])
    long_frame = bytes.fromhex("ff 68 04 04 68 04 01 00 0c 11 16")  # valid checksum, two data bytes
    for _ in range(2):
        assert window(poller, long_frame + poll_frame(4)) == (b"", [])
    assert poller.stats.malformed == 0  # the decoder for key frames does not even wait for LEN 4


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=12), st.integers(0, 2**32))
def test_noise_is_never_a_press_unless_the_polled_address_sent_a_valid_frame_twice(
    windows: list[bytes], seed: int
) -> None:
    rng = random.Random(seed)
    addresses = [1, 2, 3]
    poller = CallerBusPoller(addresses)
    earlier: dict[int, list[bytes]] = {a: [] for a in addresses}
    for noise in windows:
        addr = poller.next_address
        heard = noise
        if rng.random() < 0.3:  # sometimes a genuine frame inside the noise
            cut = rng.randrange(len(noise) + 1)
            heard = noise[:cut] + key_frame(addr, rng.choice(list(Key))) + noise[cut:]
        _, presses = window(poller, heard)
        for press in presses:
            frame = key_frame(press.addr, press.key)
            assert press.addr == addr and frame in heard
            assert any(frame in w for w in earlier[addr])  # seen in an earlier window of this address
        earlier[addr] = [] if presses else [*earlier[addr], heard]


def test_simulated_keypads_behind_a_noisy_line_make_no_false_press() -> None:
    """A small run of the bench's loop: 8 polled keypads, BER 1e-2 both ways, garbage, cuts, splices."""
    down, up = LineNoise.for_ber(1e-2, seed=1), LineNoise.for_ber(1e-2, seed=2)
    sims = {a: CallerBusKeypadSim(a, seed=a, polled=True) for a in range(1, 9)}
    heard: dict[int, bytearray] = {a: bytearray() for a in sims}
    for a, sim in sims.items():
        sim.attach(_Sink(heard[a]))
    rng = random.Random(7)
    pressed: dict[int, list[Key]] = {a: [] for a in sims}
    reported: list[PolledPress] = []
    poller = CallerBusPoller(list(sims))
    for step in range(6000):
        if step % 40 == 0:
            addr, key = rng.choice(list(sims)), rng.choice(list(Key))
            pressed[addr].append(key)
            sims[addr].press(key)
        polled = poller.next_address
        out = down.apply(poller.start_poll())
        for sim in sims.values():
            sim.receive(out)
        for chunk in up.chunks(up.apply(bytes(heard[polled]))):
            poller.receive(chunk)
        heard[polled].clear()
        ack, presses = poller.end_window(step * 0.03)
        reported += presses
        if ack:
            for sim in sims.values():
                sim.receive(down.apply(ack))
    assert len(reported) > 60  # most presses made it through
    for press in reported:
        assert press.key in pressed[press.addr], press
        pressed[press.addr].remove(press.key)


class _Sink:
    def __init__(self, into: bytearray) -> None:
        self.into = into

    def send(self, data: bytes) -> None:
        self.into += data


def test_the_polled_driver_reports_a_simulated_press_once_over_sim() -> None:
    from support import sim_link

    from counter_display.keypad import KeyPress, PolledCallerBusKeypad

    sim = CallerBusKeypadSim(5, polled=True)
    with sim_link(sim, "polled-5") as link5:
        keypad = PolledCallerBusKeypad(link5, [5])
        sim.press(Key.CALL)
        assert keypad.poll_round() == []  # seen once
        assert keypad.poll_round() == [KeyPress(5, Key.CALL)]
        assert sim.acked == 1 and sim.unacked == []
        assert keypad.poll_round() == []  # idle now
        assert keypad.poller.stats.reported == 1


@pytest.mark.integration
def test_a_site_with_a_polled_caller_bus_turns_one_press_into_one_event(
    demo_site: Site, mosquitto: BrokerUrl
) -> None:
    """``display.caller_bus = "polled"``: the simulated centre's keypads answer polls, the keypad
    service polls its device's address, and a CALL becomes exactly one ``key_pressed`` event."""
    data = demo_site.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("display", {})["caller_bus"] = "polled"
    site = parse_site(data)
    sims = SimulatedDevices(site)
    device = site.device("keypad-2")
    events: list[m.KeyPressed] = []
    watcher = BusClient(as_identity(mosquitto, "queue-server"), site.site.id, "watch-polled")
    watcher.subscribe(watcher.topics.device_evt(device.id), lambda _t, e: events.append(e), m.KeyPressed)
    keypad = KeypadService(site.site.id, device, mosquitto, polled=True)
    try:
        watcher.start()
        keypad.start()
        assert sims.keypads[2].polled
        sims.keypads[2].press(Key.CALL)
        assert wait_until(lambda: sims.keypads[2].acked == 1, timeout=10)
        sims.keypads[2].press(Key.RECALL)  # a barrier: its event comes after CALL's
        assert wait_until(lambda: len(events) == 2, timeout=10)
        assert [e.key for e in events] == [m.Key.CALL_NEXT, m.Key.RECALL]
    finally:
        keypad.stop()
        watcher.stop()
        sims.close()
