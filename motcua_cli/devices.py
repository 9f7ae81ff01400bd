"""``motcua device --device ID``: run the service of a device of the site file.

The command knows no device kind: it looks the kind up in ``device_service.registry``, whose
factory (registered by the kind's own package) builds the service.
"""

from __future__ import annotations

from pathlib import Path

from bus.client import BrokerUrl
from bus.process import StopSignal, exit_at_once
from device_service.base import Service
from device_service.registry import ServiceContext, UnknownDeviceKindError, lookup
from device_service.registry import build_services as build_registered
from siteconf import Site
from siteconf.model import Device

DeviceService = Service
"""The service interface (kept under its old name for the demo)."""


def build_service(
    site: Site, device: Device, broker: str | BrokerUrl, spool_dir: Path | None = None
) -> Service:
    """The service that owns ``device``; imports only the package of that device kind.

    ``spool_dir`` replaces the site's ``[printing] spool_dir`` (the demo keeps its spool with its output);
    a scanner keeps its encrypted PDFs in ``[scanning] spool_dir`` whatever it says.

    Raises ``ValueError`` for a kind that is not a device service (a kiosk, a hall board) and the
    kind's own setup errors (a scanner's ``ScanError``: no station entry, no scan key, a bad source).
    """
    try:
        entry = lookup(str(device.kind))
    except UnknownDeviceKindError as err:
        raise ValueError(
            f"device {device.id} is a {device.kind}: run it with `motcua {device.kind}`, not as a device"
        ) from err
    return entry.factory(ServiceContext(site, broker, spool_dir), [device])[0]


def build_services(
    site: Site, devices: list[Device], broker: str | BrokerUrl, spool_dir: Path | None = None
) -> list[Service]:
    """The services of several devices in one process: LED displays that share one RS-485 line (the
    same URL) get one line service, so two services never open the same port."""
    return build_registered(ServiceContext(site, broker, spool_dir), devices)


def _devices_to_run(site: Site, device_id: str) -> list[Device]:
    """``device_id``, or every device of its line when its kind shares lines (one process per line)."""
    ids = [d.id for d in site.devices]
    if device_id not in ids:
        raise SystemExit(f"motcua: no device {device_id!r} in the site file (devices: {', '.join(ids)})")
    device = site.device(device_id)
    try:
        shares_line = lookup(str(device.kind)).shares_line
    except UnknownDeviceKindError:
        shares_line = False
    same_line = [d for d in site.devices if d.kind is device.kind and d.url == device.url]
    if not shares_line or len(same_line) == 1:
        return [device]
    if device is not same_line[0]:
        raise SystemExit(
            f"motcua: {device_id} shares its line with {same_line[0].id}; run --device {same_line[0].id}"
        )
    return same_line


def run_device(site: Site, device_id: str, broker: str) -> int:
    devices = _devices_to_run(site, device_id)
    setup_errors: tuple[type[Exception], ...] = (ValueError, *_setup_errors(devices[0]))
    try:
        if len(devices) > 1:
            services = build_services(site, devices, broker)
        else:
            services = [build_service(site, devices[0], broker)]
    except setup_errors as err:
        raise SystemExit(f"motcua: {err}") from err
    stop = StopSignal()  # before each service announces itself online
    for service in services:
        service.start()
    stop.wait()
    for service in services:
        service.stop()
    exit_at_once(0)  # every service is offline and closed: no interpreter teardown to wait for


def _setup_errors(device: Device) -> tuple[type[Exception], ...]:
    try:
        return lookup(str(device.kind)).setup_errors
    except UnknownDeviceKindError:
        return ()
