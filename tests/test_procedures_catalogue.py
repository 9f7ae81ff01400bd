"""The procedures catalogue: dates as people say them, tone-insensitive search, the portal importer
(XLSX and CSV made here, with malformed rows), and ``motcua check-site`` on a bad catalogue."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from motcua_cli.main import main
from siteconf import load_site
from siteconf.portal_import import (
    CatalogueImportError,
    import_catalogue,
    processing_days,
    read_rows,
    to_toml,
)
from siteconf.procedures import find_procedures
from siteconf.spoken import appointment_phrase, fold, matches, site_appointment_phrase

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "sites" / "demo.toml"
SESSIONS = [("07:30", "11:30"), ("13:30", "17:00")]


@pytest.mark.parametrize(
    ("moment", "lang", "said"),
    [
        ("2026-12-07T10:10:54.116123+07:00", "vi", "Thứ Hai, 07/12/2026, buổi sáng"),
        ("2026-12-07T10:10:54.116123+07:00", "en", "Monday 7 December 2026, morning"),
        ("2026-12-07T03:10:54+00:00", "vi", "Thứ Hai, 07/12/2026, buổi sáng"),  # UTC → Hà Nội time
        ("2026-12-06T20:00:00+00:00", "vi", "Thứ Hai, 07/12/2026, buổi sáng"),  # crosses midnight
        ("2026-12-07T14:00:00+07:00", "vi", "Thứ Hai, 07/12/2026, buổi chiều"),
        ("2026-12-07T11:45:00+07:00", "vi", "Thứ Hai, 07/12/2026, buổi chiều"),  # morning session is over
        ("2026-12-13T09:00:00+07:00", "vi", "Chủ Nhật, 13/12/2026, buổi sáng"),
        ("2027-01-01T16:30:00+07:00", "en", "Friday 1 January 2027, afternoon"),
        ("2026-12-07T19:00:00+07:00", "vi", "Thứ Hai, 07/12/2026, buổi chiều"),  # no evening session
    ],
)
def test_appointments_are_said_as_people_say_them(moment: str, lang: str, said: str) -> None:
    assert appointment_phrase(moment, lang, sessions=SESSIONS) == said
    assert appointment_phrase(datetime.fromisoformat(moment), lang, sessions=SESSIONS) == said


def test_the_part_of_day_follows_the_centres_sessions() -> None:
    evening = [("07:00", "11:00"), ("13:00", "20:00")]
    assert appointment_phrase("2026-12-07T19:00:00+07:00", sessions=evening).endswith("buổi tối")
    assert appointment_phrase("2026-12-07T11:30:00+07:00", sessions=[("07:00", "17:00")]).endswith(
        "buổi sáng"
    )
    assert appointment_phrase("2026-12-07T12:00:00+07:00", sessions=[("07:00", "17:00")]).endswith(
        "buổi chiều"
    )
    site = load_site(DEMO).around_the_clock()  # the office hours still decide, not the queue's
    assert site_appointment_phrase(site, datetime(2026, 12, 7, 4, 50, tzinfo=UTC)) == (
        "Thứ Hai, 07/12/2026, buổi chiều"
    )
    with pytest.raises(ValueError, match="not an ISO 8601"):
        appointment_phrase("7/12/2026 10:10")


@pytest.mark.parametrize(
    "query",
    ["khai sinh", "KHAI SINH", "dang ky khai sinh", "đăng kí khai sinh", "Đăng ký khai sinh", "  dang  KI  "],
)
def test_search_ignores_tones_case_and_i_y(query: str) -> None:
    site = load_site(DEMO)
    found = [p.code for p in find_procedures(site.kiosk.procedures, query)]
    assert "1.001193" in found
    assert matches(query, "Đăng ký khai sinh")


def test_search_needs_every_word() -> None:
    assert not matches("khai tử", "Đăng ký khai sinh")
    assert not matches("sinh khai x", "Đăng ký khai sinh")
    assert fold("Đất đai – Xây dựng") == "dat dai xai dung"
    assert matches("", "anything")


HEADER = ["STT", "Mã thủ tục", "Tên thủ tục", "Cấp thực hiện", "Lĩnh vực", "Cơ quan thực hiện",
          "Thời hạn giải quyết", "Phí, lệ phí", "Thành phần hồ sơ"]  # fmt: skip
ROWS = [
    ["1", "1.001193", "Đăng ký khai sinh", "Cấp Xã", "Hộ tịch", "UBND cấp xã", "Trong ngày", "Miễn",
     "Tờ khai; Giấy chứng sinh\n- Giấy tờ tùy thân"],
    ["2", "2.000575", "Đăng ký thành lập hộ kinh doanh", "Cấp Huyện",
     "Thành lập và hoạt động của hộ kinh doanh", "UBND cấp huyện", "03 ngày làm việc", "100.000 đồng", ""],
    ["3", "", "Thủ tục không có mã", "Cấp Xã", "Hộ tịch", "", "", "", ""],
    ["4", "1.001193", "Trùng mã", "Cấp Xã", "Hộ tịch", "", "", "", ""],
    ["5", "1.000001", "Tôn giáo gì đó", "Cấp Tỉnh", "Tôn giáo Chính phủ", "", "", "", ""],
    ["", "", "", "", "", "", "", "", ""],
    ["6", "1.004837", "", "Cấp Xã", "Chứng thực", "", "", "", ""],
    ["7", "bad code!", "Mã sai dạng", "Cấp Xã", "Hộ tịch", "", "", "", ""],
    ["8", "1.012345", 'Đăng ký biến động "đất đai"\n[[x]] = 1', "Cấp Huyện", "Đất đai",
     "Văn phòng đăng ký đất đai", "10 ngày làm việc", "", ""],
]  # fmt: skip
TITLE = [["DANH SÁCH THỦ TỤC HÀNH CHÍNH"], ["Cơ quan: UBND tỉnh (mô phỏng)"], []]


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [*TITLE, HEADER, *ROWS]:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, delimiter=";").writerows([*TITLE, HEADER, *ROWS])
    return path


@pytest.mark.parametrize("writer", [write_xlsx, write_csv])
def test_the_portal_export_is_imported_and_bad_rows_are_named(tmp_path: Path, writer: object) -> None:
    site = load_site(DEMO)
    export = writer(tmp_path / ("export.xlsx" if writer is write_xlsx else "export.csv"))  # type: ignore[operator]
    result = import_catalogue(
        read_rows(export), site, {"Thành lập và hoạt động của hộ kinh doanh": "business"}
    )
    assert [(p.code, p.service, p.days) for p in result.procedures] == [
        ("1.001193", "civil", 0),
        ("2.000575", "business", 3),
        ("1.012345", "land", 10),
    ]
    assert result.procedures[0].documents == ["Tờ khai", "Giấy chứng sinh", "Giấy tờ tùy thân"]
    assert result.procedures[0].agency == "UBND cấp xã"
    problems = "\n".join(result.problems)
    assert "row 7: no 'Mã thủ tục'" in problems
    assert "row 8: procedure 1.001193 is already on row 5" in problems
    assert "row 9: field 'Tôn giáo Chính phủ' matches no service" in problems
    assert "row 11: procedure 1.004837 has no 'Tên thủ tục'" in problems
    assert "row 12: code:" in problems
    assert len(result.problems) == 5
    # What it writes is a valid part of the site file.
    text = DEMO.read_text(encoding="utf-8").split("[[kiosk.procedures]]")[0] + to_toml(result.procedures)
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    loaded = load_site(tmp_path / "site.toml").kiosk.procedures
    assert loaded[2].name == 'Đăng ký biến động "đất đai" [[x]] = 1'  # quoted as text, never TOML
    assert [p.code for p in loaded] == [
        "1.001193",
        "2.000575",
        "1.012345",
    ]


def test_an_export_that_is_not_one_is_refused(tmp_path: Path) -> None:
    site = load_site(DEMO)
    fake = tmp_path / "export.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CatalogueImportError, match="not a readable XLSX"):
        read_rows(fake)
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CatalogueImportError, match="no header row"):
        import_catalogue(read_rows(other), site)
    with pytest.raises(CatalogueImportError, match=r"\.xlsx or \.csv"):
        read_rows(tmp_path / "export.pdf")


def test_processing_days() -> None:
    assert processing_days("05 ngày làm việc") == 5
    assert processing_days("Trong ngày") == 0
    assert processing_days("15 ngày kể từ ngày nhận đủ hồ sơ") == 15
    assert processing_days("Theo quy định") is None


def test_import_procedures_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_csv(tmp_path / "export.csv")
    out = tmp_path / "procedures.toml"
    args = ["import-procedures", str(export), "--site", str(DEMO), "--out", str(out)]
    assert main([*args, "--map", "Thành lập và hoạt động của hộ kinh doanh=business"]) == 1  # rows left out
    err = capsys.readouterr().err
    assert "3 procedures, 5 rows left out" in err and "row 9:" in err
    assert out.read_text(encoding="utf-8").count("[[kiosk.procedures]]") == 3
    assert main([*args, "--map", "no equals sign"]) == 2
    assert main(["import-procedures", str(tmp_path / "missing.csv"), "--site", str(DEMO)]) == 2


def test_check_site_names_a_procedure_of_an_unknown_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEMO.read_text(encoding="utf-8")
    text = text.replace(
        'service = "business"\ndocuments = ["Giấy đề nghị',
        'service = "bussiness"\ndocuments = ["Giấy đề nghị',
    )
    text += '\n[[kiosk.procedures]]\ncode = "1.001193"\nname = "Trùng"\nservice = "civil"\n'
    bad = tmp_path / "site.toml"
    bad.write_text(text, encoding="utf-8")
    assert main(["check-site", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "kiosk.procedures[3].service: unknown service 'bussiness' for procedure 2.000575" in err
    assert "the site's services are land, civil, business" in err
    assert "kiosk.procedures[4].code: '1.001193' is already kiosk.procedures[0]" in err
    assert main(["check-site", str(DEMO)]) == 0
    assert "4 procedures" in capsys.readouterr().out
