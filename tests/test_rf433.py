"""433 MHz EV1527 receivers: exact frames, round trips, noise and cut-off frames never press a key,
repeats merged, only bound remotes accepted, presses published as key_pressed events."""

from __future__ import annotations

import random
import time

import pytest
from broker_support import as_identity
from hypothesis import given, settings
from hypothesis import strategies as st
from support import sim_link, wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.rf433 import (
    MAX_ID,
    Ev1527Decoder,
    Ev1527FrameError,
    RemoteCode,
    RepeatFilter,
    decode_frame,
    encode_frame,
)
from counter_display.rf433_receiver import Ev1527Receiver, RemotePress, Rf433KeypadService
from firmware_sim.rf433 import Ev1527ReceiverSim
from siteconf import Site
from siteconf.display import Remote
from transport.sim import register_simulator, unregister_simulator

REMOTES = [Remote(id=0x5A3C1, counter=2), Remote(id=0x00042, counter=3, keys={1: m.Key.RECALL})]


def test_the_documented_example_frame() -> None:
    assert encode_frame(0x5A3C1, 1) == bytes.fromhex("FD 5A 3C 11 DF")
    assert decode_frame(bytes.fromhex("FD 5A 3C 18 DF")) == RemoteCode(0x5A3C1, 8)
    assert encode_frame(0x00001, 0x0F) == bytes.fromhex("FD 00 00 1F DF")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("FD 5A 3C 11", "is not 5 bytes"),
        ("FE 5A 3C 11 DF", "start byte FE is not FD"),
        ("FD 5A 3C 11 DE", "end byte DE is not DF"),
        ("FD 5A 3C 10 DF", "key 0"),
        ("FD 00 00 01 DF", "stuck line"),
        ("FD FF FF F1 DF", "stuck line"),
    ],
)
def test_bad_frames_say_what_is_wrong(raw: str, why: str) -> None:
    with pytest.raises(Ev1527FrameError, match=why):
        decode_frame(bytes.fromhex(raw))


@pytest.mark.parametrize(("remote_id", "key"), [(-1, 1), (MAX_ID + 1, 1), (5, 16)])
def test_values_out_of_range_cannot_be_encoded(remote_id: int, key: int) -> None:
    with pytest.raises(ValueError, match="EV1527 id"):
        encode_frame(remote_id, key)


codes = st.builds(RemoteCode, st.integers(1, MAX_ID - 1), st.integers(1, 15))


