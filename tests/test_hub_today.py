"""The province dashboard's "today" is each centre's own business day.

A centre files every ticket under its business day, which starts at ``[queue] day_starts`` in its time
zone (03:00 in the demo site). At 01:30 that centre is still in yesterday's day: the hub must count
yesterday's tickets for it, and today's for a centre whose day starts at midnight.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hub_reports_rig import hub_schema

from hub.config import parse_config
from hub.store import HubStore
from hub.views import DayRule, overview
from hub.web import _day_rules

pytestmark = pytest.mark.skipif(
    not os.environ.get("MOTCUA_TEST_POSTGRES"), reason="MOTCUA_TEST_POSTGRES is not set"
)
DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


@pytest.fixture
def store() -> Iterator[HubStore]:
    with hub_schema("hub_today") as url:
        hub_store = HubStore.open(url)
        hub_store.create()
        yield hub_store


def _config(early_site_file: str) -> str:
    return (
        '[hub]\nprovince = "HN"\nname = "Hà Nội"\n'
        '[database]\nurl = "postgresql+psycopg://unused@/unused"\n'
        f'[[centres]]\nsite = "early"\nname = "Mở từ 03:00"\nsite_file = "{early_site_file}"\n'
        '[[centres]]\nsite = "plain"\nname = "Không có tệp"\n'
    )


def _ticket(store: HubStore, site: str, n: int, day: str, issued: str, *, status: str = "waiting") -> None:
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO hub_tickets (site, ticket_id, day, service, status, issued_at)"
            " VALUES (%s, %s, %s, 'land', %s, %s)",
            (site, f"{day}/A/{n}", day, status, datetime.fromisoformat(issued)),
        )


def test_today_counts_from_each_centres_day_starts(store: HubStore, tmp_path: Path) -> None:
    site_file = tmp_path / "early.toml"
    site_file.write_text(DEMO.read_text(encoding="utf-8").replace('id = "demo"', 'id = "early"', 1), "utf-8")
    config = parse_config(_config(str(site_file)), tmp_path / "hub.toml")
    store.register((c.site, c.name) for c in config.centres)
    rules = _day_rules(config)
    assert rules["early"].day_starts.isoformat() == "03:00:00"
    # The early centre's night: two tickets of its 3 December day issued after midnight, one of
    # 4 December after 03:00; the plain centre files by the calendar date.
    _ticket(store, "early", 1, "2026-12-03", "2026-12-04T01:10:00+07:00")
    _ticket(store, "early", 2, "2026-12-03", "2026-12-04T01:20:00+07:00", status="done")
    _ticket(store, "early", 3, "2026-12-04", "2026-12-04T03:05:00+07:00")
    _ticket(store, "plain", 1, "2026-12-04", "2026-12-04T01:15:00+07:00")
    _ticket(store, "plain", 2, "2026-12-03", "2026-12-03T16:00:00+07:00", status="done")

    default = DayRule(ZoneInfo(config.hub.timezone))
    assert rules["plain"] == default  # no site file: the hub's time zone, days from midnight
    at_0130 = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)  # 01:30 on 4 December in Hà Nội
    centres = {c.site: c for c in overview(store, rules, default, now=at_0130)}
    assert (centres["early"].tickets_today, centres["early"].served_today, centres["early"].waiting) == (
        2,
        1,
        1,
    )
    assert (centres["plain"].tickets_today, centres["plain"].waiting) == (1, 1)

    at_0330 = datetime(2026, 12, 3, 20, 30, tzinfo=UTC)  # 03:30 in Hà Nội
    centres = {c.site: c for c in overview(store, rules, default, now=at_0330)}
    assert (centres["early"].tickets_today, centres["early"].served_today) == (1, 0)
    assert centres["plain"].tickets_today == 1

    one = overview(store, rules, default, site="early", now=at_0130)
    assert [(c.site, c.tickets_today) for c in one] == [("early", 2)]


def test_a_centre_whose_site_file_is_broken_counts_from_midnight(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "early.toml"
    broken.write_bytes(b"[site\nid = \xff")
    config = parse_config(_config(str(broken)), tmp_path / "hub.toml")
    with caplog.at_level(logging.WARNING, logger="hub.web"):
        rules = _day_rules(config)
    assert "early" not in rules  # the dashboard then uses the hub's default rule for it
    assert "centre early" in caplog.text and "counted from midnight" in caplog.text
    assert rules["plain"] == DayRule(ZoneInfo("Asia/Ho_Chi_Minh"))
