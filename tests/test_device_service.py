"""The device-service base and the kind registry: backoff, lookups, a kind joining without the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from device_service.base import Backoff, Service
from device_service.registry import (
    KindEntry,
    ServiceContext,
    UnknownDeviceKindError,
    lookup,
    register_kind,
    registered_kinds,
    unregister_kind,
)
from motcua_cli.devices import build_service, build_services
from siteconf import Site
from siteconf.model import Device


def test_backoff_doubles_up_to_its_longest_and_starts_over_after_a_success() -> None:
    backoff = Backoff(0.5, 5.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.current is None and backoff.next() == 0.5
    with pytest.raises(ValueError, match="0 < first <= longest"):
        Backoff(2.0, 1.0)


def test_shipped_kinds_are_found_by_importing_only_their_module() -> None:
    assert {"printer", "led_display", "keypad", "scanner"} <= set(registered_kinds())
    assert lookup("led_display").shares_line and not lookup("keypad").shares_line
    with pytest.raises(UnknownDeviceKindError, match=r"no device service for kind 'kiosk' \(device kinds: "):
        lookup("kiosk")


def test_an_app_kind_is_refused_by_the_cli_with_the_command_to_run(demo_site: Site) -> None:
    kiosk = next(d for d in demo_site.devices if str(d.kind) == "kiosk")
    with pytest.raises(ValueError, match=f"device {kiosk.id} is a kiosk: run it with `motcua kiosk`"):
        build_service(demo_site, kiosk, "mqtt://127.0.0.1:1")


class _Recorder:
    """A stand-in service: the registry's factories may return any ``Service``."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def start(self) -> _Recorder:
        return self

    def stop(self) -> None:
        return None

    def idle(self) -> bool:
        return True


@pytest.fixture
def tablet_kind() -> Iterator[list[list[str]]]:
    """``rating_tablet`` registered as a device kind by a plug-in, for one test."""
    calls: list[list[str]] = []

    def factory(context: ServiceContext, devices: list[Device]) -> list[Service]:
        calls.append([d.id for d in devices])
        return [_Recorder(d) for d in devices]

    register_kind("rating_tablet", KindEntry(factory))
    yield calls
    unregister_kind("rating_tablet")


def test_a_registered_kind_runs_through_the_cli_unchanged(
    demo_site: Site, tablet_kind: list[list[str]]
) -> None:
    tablets = [d for d in demo_site.devices if str(d.kind) == "rating_tablet"]
    assert tablets, "the demo site has a rating tablet"
    service = build_service(demo_site, tablets[0], "mqtt://127.0.0.1:1")
    assert isinstance(service, _Recorder) and service.device is tablets[0]
    services = build_services(demo_site, tablets, "mqtt://127.0.0.1:1")
    assert tablet_kind == [[tablets[0].id], [t.id for t in tablets]]
    assert [type(s).__name__ for s in services] == ["_Recorder"] * len(tablets)
    unregister_kind("rating_tablet")
    with pytest.raises(ValueError, match="is a rating_tablet: run it with `motcua rating_tablet`"):
        build_service(demo_site, tablets[0], "mqtt://127.0.0.1:1")
