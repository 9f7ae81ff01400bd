"""Device kind → the factory of its service, so a new kind joins without editing the CLI.

Modelled on python-can's ``BACKENDS``: :data:`KNOWN_KINDS` names, for each kind shipped with
motcua, the module that registers it; importing that module calls :func:`register_kind`. A kind
from another distribution registers through the ``motcua.device_kinds`` entry-point group (its
value is the module to import). Only the module of a kind that is actually asked for is
imported, so a keypad process never loads the printer's or the scanner's dependencies.

A factory receives every device of its kind that one process runs (``shares_line`` kinds such as
LED displays on one RS-485 line need to see them together) and returns their services.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from bus.client import BrokerUrl
from device_service.base import Service
from siteconf import Site
from siteconf.model import Device

ENTRY_POINT_GROUP = "motcua.device_kinds"

KNOWN_KINDS: dict[str, str] = {
    "printer": "printer.service",
    "led_display": "counter_display.devices",
    "keypad": "counter_display.devices",
    "scanner": "scanner.service",
}
"""Kinds shipped with motcua → the module whose import registers them."""


class UnknownDeviceKindError(ValueError):
    """No service factory is registered for a device kind (it is an app, or a plug-in is missing)."""


@dataclass(frozen=True)
class ServiceContext:
    """What a factory may use besides the devices: the site file, the broker, an output folder."""

    site: Site
    broker: str | BrokerUrl
    spool_dir: Path | None = None
    """Replaces the site's spool folder (the demo keeps its spool with its output)."""


ServiceFactory = Callable[[ServiceContext, list[Device]], list[Service]]


@dataclass(frozen=True)
class KindEntry:
    """How to run the devices of one kind."""

    factory: ServiceFactory
    shares_line: bool = False
    """Devices of this kind with one transport URL run together in one process (one RS-485 line)."""
    setup_errors: tuple[type[Exception], ...] = field(default=())
    """Exceptions the factory raises for a device it cannot set up (the CLI shows their message)."""


_kinds: dict[str, KindEntry] = {}
_lock = threading.Lock()


def register_kind(kind: str, entry: KindEntry) -> None:
    """Make ``kind`` runnable as a device; replaces an earlier registration of the same kind."""
    with _lock:
        _kinds[kind] = entry


def unregister_kind(kind: str) -> None:
    """Forget ``kind``'s registration (tests); a shipped kind registers again on its next lookup
    only in a new process, since its module is imported once."""
    with _lock:
        _kinds.pop(kind, None)


def registered_kinds() -> list[str]:
    """Kinds that can be looked up (registered already, shipped, or offered by a plug-in), sorted."""
    plugins = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    with _lock:
        return sorted(set(_kinds) | set(KNOWN_KINDS) | plugins)


def lookup(kind: str) -> KindEntry:
    """The registration of ``kind``, importing the module that provides it on first use."""
    with _lock:
        found = _kinds.get(kind)
    if found is not None:
        return found
    module = KNOWN_KINDS.get(kind) or next(
        (ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == kind), None
    )
    if module is not None:
        importlib.import_module(module)
    with _lock:
        found = _kinds.get(kind)
    if found is None:
        raise UnknownDeviceKindError(
            f"no device service for kind {kind!r} (device kinds: {', '.join(registered_kinds())})"
        )
    return found


def build_services(context: ServiceContext, devices: list[Device]) -> list[Service]:
    """The services of ``devices`` in one process, by kind in order of first appearance."""
    by_kind: dict[str, list[Device]] = {}
    for device in devices:
        by_kind.setdefault(str(device.kind), []).append(device)
    services: list[Service] = []
    for kind, group in by_kind.items():
        services += lookup(kind).factory(context, group)
    return services
