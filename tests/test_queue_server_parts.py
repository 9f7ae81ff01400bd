"""The queue server's parts on their own: the import seam, the handler table, keypad keys, devices.

The behaviour of the whole server is guarded by ``test_queue_server.py`` and the HTTP, crash and
whole-flow tests; these check the seams the split drew, with real site files and no broker.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from datetime import UTC, datetime

import pytest

from bus import models as m
from queue_server.authz import tablet_may_rate
from queue_server.devices_registry import DeviceRegistry
from queue_server.handlers import COUNTER_ACTIONS, HANDLERS, READS
from queue_server.keys import TYPED_DIGITS_S, KeypadKeys
from siteconf import Site


def test_importing_the_server_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, queue_server.server\n"
        "web = sorted(k for k in sys.modules if k.split('.')[0] in {'fastapi', 'starlette', 'uvicorn'})\n"
        "print(','.join(web))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"importing queue_server.server imported {done.stdout.strip()}"
    again = subprocess.run(
        [sys.executable, "-c", code.replace("queue_server.server", "queue_server.http")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "fastapi" in again.stdout, "the check cannot see fastapi even where it is imported"


def test_every_request_kind_and_counter_action_has_a_handler() -> None:
    kinds = set()
    for model in typing.get_args(typing.get_args(m.Request)[0]):
        kinds.add(model.model_fields["kind"].default)
    # Offline tickets are reconciled one by one (queue_server/reconcile.py), not decided as a whole;
    # reads (calls_since) change nothing and are answered outside the worker.
    assert set(READS) == {"calls_since"}
    assert set(HANDLERS) == (kinds - {"offline_tickets"} - set(READS)) | {"rating_given"}
    assert set(COUNTER_ACTIONS) == set(m.CounterAction)


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def press(keys: KeypadKeys, device: str, key: m.Key, digit: int | None = None) -> m.CounterRequest | None:
    return keys.request(device, m.KeyPressed(key=key, digit=digit))


def test_keypad_keys_map_to_operations_of_their_counter(demo_site: Site) -> None:
    keys = KeypadKeys(demo_site)
    request = press(keys, "keypad-2", m.Key.CALL_NEXT)
    assert request is not None
    assert (request.counter, request.action) == (2, m.CounterAction.CALL_NEXT)


@pytest.mark.parametrize("device", ["no-such-device", "printer-k1", "led-1"])
def test_keys_from_anything_but_a_counters_keypad_do_nothing(demo_site: Site, device: str) -> None:
    assert press(KeypadKeys(demo_site), device, m.Key.CALL_NEXT) is None


def test_transfer_takes_the_last_three_digits_typed_in_time(demo_site: Site) -> None:
    clock = FakeClock()
    keys = KeypadKeys(demo_site, monotonic=clock)
    assert press(keys, "keypad-1", m.Key.TRANSFER) is None, "no digits typed: nothing to transfer to"
    for digit in (9, 0, 1, 2):
        assert press(keys, "keypad-1", m.Key.DIGIT, digit) is None
    press(keys, "keypad-2", m.Key.DIGIT, 7)  # another keypad's digits are its own
    request = press(keys, "keypad-1", m.Key.TRANSFER)
    assert request is not None
    assert (request.counter, request.action, request.to_counter) == (1, m.CounterAction.TRANSFER, 12)
    assert press(keys, "keypad-1", m.Key.TRANSFER) is None, "the digits were used up"
    press(keys, "keypad-1", m.Key.DIGIT, 3)
    clock.now += TYPED_DIGITS_S
    assert press(keys, "keypad-1", m.Key.TRANSFER) is None, "digits typed too long ago count for nothing"
    press(keys, "keypad-1", m.Key.DIGIT, 0)
    request = press(keys, "keypad-1", m.Key.TRANSFER)
    assert request is not None and request.to_counter == 1, "counter 0 does not exist: the first one"


def test_a_rating_counts_only_from_its_counters_tablet(demo_site: Site) -> None:
    tablets = [d for d in demo_site.devices if d.kind is m.DeviceKind.RATING_TABLET]
    assert tablets, "the demo site has a rating tablet"
    tablet = tablets[0]
    assert tablet.counter is not None
    rating = m.RatingGiven(counter=tablet.counter, ticket="x", score=3, scale=3)
    assert tablet_may_rate(demo_site, tablet.id, rating) is None
    other = rating.model_copy(update={"counter": tablet.counter + 1})
    assert tablet_may_rate(demo_site, tablet.id, other) is not None
    assert tablet_may_rate(demo_site, "keypad-1", rating) is not None
    assert tablet_may_rate(demo_site, "ghost", rating) is not None


def test_the_device_registry_lists_every_device_and_what_it_said(demo_site: Site) -> None:
    registry = DeviceRegistry(demo_site)
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    registry.availability("printer-k1", "online", at)
    registry.availability("keypad-1", "offline", at)
    registry.availability("ghost", "online", at)  # not in the site file: not listed
    registry.status("printer-k1", m.DeviceStatus(health=m.Health.WARNING, paper=m.PaperLevel.NEAR_END))
    views = {v.id: v for v in registry.views()}
    assert set(views) == {d.id for d in demo_site.devices}
    assert (views["printer-k1"].online, views["printer-k1"].since) == (True, at)
    assert (views["printer-k1"].health, views["printer-k1"].paper) == ("warning", "near_end")
    assert (views["keypad-1"].online, views["keypad-1"].health) == (False, "offline")
    assert views["keypad-1"].health_vi == "Mất kết nối"  # not what its last retained status said
    untouched = next(v for k, v in views.items() if k not in {"printer-k1", "keypad-1"})
    assert (untouched.online, untouched.since, untouched.health) == (None, None, "unknown")
