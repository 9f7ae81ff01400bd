"""``motcua calendar YEAR`` and ``motcua calendar due``: exact output and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua_cli.main import main

REPO = Path(__file__).resolve().parent.parent

EXPECTED_2025 = """\
2025-01-01  Thứ Tư    Nghỉ lễ: Tết Dương lịch
2025-01-27  Thứ Hai   Nghỉ lễ: Tết Nguyên đán (28 tháng Chạp)
2025-01-28  Thứ Ba    Nghỉ lễ: Tết Nguyên đán (29 tháng Chạp, giao thừa)
2025-01-29  Thứ Tư    Nghỉ lễ: Tết Nguyên đán (mùng 1 tháng Giêng)
2025-01-30  Thứ Năm   Nghỉ lễ: Tết Nguyên đán (mùng 2 tháng Giêng)
2025-01-31  Thứ Sáu   Nghỉ lễ: Tết Nguyên đán (mùng 3 tháng Giêng)
2025-04-07  Thứ Hai   Nghỉ lễ: Giỗ Tổ Hùng Vương (10/3 âm lịch)
2025-04-26  Thứ Bảy   Làm bù: Làm bù cho thứ Sáu 02/05/2025
2025-04-30  Thứ Tư    Nghỉ lễ: Ngày Chiến thắng (30/4)
2025-05-01  Thứ Năm   Nghỉ lễ: Ngày Quốc tế Lao động (1/5)
2025-05-02  Thứ Sáu   Nghỉ hoán đổi: Nghỉ hoán đổi dịp 30/4–1/5 (làm bù thứ Bảy 26/04/2025)
2025-09-01  Thứ Hai   Nghỉ lễ: Quốc khánh (ngày liền kề 2/9)
2025-09-02  Thứ Ba    Nghỉ lễ: Quốc khánh (2/9)
"""


def test_year_2025(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "2025"]) == 0
    out, err = capsys.readouterr()
    assert out == EXPECTED_2025
    assert err == ""


def test_year_2026_marks_unconfirmed_days(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "2026"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "2026-01-10  Thứ Bảy   Làm bù: Làm bù cho thứ Sáu 02/01/2026"
    assert lines[8] == "2026-04-27  Thứ Hai   Nghỉ bù: Nghỉ bù Giỗ Tổ Hùng Vương (trùng Chủ nhật 26/04/2026)"
    assert lines[-3] == "2026-08-31  Thứ Hai   Nghỉ hoán đổi: Nghỉ hoán đổi dịp Quốc khánh [chưa xác nhận]"
    assert len(lines) == 14


def test_unannounced_year_warns_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "2031"]) == 0
    out, err = capsys.readouterr()
    assert "chưa có lịch nghỉ chính thức năm 2031" in err
    assert "2031-01-27  Thứ Hai   Nghỉ bù: " in out
    assert len(out.splitlines()) == 11


def test_site_days_are_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        (REPO / "sites" / "demo.toml").read_text(encoding="utf-8")
        + '\n[[calendar.days]]\ndate = 2026-11-24\nkind = "holiday"\nreason = "Ngày Văn hóa Việt Nam"\n',
        encoding="utf-8",
    )
    assert main(["calendar", "2026", "--site", str(site)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2026-11-24  Thứ Ba    Nghỉ lễ: Ngày Văn hóa Việt Nam"
    assert (
        main(["calendar", "due", "--received", "2026-11-23T10:00+07:00", "--days", "1", "--site", str(site)])
        == 0
    )
    assert capsys.readouterr().out.splitlines()[0] == "2026-11-25T10:00+07:00"


def test_due(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "due", "--received", "2026-04-24T14:30+07:00", "--days", "3"]) == 0
    out, err = capsys.readouterr()
    assert out == "2026-05-04T14:30+07:00\nHẹn trả: 14 giờ 30 phút, Thứ Hai, ngày 04/05/2026\n"
    assert err == ""


def test_due_with_a_procedure_cut_off(capsys: pytest.CaptureFixture[str]) -> None:
    site = str(REPO / "sites" / "demo.toml")
    args = ["calendar", "due", "--received", "2026-11-16T15:30+07:00", "--days", "1", "--site", site]
    assert main([*args, "--procedure", "chung-thuc-ban-sao"]) == 0  # its cut-off is 16:00
    assert capsys.readouterr().out.startswith("2026-11-17T15:30+07:00\n")
    assert main(args) == 0  # the default 15:00 cut-off: counted from Tuesday 07:30
    assert capsys.readouterr().out.startswith("2026-11-17T17:00+07:00\n")


def test_due_in_an_unannounced_year_warns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "due", "--received", "2027-03-01T09:00+07:00", "--days", "2"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("2027-03-03T09:00+07:00\n")
    assert "tạm tính" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calendar", "twenty"], "expected a year such as 2026 or 'due', got 'twenty'"),
        (["calendar", "2300"], "year 2300 is outside the calendar's range"),
        (["calendar", "due", "--days", "3"], "give --received and --days"),
        (["calendar", "due", "--received", "24/04/2026", "--days", "3"], "is not a date-time like"),
        (["calendar", "due", "--received", "2026-04-24T14:30", "--days", "3"], "has no UTC offset"),
        (
            ["calendar", "due", "--received", "2026-04-24T14:30+07:00", "--days", "ba"],
            "is not a whole number",
        ),
        (["calendar", "due", "--received", "2026-04-24T14:30+07:00", "--days", "-2"], "must be ≥ 0"),
        (["calendar", "due", "--received", "2026-04-24T14:30+07:00", "--days", "1.5"], "not a whole number"),
        (["calendar", "due", "--received", "2026-02-30T14:30+07:00", "--days", "1"], "is not a date-time"),
    ],
)
def test_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert out == ""


def test_bad_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        (REPO / "sites" / "demo.toml")
        .read_text(encoding="utf-8")
        .replace('cutoff = "15:00"', 'cutoff = "3pm"'),
        encoding="utf-8",
    )
    assert main(["calendar", "2026", "--site", str(site)]) == 2
    assert "calendar.cutoff: '3pm' is not a cut-off time" in capsys.readouterr().err
