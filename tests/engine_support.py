"""A small site for the queue engine's tests, built from data like a site file."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.engine import Engine
from queue_server.rules import RuleBook
from siteconf.model import parse_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)


def site_data(**queue: Any) -> dict[str, Any]:
    return {
        "site": {"id": "t", "name": "Trung tâm thử"},
        "hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "sessions": [["07:30", "11:30"], ["13:30", "17:00"]],
        },
        "services": [
            {"code": "land", "name": "Đất đai", "name_en": "Land", "prefix": "A", "first_number": 1001},
            {"code": "civil", "name": "Hộ tịch", "prefix": "B", "first_number": 1, "last_number": 5},
            {
                "code": "tax",
                "name": "Thuế",
                "prefix": "C",
                "daily_cap": 3,
                "issuing_hours": [["08:00", "09:00"]],
                "priority_prefix": "",
                "priority_first_number": 9001,
                "priority_last_number": 9999,
            },
        ],
        "counters": [
            {"number": 1, "name": "Quầy 1", "services": ["land"]},
            {"number": 2, "name": "Quầy 2", "services": ["land", "civil"], "weights": {"land": 2}},
            {"number": 3, "name": "Quầy 3", "services": ["civil", "tax"]},
        ],
        "queue": {"day_starts": "03:00", **queue},
    }


def make_engine(**queue: Any) -> Engine:
    return Engine(RuleBook.from_site(parse_site(site_data(**queue))))


class Tokens:
    """Distinct ticket tokens, as the server would draw them."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"tok{self.n:06d}"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
