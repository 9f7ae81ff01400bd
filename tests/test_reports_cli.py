"""``motcua report`` as a manager runs it: every format, filters, and clear errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import MONDAY
from reports_support import Centre, busy_week, report_site

from queue_server.db import Store

SITE_TOML = """
[site]
id = "t"
name = "Trung tâm thử"
agency_code = "H21.65"
[queue]
day_starts = "03:00"
[database]
url = "sqlite:///{db}"
[[services]]
code = "land"
name = "Đất đai"
prefix = "A"
first_number = 1001
[[services]]
code = "civil"
name = "Hộ tịch"
prefix = "B"
last_number = 5
[[services]]
code = "tax"
name = "Thuế"
prefix = "C"
[[counters]]
number = 1
name = "Quầy 1"
services = ["land"]
[[counters]]
number = 2
name = "Quầy 2"
services = ["land", "civil"]
[[counters]]
number = 3
name = "Quầy 3"
services = ["civil", "tax"]
[[kiosk.officers]]
id = "cb-1"
name = "Nguyễn Thị Lan"
"""


@pytest.fixture(scope="module")
def site_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    db = folder / "centre.db"
    with Store.open(f"sqlite:///{db}") as store:
        busy_week(Centre(report_site(day_starts="03:00"), store), MONDAY, days=2)
    path = folder / "site.toml"
    path.write_text(SITE_TOML.format(db=db), encoding="utf-8")
    return path


def motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua_cli.main", "report", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_table_csv_xlsx_pdf(site_file: Path, tmp_path: Path) -> None:
    table = motcua("--site", str(site_file), "--period", "week", "2026-W48")
    assert table.returncode == 0, table.stderr
    assert "== Số thứ tự / Tickets" in table.stdout and "Nguyễn Thị Lan" not in table.stdout
    named = motcua(
        "--site", str(site_file), "--period", "week", "2026-W48", "--officer-names", "--format", "csv"
    )
    assert "Nguyễn Thị Lan" in named.stdout
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        out = tmp_path / f"r.{fmt}"
        done = motcua(
            "--site", str(site_file), "--period", "day", "2026-11-23", "--format", fmt, "--out", str(out)
        )
        assert done.returncode == 0, done.stderr
        assert out.read_bytes().startswith(magic)
    one = motcua(
        "--site", str(site_file), "--period", "week", "2026-W48", "--counter", "2", "--format", "csv"
    )
    assert "# Lọc / filters: counter=2" in one.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--period", "month", "2026-13"], "month must be in 1..12"),
        (
            ["--period", "week", "2026-W48", "--service", "nope"],
            "service 'nope': the site has no such service (known: land, civil, tax)",
        ),
        (["--period", "week", "2026-W48", "--counter", "9"], "no such counter (known: 1, 2, 3)"),
        (["--period", "week", "2026-W48", "--format", "pdf"], "needs --out"),
        (["--period", "week", "2026-W48", "--db", "sqlite:////nonexistent/x.db"], "no SQLite file"),
    ],
)
def test_bad_input_is_named_and_exits_2(site_file: Path, args: list[str], says: str) -> None:
    done = motcua("--site", str(site_file), *args)
    assert done.returncode == 2
    assert says in done.stderr


@pytest.mark.parametrize(
    "period",
    [
        ["year", "9999"],
        ["day", "9999-12-31"],
        ["day", "0001-01-01"],
        ["week", "9999-W52"],
        ["month", "0001-01"],
        ["month", "9999-12"],
        ["quarter", "9999-Q4"],
        ["custom", "9999-01-01..9999-12-31"],
    ],
)
def test_a_period_beyond_the_years_reports_cover_is_refused(site_file: Path, period: list[str]) -> None:
    done = motcua("--site", str(site_file), "--period", *period)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "10000" not in done.stderr
    assert done.stderr.strip().endswith("out of range: use a period within the years 1900 to 9998")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("fmt", "out", "says"),
    [
        ("pdf", "/proc/x.pdf", "cannot write the report to /proc/x.pdf"),
        ("xlsx", "/nonexistent/dir/x.xlsx", "there is no folder /nonexistent/dir"),
        ("csv", "{tmp}", "it is a folder"),
        ("csv", "/dev/full", "No space left on device"),
    ],
)
def test_an_out_file_that_cannot_be_written_is_named_and_exits_2(
    site_file: Path, tmp_path: Path, fmt: str, out: str, says: str
) -> None:
    path = out.format(tmp=tmp_path)
    done = motcua("--site", str(site_file), "--period", "week", "2026-W48", "--format", fmt, "--out", path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert says in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_csv_file_starts_with_a_byte_order_mark_and_standard_output_does_not(
    site_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.csv"
    args = ("--site", str(site_file), "--period", "week", "2026-W48", "--format", "csv")
    assert motcua(*args, "--out", str(out)).returncode == 0
    text = out.read_bytes().decode("utf-8")
    piped = motcua(*args)
    assert text.startswith("\ufeff# ") and piped.stdout.startswith("# ")
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary file left beside it