@given(st.lists(codes, max_size=8), st.data())
def test_frames_round_trip_through_the_stream_decoder_in_any_chunks(
    sent: list[RemoteCode], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(c.id, c.key) for c in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = Ev1527Decoder()
    got: list[RemoteCode] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += decoder.feed(stream[start:end])
    assert got == sent
    assert all(decode_frame(encode_frame(c.id, c.key)) == c for c in sent)


@settings(max_examples=300)
@given(st.binary(max_size=400), st.binary(max_size=40))
def test_random_noise_never_presses_a_bound_key(noise: bytes, more: bytes) -> None:
    """Without a checksum the decoder may find a code in noise; only a bound id could call anyone."""
    decoder = Ev1527Decoder()
    codes = decoder.feed(noise) + decoder.feed(more) + decoder.resync()
    bound = {r.id for r in REMOTES}
    assert not [c for c in codes if c.id in bound]
    assert all(c.key and c.id not in (0, MAX_ID) for c in codes)


def test_noise_and_truncated_frames_on_a_line_press_nothing_and_crash_nothing() -> None:
    sim = Ev1527ReceiverSim(seed=7)
    with sim_link(sim, "rf") as transport:
        receiver = Ev1527Receiver(transport, REMOTES)
        presses: list[RemotePress] = []
        for _ in range(50):
            sim.inject_noise(random.Random(len(presses)).randint(1, 64))
            sim.press(0x5A3C1, 1, truncate=3)  # cut off by interference
            presses += receiver.poll(0.02)
            presses += receiver.poll(0.0)
        assert presses == []
        assert receiver.rejected_bytes > 0
        time.sleep(0.05)
        receiver.poll(0.0)  # silence: the cut-off frame is given up
        sim.press(0x5A3C1, 1)  # the line still works afterwards
        assert receiver.poll(0.5) == [RemotePress(0x5A3C1, 2, m.Key.CALL_NEXT)]


def test_a_held_button_is_one_press_and_a_later_press_is_another() -> None:
    repeats = RepeatFilter(hold_s=0.3, copies=1)
    code = RemoteCode(0x5A3C1, 1)
    assert [repeats.new_press(code, t) for t in (0.0, 0.04, 0.08, 0.12, 0.5, 0.54)] == [
        True, False, False, False, True, False,
    ]  # fmt: skip
    assert repeats.repeats == 4
    assert repeats.new_press(RemoteCode(0x5A3C1, 2), 0.55)  # another button of the same remote


def test_a_code_counts_only_when_heard_twice_as_receivers_require() -> None:
    repeats = RepeatFilter(hold_s=0.3)  # copies=2 by default
    code, forged = RemoteCode(0x5A3C1, 1), RemoteCode(0x5A3C9, 1)  # one bit of noise in the id
    assert [repeats.new_press(code, t) for t in (0.0, 0.04, 0.08, 0.12)] == [False, True, False, False]
    assert repeats.new_press(forged, 0.2) is False
    assert repeats.new_press(forged, 0.6) is False  # a second lone copy, too late to confirm the first
    assert repeats.unconfirmed == 1
    assert [repeats.new_press(code, t) for t in (1.0, 1.04)] == [False, True]  # the next press


@given(st.lists(st.tuples(st.integers(1, 0xFFFFE), st.integers(1, 15)), max_size=30))
def test_codes_each_heard_once_are_never_presses(codes: list[tuple[int, int]]) -> None:
    repeats = RepeatFilter(hold_s=0.3)
    unique = list(dict.fromkeys(codes))
    assert not any(repeats.new_press(RemoteCode(i, k), n * 0.01) for n, (i, k) in enumerate(unique))


def test_only_bound_remotes_and_mapped_keys_become_presses() -> None:
    sim = Ev1527ReceiverSim()
    with sim_link(sim, "rf") as transport:
        receiver = Ev1527Receiver(transport, REMOTES)
        sim.press(0x5A3C1, 1, repeats=5)  # held: the module writes the code five times
        sim.press(0x12345, 1)  # a neighbour's remote
        sim.press(0x00042, 1)
        sim.press(0x00042, 4)  # a button nobody assigned
        got = receiver.poll(0.5)
    assert got == [RemotePress(0x5A3C1, 2, m.Key.CALL_NEXT), RemotePress(0x00042, 3, m.Key.RECALL)]
    assert (
        receiver.repeats == 4 + 3 * 3
    )  # copies after the first: 4 of the held button, 3 of each 4-copy press
    assert receiver.unknown_remotes == 1
    assert receiver.unmapped_keys == 1


@pytest.mark.integration
def test_a_remote_press_is_published_as_a_key_pressed_event(demo_site: Site, mosquitto: BrokerUrl) -> None:
    sim = Ev1527ReceiverSim()
    name = f"rf-{demo_site.site.id}"
    register_simulator(name, sim)
    device = demo_site.device("keypad-2").model_copy(update={"url": f"sim://{name}"})
    events: list[m.KeyPressed] = []
    watcher = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "rf-watcher")
    watcher.subscribe(watcher.topics.device_evt("keypad-2"), lambda _t, e: events.append(e), m.KeyPressed)
    service = Rf433KeypadService(demo_site.site.id, device, mosquitto, REMOTES)
    try:
        watcher.start()
        service.start()
        sim.press(0x5A3C1, 1, repeats=3)
        sim.press(0x00042, 1)  # bound to counter 3, not to this receiver's counter 2
        sim.press(0x5A3C1, 2)  # barrier: RECALL comes after everything above on the line and the bus
        assert wait_until(lambda: len(events) >= 2)
        assert [e.key for e in events] == [m.Key.CALL_NEXT, m.Key.RECALL]
        assert service.presses == 2
    finally:
        service.stop()
        watcher.stop()
        unregister_simulator(name)
