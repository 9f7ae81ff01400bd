"""False and lost key presses of calling keypads on a noisy RS-485 caller bus, old protocol and new.

A line-noise harness in virtual time (no sleeping): 8 keypad simulators (``firmware_sim.keypad``,
the real bytes) share one bus with the master; every transmission in either direction goes through
``firmware_sim.line_noise.LineNoise.for_ber(ber)`` (bit flips at ``ber``, garbage between frames,
truncated and spliced frames) and reaches the master in random chunks. Each keypad presses a random
key every 0.3–0.6 s of bus time (a busy clerk; 9600 baud, 10 bits a byte, 3 ms turnaround).

- ``push`` (the protocol before issue 13): keypads send on press and resend what is not echoed every
  0.2 s; the master decodes every frame (``CallerBusDecoder``), echoes it, and reports every key
  event once per (address, key) within 0.25 s, as ``CallerBusKeypad`` does.
- ``polled`` (``counter_display.caller_poll``): the master polls one address at a time, believes only
  that address in the reply window, and reports and echoes a frame seen twice.

A report is *delivered* when the reported keypad has that key pressed and not yet reported; anything
else is *false* (including a press reported twice); *wrong keypad* = a false report whose frame was
sent by another keypad; *duplicates* = a false report of a key that keypad pressed just before (a
lost echo, then the keypad's retry taken for a new press). Run ``push`` on the code before the
change for the before figures.

    python bench/keypad_noise.py [--presses 100000] [--protocol polled|push|both]

Prints a table per protocol, then one JSON line with ``false_presses_ber_1e-2``,
``wrong_keypad_ber_1e-2`` and ``delivered_share_ber_1e-3`` (of the last protocol run).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from counter_display.caller_bus import CallerBusDecoder, CallerBusFrame, Command, Key, key_of
from firmware_sim.keypad import CallerBusKeypadSim
from firmware_sim.line_noise import LineNoise

BERS = (1e-3, 1e-2, 3e-2)
ADDRESSES = list(range(1, 9))
BYTE_S = 10 / 9600
TURNAROUND_S = 0.003
PRESS_GAP_S = (1.0, 3.0)
PUSH_RETRY_S = 0.2
REPEAT_WINDOW_S = 0.25
POLL_REPEAT_WINDOW_S = 30.0
DRAIN_S = 30.0
ACTION_KEYS = frozenset({Key.CALL, Key.RECALL, Key.TRANSFER, Key.CONFIRM, Key.PAUSE, Key.RATING})


class Wire:
    """What a simulator sends, collected (the bench decides when and how it reaches the master)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def send(self, data: bytes) -> None:
        self.data += data

    def take(self) -> bytes:
        out = bytes(self.data)
        self.data.clear()
        return out


@dataclass
class Tally:
    """Presses sent and what the master made of them."""

    sent: int = 0
    reported: int = 0
    delivered: int = 0
    false: int = 0
    false_action: int = 0
    wrong_keypad: int = 0
    duplicates: int = 0
    outstanding: dict[int, list[Key]] = field(default_factory=lambda: {a: [] for a in ADDRESSES})
    recent: dict[int, list[Key]] = field(default_factory=lambda: {a: [] for a in ADDRESSES})

    def press(self, addr: int, key: Key) -> None:
        self.sent += 1
        self.outstanding[addr].append(key)

    def report(self, addr: int, key: Key, sender: int | None) -> None:
        self.reported += 1
        waiting = self.outstanding.get(addr)
        if waiting is not None and key in waiting:
            waiting.remove(key)
            self.delivered += 1
            self.recent[addr] = [*self.recent[addr][-3:], key]
            return
        self.false += 1
        self.duplicates += key in self.recent.get(addr, ())
        self.false_action += key in ACTION_KEYS
        self.wrong_keypad += sender is not None and sender != addr

    def row(self, ber: float) -> dict[str, Any]:
        share = self.delivered / self.sent if self.sent else 0.0
        return {
            "ber": ber,
            "sent": self.sent,
            "reported": self.reported,
            "delivered_share": round(share, 6),
            "false": self.false,
            "false_action_keys": self.false_action,
            "false_wrong_keypad": self.wrong_keypad,
            "false_duplicates": self.duplicates,
        }


