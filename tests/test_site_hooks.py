"""Each part checks its own table of the site file through a hook, and every check still runs.

``siteconf`` imports no part of the product; the printer registers its ``[printing]`` checks with
``siteconf.registry`` (an entry point of ``motcua.site_sections``). These tests load real files
through the normal entry points (``load_site``, ``motcua check-site``, a fresh process that never
imports the printer, as the queue server does) and expect each table's mistake by its key path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from motcua_cli.main import main
from siteconf import SiteFileError, load_site
from siteconf.registry import (
    _CHECKS,
    register_section,
    registered,
    section_problems,
)

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"

# One mistake per table, appended to the demo site file, and the key path its message must start with.
MISTAKES = {
    "queue": ('[[queue.priorities]]\ncode = "elderly"\nname = "x"\n', "queue.priorities[4].code:"),
    "calendar": (
        '[[calendar.days]]\ndate = 2026-12-02\nkind = "makeup"\nreason = "x"\n',
        "calendar.days[0].kind:",
    ),
    "printing": ("[printing.profiles.tiny]\nwidth_dots = 10\n", "printing.profiles.tiny: width_dots:"),
    "printing-layout": (
        '[printing.layouts]\nticket = [ { kind = "qr" } ]\n',
        "printing.layouts.ticket[0]: value: a qr element needs text",
    ),
    "printing-profile-name": (
        '[printing.printers]\nprinter-k1 = "no-such-profile"\n',
        "printing.printers.printer-k1: unknown profile 'no-such-profile'",
    ),
    "display": ('[[display.remotes]]\nid = "0x00001"\ncounter = 99\n', "display.remotes[1].counter:"),
    "kiosk": ('[[kiosk.groups]]\nname = "x"\nservices = ["ghost"]\n', "kiosk.groups[3].services:"),
    "scanning": (
        '[[scanning.stations]]\ndevice = "ghost"\nsource = "folder:/tmp"\n',
        "scanning.stations[0].device:",
    ),
}


def _bad_site(tmp_path: Path, table: str) -> tuple[Path, str]:
    extra, path = MISTAKES[table]
    text = DEMO.read_text(encoding="utf-8")
    if table == "printing-profile-name":  # the demo already has a [printing.printers] line
        text = text.replace('printer-k1 = "generic-80"', 'printer-k1 = "no-such-profile"')
        extra = ""
    site = tmp_path / f"{table}.toml"
    site.write_text(text + "\n" + extra, encoding="utf-8")
    return site, path


@pytest.mark.parametrize("table", sorted(MISTAKES))
def test_a_mistake_in_each_table_is_named_by_its_key_path(tmp_path: Path, table: str) -> None:
    site, path = _bad_site(tmp_path, table)
    with pytest.raises(SiteFileError) as err:
        load_site(site)
    assert any(p.startswith(path) for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("table", ["printing", "printing-layout", "kiosk"])
def test_check_site_reports_the_key_path(
    tmp_path: Path, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site, path = _bad_site(tmp_path, table)
    assert main(["check-site", str(site)]) != 0
    assert path in capsys.readouterr().err


def test_a_process_that_never_imports_the_printer_still_checks_printing(tmp_path: Path) -> None:
    """The queue server imports no device package; the entry point brings the printer's checks in."""
    site, path = _bad_site(tmp_path, "printing")
    code = (
        "import sys\n"
        "from siteconf import SiteFileError, load_site\n"
        "assert 'printer' not in sys.modules\n"
        "try:\n"
        f"    load_site({str(site)!r})\n"
        "except SiteFileError as err:\n"
        "    print('\\n'.join(err.problems))\n"
        "else:\n"
        "    raise SystemExit('the bad profile was accepted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.startswith(path), done.stdout + done.stderr


def test_the_printer_hook_is_registered_through_its_entry_point() -> None:
    load_site(DEMO)
    checks = registered()
    assert [c.__module__ for c in checks["printing"]] == ["printer.site_section"]


def test_a_registered_hook_runs_on_every_load_and_its_messages_are_reported() -> None:
    def no_kiosk_languages_but_vi(section: Any, _site: Any) -> list[str]:
        return [
            f"kiosk.languages: {lang!r} is not offered here" for lang in section.languages if lang != "vi"
        ]

    register_section("kiosk", no_kiosk_languages_but_vi)
    register_section("kiosk", no_kiosk_languages_but_vi)  # twice: runs once
    try:
        with pytest.raises(SiteFileError) as err:
            load_site(DEMO)
        assert err.value.problems == ["kiosk.languages: 'en' is not offered here"]
    finally:
        _CHECKS["kiosk"].remove(no_kiosk_languages_but_vi)
    assert load_site(DEMO).site.id == "demo"


def test_a_hook_for_a_table_the_site_file_lacks_is_a_programming_error() -> None:
    site = load_site(DEMO)
    register_section("no_such_table", lambda _section, _site: [])
    try:
        with pytest.raises(LookupError, match=r"\[no_such_table\]"):
            section_problems(site)
    finally:
        del _CHECKS["no_such_table"]
