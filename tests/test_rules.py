"""Queue rules from the site file: the ``[queue]`` table, its versions, and the RuleBook built from them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from engine_support import TZ, site_data

from queue_server.rules import RuleBook
from siteconf.model import SiteFileError, load_site, parse_site


def book(**queue: Any) -> RuleBook:
    return RuleBook.from_site(parse_site(site_data(**queue)))


def problems(data: dict[str, Any]) -> str:
    with pytest.raises(SiteFileError) as err:
        parse_site(data)
    return "; ".join(err.value.problems)


def test_demo_site_rules_load() -> None:
    rules = RuleBook.from_site(load_site("sites/demo.toml"))
    assert rules.day_starts == time(3, 0)
    assert [v.version for v in rules.versions] == ["base", "2026-07"]
    assert rules.versions[1].daily_caps["land"] == 250 and rules.versions[1].daily_caps["civil"] == 200
    assert rules.counters[2].weight("land") == 2 and rules.counters[2].weight("civil") == 1
    assert set(rules.priorities) == {"elderly", "pregnant", "disabled", "meritorious"}
    business = rules.services["business"]
    assert business.sessions == ((time(7, 30), time(11, 0)), (time(13, 30), time(16, 30)))


def test_versions_take_effect_on_their_business_day_and_inherit_earlier_changes() -> None:
    rules = book(
        normal_per_priority=3,
        versions=[
            {"effective": "2026-12-01", "interleave": "strict", "daily_caps": {"land": 10}},
            {"effective": "2026-11-25", "id": "nov", "normal_per_priority": 1},
        ],
    )
    at = datetime(2026, 11, 25, 2, 59, tzinfo=TZ)  # still the 24th's business day (day starts 03:00)
    assert rules.version_at(at).version == "base"
    nov = rules.version_at(at.replace(hour=3, minute=0))
    assert (nov.version, nov.normal_per_priority, nov.interleave) == ("nov", 1, "ratio")
    dec = rules.version_at(datetime(2027, 3, 1, 9, tzinfo=TZ))
    assert (dec.version, dec.normal_per_priority, dec.interleave) == ("2026-12-01", 1, "strict")
    assert dec.daily_caps["land"] == 10 and dec.daily_caps["tax"] == 3


def test_business_day_is_in_the_site_time_zone() -> None:
    rules = book()
    # 21:00 UTC on the 24th is 04:00 on the 25th in Hà Nội: after the 03:00 boundary
    assert rules.business_day(datetime(2026, 11, 24, 21, 0, tzinfo=UTC)) == date(2026, 11, 25)
    assert rules.business_day(datetime(2026, 11, 24, 19, 59, tzinfo=UTC)) == date(2026, 11, 24)


def test_series_defaults_and_overrides() -> None:
    rules = book()
    land = rules.services["land"]
    assert (land.normal.prefix, land.normal.first, land.priority.prefix, land.priority.first) == (
        "A",
        1001,
        "UA",
        1001,
    )
    tax = rules.services["tax"]
    assert (tax.priority.prefix, tax.priority.first, tax.priority.last) == ("", 9001, 9999)
    assert rules.services["civil"].normal.last == 5


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"queue": {"interleave": "sometimes"}}, "queue.interleave"),
        ({"queue": {"day_starts": "25:00"}}, "queue.day_starts: '25:00' is not a time of day HH:MM"),
        ({"queue": {"normal_per_priority": 0}}, "queue.normal_per_priority"),
        ({"queue": {"colour": "red"}}, "queue.colour: unknown key"),
        ({"queue": {"versions": [{"effective": "2026-13-01"}]}}, "queue.versions[0].effective"),
        (
            {"queue": {"versions": [{"effective": "2026-12-01", "daily_caps": {"fish": 3}}]}},
            "queue.versions[0].daily_caps.fish: unknown service 'fish'",
        ),
        (
            {"queue": {"versions": [{"effective": "2026-12-01"}, {"effective": "2026-12-01"}]}},
            "queue.versions[1].effective: two versions take effect on 2026-12-01",
        ),
        (
            {"queue": {"priorities": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}},
            "queue.priorities[1].code: 'a' appears twice",
        ),
    ],
)
def test_bad_queue_table_names_the_key(change: dict[str, Any], expected: str) -> None:
    data = site_data()
    data["queue"] = {**data["queue"], **change["queue"]}
    assert expected in problems(data)


def test_bad_service_and_counter_fields_name_the_key() -> None:
    data = site_data()
    data["services"][1]["last_number"] = 0
    assert "services[1]: last_number 0 is below first_number 1" in problems(data)
    data = site_data()
    data["services"][0]["issuing_hours"] = [["09:00", "08:00"]]
    assert "services[0].issuing_hours" in problems(data)
    data = site_data()
    data["counters"][1]["weights"] = {"tax": 2}
    assert "counters[1]: weights.tax: the counter does not serve 'tax'" in problems(data)
    data = site_data()
    data["counters"][1]["weights"] = {"land": 0}
    assert "weights.land: 0 is not a weight from 1 to 100" in problems(data)


def test_overlapping_series_are_refused() -> None:
    data = site_data()
    data["services"][2]["priority_prefix"] = "A"
    data["services"][2]["priority_first_number"] = 1500
    assert "services[2].priority_prefix: series A1500-9999 overlaps services[0] (A1001-999999)" in problems(
        data
    )
    data["services"][2]["priority_first_number"] = 1
    data["services"][2]["priority_last_number"] = 1000
    parse_site(data)  # A1-A1000 and A1001-... do not overlap
