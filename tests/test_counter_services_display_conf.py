"""The site file's [display] table: key maps per counter, hall, voice, EV1527 remotes, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from bus.models import Key
from siteconf import Site, SiteFileError
from siteconf.display import ACTIONS, DEFAULT_KEYS
from siteconf.model import parse_site


def _with_display(site: Site, display: dict[str, Any]) -> Site:
    data = site.model_dump(mode="json", exclude_defaults=True)
    data["display"] = display
    return parse_site(data, "site.toml")


def test_without_a_display_table_each_key_does_what_it_is_named_after(demo_site: Site) -> None:
    conf = demo_site.display
    for key, action in DEFAULT_KEYS.items():
        assert conf.key_action(3, key) == action
    assert set(DEFAULT_KEYS.values()) <= ACTIONS
    assert conf.key_action(3, Key.CONFIRM) is None
    assert conf.key_action(3, Key.DIGIT) is None


def test_site_and_counter_key_maps_override_the_default(demo_site: Site) -> None:
    site = _with_display(
        demo_site,
        {
            "keys": {"pause": "close", "request_rating": "finish"},
            "counter_keys": [{"counter": 4, "keys": {"recall": "no_show", "pause": "resume"}}],
        },
    )
    conf = site.display
    assert conf.key_action(1, Key.PAUSE) == "close"
    assert conf.key_action(4, Key.PAUSE) == "resume"
    assert conf.key_action(4, Key.RECALL) == "no_show"
    assert conf.key_action(1, Key.RECALL) == "recall"
    assert conf.key_action(2, Key.REQUEST_RATING) == "finish"


@pytest.mark.parametrize(
    ("display", "message"),
    [
        ({"keys": {"pause": "explode"}}, "display.keys.pause: unknown operation 'explode'"),
        ({"keys": {"dance": "pause"}}, "display.keys.dance"),
        (
            {"counter_keys": [{"counter": 9, "keys": {}}]},
            "display.counter_keys[0].counter: no counter number 9",
        ),
        ({"remotes": [{"id": "0xZZ", "counter": 1}]}, "remote id '0xZZ' is not a number"),
        ({"remotes": [{"id": 1 << 20, "counter": 1}]}, "display.remotes[0].id"),
        (
            {"remotes": [{"id": 5, "counter": 1}, {"id": 5, "counter": 2}]},
            "display.remotes[1].id: 0x00005 appears twice",
        ),
        ({"remotes": [{"id": 5, "counter": 1, "keys": {"16": "recall"}}]}, "EV1527 key code 16 is not 0..15"),
        ({"hall": {"language": "fr"}}, "display.hall.language"),
        ({"voice": {"template": "Mời {so}"}}, "display.voice.template: unknown placeholder {so}"),
        ({"voice": {"engine": "clips"}}, "display.voice.clips: the clips engine needs the folder"),
        ({"voice": {"repeat": 0}}, "display.voice.repeat"),
    ],
)
def test_bad_display_settings_are_errors_naming_the_key(
    demo_site: Site, display: dict[str, Any], message: str
) -> None:
    with pytest.raises(SiteFileError) as err:
        _with_display(demo_site, display)
    assert message in str(err.value)


def test_remotes_are_bound_to_counters_with_default_buttons(demo_site: Site) -> None:
    site = _with_display(demo_site, {"remotes": [{"id": "0x5A3C1", "counter": 3}]})
    remote = site.display.remote(0x5A3C1)
    assert remote is not None and remote.counter == 3
    assert remote.keys[1] is Key.CALL_NEXT and remote.keys[8] is Key.FINISH
    assert site.display.remote(0x12345) is None
