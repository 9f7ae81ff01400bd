"""The site file: the demo validates; every kind of mistake is refused naming its key path."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from motcua_cli.main import main
from queue_server.rules import RuleBook
from siteconf import SiteFileError, load_site
from siteconf.model import parse_site
from siteconf.spoken import site_appointment_phrase

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


def demo_data() -> dict[str, Any]:
    return tomllib.loads(DEMO.read_text(encoding="utf-8"))


def test_demo_site_is_valid() -> None:
    site = load_site(DEMO)
    assert site.site.id == "demo"
    assert len(site.services) == 3
    assert len(site.counters) == 4
    assert [d.id for d in site.devices if d.kind == "kiosk"] == ["kiosk-1"]
    assert site.service("civil").name == "Hộ tịch – Chứng thực"


def _break(path: str, value: Any) -> dict[str, Any]:
    data = demo_data()
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("site.colour", "red", "site.colour: unknown key"),
        ("site.id", "có dấu", "site.id: String should match pattern"),
        ("site.timezone", "Asia/Saigon_x", "site.timezone: unknown time zone"),
        ("site.name", _DELETE, "site.name: required key is missing"),
        ("hours.sessions", [["13:30", "11:00"]], "hours.sessions: session 13:30-11:00"),
        ("hours.sessions", [["7:30", "11:00"]], "hours.sessions: '7:30' is not a time of day"),
        ("broker.url", "tcp://x:1", "broker.url: bad broker URL 'tcp://x:1'"),
        ("services.1.prefix", "b1", "services[1].prefix"),
        ("services.0.daily_cap", 0, "services[0].daily_cap"),
        ("counters.2.services", ["land", "tax"], "counters[2].services: unknown service 'tax'"),
        ("devices.2.url", "serial://", "devices[2].url: bad transport URL 'serial://'"),
        ("devices.2.url", "bogus://x", "devices[2].url: bad transport URL 'bogus://x'"),
        ("devices.2.counter", 9, "devices[2].counter: no counter number 9"),
        ("devices.0.printer", "led-1", "devices[0].printer: 'led-1' is not a printer device"),
        ("devices.3.kind", "toaster", "devices[3].kind"),
        ("devices.3.url", _DELETE, "devices[3]: a keypad needs a transport url"),
        ("services.1.code", "land", "services[1].code: 'land' appears twice"),
        ("display.hall.recent_calls", 0, "display.hall.recent_calls"),
        ("display.voice.backlog", -1, "display.voice.backlog"),
        ("display.caller_bus", "shouted", "display.caller_bus"),
    ],
)
def test_bad_values_name_the_key_path(path: str, value: Any, expected: str) -> None:
    with pytest.raises(SiteFileError) as err:
        parse_site(_break(path, value), "x.toml")
    assert any(expected in problem for problem in err.value.problems), err.value.problems


def test_unreadable_and_non_toml_files(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="cannot read"):
        load_site(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nid = 1\n", encoding="utf-8")
    with pytest.raises(SiteFileError, match="not valid TOML"):
        load_site(broken)


def test_non_utf8_site_file_is_a_clear_site_file_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b"# Trung t\xe2m, saved as Latin-1\n" + DEMO.read_bytes())
    with pytest.raises(SiteFileError, match=r"not UTF-8 text: byte 0xe2 on line 1") as err:
        load_site(latin1)
    assert str(latin1) in str(err.value)


def test_check_site_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-site", str(DEMO)]) == 0
    assert "3 services, 4 counters" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEMO.read_text(encoding="utf-8").replace('prefix = "B"', 'prefix = "B"\nprefx = 1'), encoding="utf-8"
    )
    assert main(["check-site", str(bad)]) == 2
    assert "services[1].prefx: unknown key" in capsys.readouterr().err


def test_check_site_warns_when_kiosk_and_queue_priority_groups_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-site", str(DEMO)]) == 0
    assert "warning" not in capsys.readouterr().err  # the kiosk shows the queue's groups
    own = tmp_path / "own.toml"
    own.write_text(
        DEMO.read_text(encoding="utf-8")
        + '\n[[kiosk.priorities]]\ncode = "elderly"\nname = "Người cao tuổi"\n'
        + '\n[[kiosk.priorities]]\ncode = "veteran"\nname = "Cựu chiến binh"\n',
        encoding="utf-8",
    )
    assert main(["check-site", str(own)]) == 0  # a warning, not a refusal
    err = capsys.readouterr().err
    assert "kiosk.priorities: 'veteran' is not in queue.priorities" in err
    for missing in ("pregnant", "disabled", "meritorious"):
        assert f"queue.priorities: {missing!r} is not offered at the kiosk" in err
    assert "'elderly'" not in err


def test_bad_site_file_exits_non_zero_from_the_installed_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEMO.read_text(encoding="utf-8").replace('id = "demo"', 'id = "demo"\nowner = "x"'), encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "motcua_cli.main", "demo", "--headless", "--for", "1", "--site", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "site.owner: unknown key" in proc.stderr


def test_around_the_clock_lifts_every_service_s_own_hours_and_office_hours_restores_them() -> None:
    site = load_site(DEMO)
    own = {s.code: s.issuing_hours for s in site.services}
    assert own["business"], "the demo site gives one service hours of its own"
    open_all = site.around_the_clock()
    assert all(s.issuing_hours is None for s in open_all.services)
    assert {s.code: s.issuing_hours for s in open_all.with_office_hours().services} == own


@pytest.mark.parametrize("clock", ["00:00:00", "12:00:00", "23:59:00", "23:59:59.999"])
def test_around_the_clock_issues_in_the_day_s_last_minute_too(clock: str) -> None:
    """A test run at 23:59 (CI once did) found the queue shut: ``00:00``–``24:00`` is the whole day."""
    site = load_site(DEMO).around_the_clock()
    book = RuleBook.from_site(site)
    moment = datetime.fromisoformat(f"2026-12-04T{clock}+07:00")
    assert all(book.issuing(book.services[s.code], moment) for s in site.services)


@pytest.mark.parametrize(
    ("sessions", "problem"),
    [
        ([["24:00", "24:00"]], "'24:00' is not a time of day"),
        ([["08:00", "24:01"]], "'24:01' is not a time of day"),
        ([["08:00", "24:00"], ["24:00", "24:00"]], "'24:00' is not a time of day"),
    ],
)
def test_24_00_ends_a_session_and_nothing_else(sessions: list[list[str]], problem: str) -> None:
    data = demo_data()
    data["hours"]["sessions"] = sessions
    with pytest.raises(SiteFileError, match=problem):
        parse_site(data)


def test_a_session_to_24_00_is_open_until_midnight_and_shut_after_it() -> None:
    data = demo_data()
    data["hours"] = {"days": ["fri"], "sessions": [["07:30", "11:30"], ["13:30", "24:00"]]}
    data["services"] = [{**s, "issuing_hours": None} for s in data["services"]]
    site = parse_site(data)
    book = RuleBook.from_site(site)
    civil = book.services["civil"]
    assert book.issuing(civil, datetime.fromisoformat("2026-12-04T23:59:59+07:00"))  # a Friday
    assert not book.issuing(civil, datetime.fromisoformat("2026-12-05T00:00:00+07:00"))
    assert not book.issuing(civil, datetime.fromisoformat("2026-12-04T12:00:00+07:00"))
    late = datetime.fromisoformat("2026-12-04T23:30:00+07:00")
    assert site_appointment_phrase(site, late, "vi") == "Thứ Sáu, 04/12/2026, buổi tối"
