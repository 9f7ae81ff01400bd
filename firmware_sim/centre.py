"""Simulators for every ``sim://`` device of a site, and the people who use them.

``SimulatedDevices`` registers one simulator per ``sim://NAME`` URL in the site file (ESC/POS
printers, Modbus LED displays, caller-bus keypads) and reads what they did: pages printed, numbers
shown. ``Citizens`` take tickets at a kiosk; ``Clerks`` press the call key on their counter's
keypad simulator. Devices with real URLs are left alone, so a demo can mix real and simulated
hardware.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bus.models import DeviceKind
from counter_display.caller_bus import Key
from firmware_sim.escpos_printer import EscposPrinterSim
from firmware_sim.keypad import CallerBusKeypadSim
from firmware_sim.led_display import ModbusLedDisplaySim
from siteconf import Site
from transport.sim import register_simulator, unregister_simulator

log = logging.getLogger(__name__)


def sim_name(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return parts.netloc if parts.scheme == "sim" else None


class SimulatedDevices:
    def __init__(self, site: Site, out_dir: Path | None = None) -> None:
        self.printers: dict[str, EscposPrinterSim] = {}
        self.leds: dict[int, ModbusLedDisplaySim] = {}
        self.keypads: dict[int, CallerBusKeypadSim] = {}
        self._names: list[str] = []
        self.out_dir = out_dir
        for device in site.devices:
            name = sim_name(device.url)
            if name is None:
                continue
            if device.kind is DeviceKind.PRINTER:
                sim: object = self.printers.setdefault(
                    device.id, EscposPrinterSim(width_dots=device.width_dots, on_page=self._saver(device.id))
                )
            elif device.kind is DeviceKind.LED_DISPLAY and device.counter is not None:
                sim = self.leds.setdefault(device.counter, ModbusLedDisplaySim(unit=device.address or 1))
            elif device.kind is DeviceKind.KEYPAD and device.counter is not None:
                polled = site.display.caller_bus == "polled"
                sim = self.keypads.setdefault(
                    device.counter, CallerBusKeypadSim(device.address or 1, polled=polled)
                )
            else:
                continue
            register_simulator(name, sim)  # type: ignore[arg-type]
            self._names.append(name)

    def _saver(self, device_id: str) -> Callable[[int, object, str], None] | None:
        if self.out_dir is None:
            return None
        out = self.out_dir

        def save(index: int, image: object, _text: str) -> None:
            out.mkdir(parents=True, exist_ok=True)
            image.save(out / f"{device_id}-{index + 1:04d}.png")  # type: ignore[attr-defined]

        return save

    def printed(self) -> int:
        return sum(len(sim.pages) for sim in self.printers.values())

    def displayed(self) -> int:
        """Numbers the LED simulators actually showed (blank and closed marks not counted)."""
        return sum(sum(1 for value in sim.history if value is not None) for sim in self.leds.values())

    def close(self) -> None:
        for name in self._names:
            unregister_simulator(name)


class Citizens(threading.Thread):
    """Citizens arriving at random (a Poisson stream) and taking a ticket for a random service."""

    def __init__(
        self, take: Callable[[str], bool], services: list[str], per_second: float, seed: int | None = None
    ):
        super().__init__(name="citizens", daemon=True)
        self.take = take
        self.services = services
        self.per_second = per_second
        self.rng = random.Random(seed)
        self.stopping = threading.Event()
        self.issued = 0

    def run(self) -> None:
        while not self.stopping.wait(self.rng.expovariate(self.per_second)):
            try:
                if self.take(self.rng.choice(self.services)):
                    self.issued += 1
            except Exception as err:  # noqa: BLE001  a failed request, of any kind, must not end the simulation
                log.warning("a simulated citizen got no ticket: %s", err)


class Clerks(threading.Thread):
    """One clerk per simulated keypad, pressing CALL after serving each citizen for a while."""

    def __init__(
        self, keypads: dict[int, CallerBusKeypadSim], service_s: tuple[float, float], seed: int | None = None
    ) -> None:
        super().__init__(name="clerks", daemon=True)
        self.keypads = keypads
        self.service_s = service_s
        self.rng = random.Random(seed)
        self.stopping = threading.Event()
        self.presses = 0

    def run(self) -> None:
        due = {counter: self.rng.uniform(0.5, self.service_s[1]) for counter in self.keypads}
        elapsed = 0.0
        while due:
            counter = min(due, key=due.__getitem__)
            if self.stopping.wait(max(due[counter] - elapsed, 0.0)):
                return
            elapsed = due[counter]
            self.keypads[counter].press(Key.CALL)
            self.presses += 1
            due[counter] = elapsed + self.rng.uniform(*self.service_s)