class Bus:
    """Keypads, the noisy line in both directions and the virtual clock."""

    def __init__(self, ber: float, seed: int, polled: bool) -> None:
        self.down = LineNoise.for_ber(ber, seed=seed)
        self.up = LineNoise.for_ber(ber, seed=seed + 1)
        self.sims: dict[int, tuple[CallerBusKeypadSim, Wire]] = {}
        for addr in ADDRESSES:
            sim, wire = CallerBusKeypadSim(addr, seed=seed + addr), Wire()
            sim.polled = polled  # an attribute the pre-issue-13 simulator simply does not read
            sim.attach(wire)
            self.sims[addr] = (sim, wire)
        self.rng = random.Random(seed)
        self.clock = 0.0
        self.next_press = {a: self.rng.uniform(*PRESS_GAP_S) for a in ADDRESSES}
        self.tally = Tally()

    def press_due(self, limit: int) -> None:
        for addr, due in self.next_press.items():
            if due <= self.clock and self.tally.sent < limit:
                key = self.rng.choice(list(Key))
                self.tally.press(addr, key)
                self.sims[addr][0].press(key)
                self.next_press[addr] = self.clock + self.rng.uniform(*PRESS_GAP_S)

    def to_keypads(self, frame: bytes) -> None:
        """The master transmits: every keypad hears the same damaged bytes."""
        heard = self.down.apply(frame)
        for sim, _ in self.sims.values():
            sim.receive(heard)
        self.clock += len(frame) * BYTE_S + TURNAROUND_S

    def unacked(self) -> int:
        return sum(len(sim.unacked) for sim, _ in self.sims.values())


def run_polled(ber: float, presses: int, seed: int) -> Tally:
    from counter_display.caller_poll import CallerBusPoller

    bus = Bus(ber, seed, polled=True)
    poller = CallerBusPoller(list(ADDRESSES), repeat_window=POLL_REPEAT_WINDOW_S)
    end: float | None = None
    while end is None or (bus.clock < end and bus.unacked()):
        bus.press_due(presses)
        if end is None and bus.tally.sent >= presses:
            end = bus.clock + DRAIN_S
        addr = poller.next_address
        bus.to_keypads(poller.start_poll())
        reply = bus.sims[addr][1].take()
        arrived = bus.up.apply(reply)
        for chunk in bus.up.chunks(arrived):
            poller.receive(chunk)
        bus.clock += len(arrived) * BYTE_S + TURNAROUND_S
        ack, found = poller.end_window(bus.clock)
        for press in found:
            bus.tally.report(press.addr, press.key, addr if reply else None)
        if ack:
            bus.to_keypads(ack)
    return bus.tally


def run_push(ber: float, presses: int, seed: int) -> Tally:
    bus = Bus(ber, seed, polled=False)
    decoder = CallerBusDecoder()
    last: dict[tuple[int, Key], float] = {}
    next_retry = {a: PUSH_RETRY_S for a in ADDRESSES}
    end: float | None = None
    while end is None or (bus.clock < end and bus.unacked()):
        bus.press_due(presses)
        if end is None and bus.tally.sent >= presses:
            end = bus.clock + DRAIN_S
        for addr, (sim, wire) in bus.sims.items():
            if next_retry[addr] <= bus.clock:
                sim.resend_unacked()
                next_retry[addr] = bus.clock + PUSH_RETRY_S
            sent = wire.take()
            if not sent:
                continue
            arrived = bus.up.apply(sent)
            bus.clock += len(arrived) * BYTE_S + TURNAROUND_S
            for chunk in bus.up.chunks(arrived):
                for frame in decoder.feed(chunk):
                    _push_master(bus, frame, last, addr)
        bus.clock += TURNAROUND_S
    return bus.tally


def _push_master(bus: Bus, frame: CallerBusFrame, last: dict[tuple[int, Key], float], sender: int) -> None:
    """What ``CallerBusKeypad`` does with a frame: echo it, report its key once per repeat window."""
    if frame.cmd in (Command.DISPLAY, Command.BEEP):
        return
    bus.to_keypads(frame.raw)  # the echo that acknowledges
    key = key_of(frame)
    if key is None:
        return
    previous = last.get((frame.addr, key))
    last[(frame.addr, key)] = bus.clock
    if previous is None or bus.clock - previous >= REPEAT_WINDOW_S:
        bus.tally.report(frame.addr, key, sender)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=100_000)
    parser.add_argument("--protocol", choices=("polled", "push", "both"), default="both")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the codec logs each unknown key code it drops
    protocols = ["push", "polled"] if args.protocol == "both" else [args.protocol]
    result: dict[str, Any] = {"bench": "keypad_noise", "presses": args.presses, "keypads": len(ADDRESSES)}
    for protocol in protocols:
        run = run_polled if protocol == "polled" else run_push
        rows = []
        for ber in BERS:
            started = time.perf_counter()
            row = run(ber, args.presses, args.seed).row(ber)
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            print(protocol, json.dumps(row), flush=True)
        result[protocol] = rows
        result["protocol"] = protocol
        by_ber = {r["ber"]: r for r in rows}
        result["false_presses_ber_1e-2"] = by_ber[1e-2]["false"]
        result["false_action_presses_ber_1e-2"] = by_ber[1e-2]["false_action_keys"]
        result["wrong_keypad_ber_1e-2"] = by_ber[1e-2]["false_wrong_keypad"]
        result["delivered_share_ber_1e-3"] = by_ber[1e-3]["delivered_share"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
