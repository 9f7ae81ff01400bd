"""Build the device service for a device of the site file: ``motcua device --device ID``."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bus.client import BrokerUrl
from bus.models import DeviceKind
from motcua_cli.main import wait_for_signal
from siteconf import Site
from siteconf.model import Device


class DeviceService(Protocol):
    def start(self) -> object: ...
    def stop(self) -> None: ...
    def idle(self) -> bool:
        """True when nothing received is still waiting to reach the hardware."""
        ...


def build_service(
    site: Site, device: Device, broker: str | BrokerUrl, spool_dir: Path | None = None
) -> DeviceService:
    """The service that owns ``device``; imports only the package of that device kind.

    ``spool_dir`` replaces the site's ``[printing] spool_dir`` (the demo keeps its spool with its output);
    a scanner keeps its encrypted PDFs in ``[scanning] spool_dir`` whatever it says.

    A scanner raises ``scanner.errors.ScanError`` when it cannot be set up (no ``[[scanning.stations]]``
    entry, no scan key, a bad source URL).
    """
    site_id = site.site.id
    if device.kind is DeviceKind.PRINTER:
        from printer.service import PrinterService

        if spool_dir is not None:
            printing = site.printing.model_copy(update={"spool_dir": str(spool_dir)})
            site = site.model_copy(update={"printing": printing})
        return PrinterService.from_site(site, device, broker)
    if device.kind is DeviceKind.LED_DISPLAY:
        from counter_display.service import LedDisplayService

        return LedDisplayService(site_id, device, broker)
    if device.kind is DeviceKind.KEYPAD and device.id in site.display.rf433_receivers:
        from counter_display.rf433_receiver import Rf433KeypadService

        return Rf433KeypadService(site_id, device, broker, site.display.remotes)
    if device.kind is DeviceKind.KEYPAD:
        from counter_display.service import KeypadService

        return KeypadService(site_id, device, broker)
    if device.kind is DeviceKind.SCANNER:
        from scanner.service import ScannerDeviceService

        return ScannerDeviceService.from_site(site, device, broker)
    raise ValueError(
        f"device {device.id} is a {device.kind}: run it with `motcua {device.kind}`, not as a device"
    )


def build_services(
    site: Site, devices: list[Device], broker: str | BrokerUrl, spool_dir: Path | None = None
) -> list[DeviceService]:
    """The services of several devices in one process: LED displays that share one RS-485 line (the
    same URL) get one line service, so two services never open the same port."""
    from counter_display.service import led_services

    leds = [d for d in devices if d.kind is DeviceKind.LED_DISPLAY]
    services: list[DeviceService] = list(led_services(site.site.id, leds, broker)) if leds else []
    services += [
        build_service(site, d, broker, spool_dir) for d in devices if d.kind is not DeviceKind.LED_DISPLAY
    ]
    return services


def run_device(site: Site, device_id: str, broker: str) -> int:
    ids = [d.id for d in site.devices]
    if device_id not in ids:
        raise SystemExit(f"motcua: no device {device_id!r} in the site file (devices: {', '.join(ids)})")
    device = site.device(device_id)
    same_line = [d for d in site.devices if d.kind is DeviceKind.LED_DISPLAY and d.url == device.url]
    if device.kind is DeviceKind.LED_DISPLAY and len(same_line) > 1:
        # The displays of one RS-485 line are one process: run them all with the first device's id.
        if device is not same_line[0]:
            raise SystemExit(
                f"motcua: {device_id} shares its line with {same_line[0].id}; run --device {same_line[0].id}"
            )
        services = build_services(site, same_line, broker)
    else:
        from scanner.errors import ScanError

        try:
            services = [build_service(site, device, broker)]
        except (ScanError, ValueError) as err:
            raise SystemExit(f"motcua: {err}") from err
    for service in services:
        service.start()
    wait_for_signal()
    for service in services:
        service.stop()
    return 0
