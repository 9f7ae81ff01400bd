"""One exception root per package: every exception class a package defines derives from its root.

A caller that must not stop (an MQTT handler, the HTTP API, a device loop) catches one class per
package; these tests import every module of each package and check every public exception class,
so a new one that forgets its root fails here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

ROOTS = {
    "queue_server": "queue_server.errors.QueueServerError",
    "printer": "printer.errors.PrinterError",
    "kiosk": "kiosk.errors.KioskError",
    "counter_display": "counter_display.errors.CounterDeviceError",
    "scanner": "scanner.errors.ScanError",
    "transport": "transport.base.TransportError",
    "bus": "bus.client.BusError",
    "firmware_sim": "firmware_sim.errors.SimulatorError",
}


def _root(dotted: str) -> type[BaseException]:
    module, _, name = dotted.rpartition(".")
    root = getattr(importlib.import_module(module), name)
    assert isinstance(root, type) and issubclass(root, Exception)
    return root


def _exceptions_defined_in(package: str) -> list[type[BaseException]]:
    found = []
    pkg = importlib.import_module(package)
    names = [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{package}.")]
    for name in names:
        if ".migrations.versions" in name or name.endswith(".migrations.env"):
            continue  # Alembic scripts run only inside Alembic
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name and not obj.__name__.startswith("_"):
                found.append(obj)
    return found


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_exception_of_a_package_derives_from_its_root(package: str) -> None:
    root = _root(ROOTS[package])
    defined = _exceptions_defined_in(package)
    assert root in defined
    strays = [f"{e.__module__}.{e.__qualname__}" for e in defined if not issubclass(e, root)]
    assert strays == []


def test_an_unknown_printer_profile_is_a_printer_error_and_still_a_key_error() -> None:
    from printer.errors import PrinterError
    from printer.profiles import UnknownProfileError, find_profile

    with pytest.raises(KeyError) as err:  # callers that predate the root keep working
        find_profile("no-such-profile")
    assert isinstance(err.value, UnknownProfileError | PrinterError)
    assert "known: " in str(err.value)


def test_an_unknown_layout_is_a_printer_error_naming_the_known_ones() -> None:
    from printer.errors import PrinterError
    from printer.render import render_named

    with pytest.raises(PrinterError, match="unknown layout 'flyer'; known: ticket, receipt"):
        render_named("flyer", {}, "generic-80")


def test_the_queue_servers_errors_keep_their_old_homes() -> None:
    """Imports from the modules that used to define them still name the same classes."""
    from queue_server import db, errors, holiday_table, lunar
    from queue_server.engine_model import Refused

    assert db.StoreError is errors.StoreError and db.StoreConflictError is errors.StoreConflictError
    assert getattr(holiday_table, "CalendarError") is errors.CalendarError  # noqa: B009  not re-exported to mypy
    assert getattr(lunar, "LunarDateError") is errors.LunarDateError  # noqa: B009
    assert issubclass(Refused, errors.QueueServerError)
    assert issubclass(errors.CalendarError, ValueError) and issubclass(errors.LunarDateError, ValueError)
    with pytest.raises(errors.QueueServerError, match="is not a lunar date"):
        lunar.to_solar(lunar.LunarDate(2026, 13, 1))
