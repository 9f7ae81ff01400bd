"""View-models and the ``[kiosk]`` table without a window or a broker: what the screens would show."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from kiosk_screens import issued, new_dispenser
from pytestqt.qtbot import QtBot

from bus import models as m
from kiosk.backend import TicketOutcome
from kiosk.texts import TEXTS, texts
from siteconf import Site, SiteFileError
from siteconf.model import parse_site

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


def demo_data() -> dict[str, Any]:
    return tomllib.loads(DEMO.read_text(encoding="utf-8"))


def test_every_sentence_exists_in_both_languages_in_nfc() -> None:
    assert set(TEXTS["vi"]) == set(TEXTS["en"])
    import unicodedata

    for lang in ("vi", "en"):
        for value in texts(lang).values():
            assert value == unicodedata.normalize("NFC", value) and value.strip()


def test_services_are_grouped_by_field_and_searched_without_tone_marks(qtbot: QtBot, demo_site: Site) -> None:
    vm = new_dispenser(demo_site)
    assert [g["name"] for g in vm.groups] == [
        "Đất đai – Xây dựng",
        "Tư pháp – Hộ tịch",
        "Kinh tế – Doanh nghiệp",
    ]
    vm.setSearch("dat dai")
    assert [(s["code"], s["procedure"]) for g in vm.groups for s in g["services"]] == [
        ("land", ""),
        ("land", "1.012345"),  # the land procedure decided by the "Văn phòng đăng ký đất đai"
    ]
    vm.setSearch("HỘ TỊCH")
    assert [s["code"] for g in vm.groups for s in g["services"]] == ["civil"]
    vm.setSearch("nothing like this")
    assert vm.groups == []
    vm.ui.toggleLanguage()
    vm.setSearch("business")
    assert vm.groups == [
        {
            "name": "Economy and business",
            "services": [
                {"code": "business", "name": "Business registration", "prefix": "C", "procedure": ""}
            ],
        },
        {
            "name": "Procedures",
            "services": [
                {
                    "code": "business",
                    "name": "Household business registration\nBusiness registration",
                    "prefix": "C",
                    "procedure": "2.000575",
                }
            ],
        },
    ]
    vm.goHome()
    assert len(vm.groups) == 3 and vm.searchText == ""


@pytest.mark.parametrize("query", ["khai sinh", "KHAI SINH", "dang ky khai sinh", "đăng kí khai sinh"])
def test_the_search_finds_procedures_and_queues_for_their_service(demo_site: Site, query: str) -> None:
    vm = new_dispenser(demo_site)
    vm.setSearch(query)
    assert vm.groups == [
        {
            "name": "Thủ tục",
            "services": [
                {
                    "code": "civil",
                    "name": "Đăng ký khai sinh\nHộ tịch – Chứng thực",
                    "prefix": "B",
                    "procedure": "1.001193",
                }
            ],
        }
    ]


def test_services_in_no_group_are_still_offered(demo_site: Site) -> None:
    kiosk = demo_site.kiosk.model_copy(update={"groups": demo_site.kiosk.groups[:1]})
    vm = new_dispenser(demo_site.model_copy(update={"kiosk": kiosk}))
    assert [(g["name"], [s["code"] for s in g["services"]]) for g in vm.groups] == [
        ("Đất đai – Xây dựng", ["land"]),
        ("Lĩnh vực khác", ["civil", "business"]),
    ]


def test_priority_is_a_toggle_and_the_ticket_shows_it(qtbot: QtBot, demo_site: Site) -> None:
    vm = new_dispenser(demo_site)
    vm.choosePriority("disabled")
    assert vm.priority == "disabled"
    vm.choosePriority("disabled")
    assert vm.priority == ""
    vm.choosePriority("pregnant")
    vm._show_outcome(TicketOutcome(issued(), None, job_id="j1"))
    ticket = vm.ticket
    assert ticket["priority"] == "Phụ nữ mang thai"
    assert ticket["counters"] == "Quầy 1, Quầy 2"
    assert (ticket["waiting"], ticket["wait_min"], ticket["virtual"], ticket["offline"]) == (
        4,
        12,
        False,
        False,
    )
    vm._on_job_failed("another-job")
    assert vm.ticket["virtual"] is False  # only this ticket's job failing turns on the virtual ticket
    vm._on_job_failed("j1")
    assert vm.ticket["virtual"] is True


@pytest.mark.parametrize(
    ("minutes", "vi", "en"),
    [
        (0, "Sắp đến lượt", "Almost your turn"),
        (12, "khoảng 12 phút", "about 12 min"),
        (60, "khoảng 1 giờ", "about 1 h"),
        (None, "", ""),
    ],
)
def test_the_ticket_says_the_wait_as_the_printed_ticket_does(
    qtbot: QtBot, demo_site: Site, minutes: int | None, vi: str, en: str
) -> None:
    vm = new_dispenser(demo_site)
    ticket = issued().model_copy(update={"estimated_wait_min": minutes})
    vm._show_outcome(TicketOutcome(ticket, None, job_id="j1"))
    assert vm.ticket["wait"] == vi
    vm.ui.toggleLanguage()
    assert vm.ticket["wait"] == en


def test_refusals_are_explained_in_the_citizens_language(qtbot: QtBot, demo_site: Site) -> None:
    vm = new_dispenser(demo_site)
    closed = (
        "Hiện ngoài giờ cấp số. Xin mời quay lại trong giờ làm việc:\n"
        "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00"
    )
    cases = {
        "outside_hours": closed,
        "out_of_hours": closed,
        "sold_out": "Lĩnh vực này đã hết số hôm nay. Xin mời quay lại vào ngày làm việc tiếp theo.",
        "unknown_service": "the server's own words",
    }
    for code, expected in cases.items():
        vm._show_outcome(TicketOutcome(None, m.ErrorInfo(code=code, message="the server's own words")))
        assert (vm.current_screen(), vm.errorMessage) == ("error", expected)
    vm._show_outcome("busy")
    assert vm.errorMessage == "Hệ thống đang bận, xin vui lòng thử lại."


def test_looks_follow_the_panel_and_the_toggles_and_reset_when_idle(qtbot: QtBot, demo_site: Site) -> None:
    vm = new_dispenser(demo_site)
    ui = vm.ui
    assert ui.target == 61  # 15 mm at 1080 px / 268 mm
    small = ui.font
    ui.toggleLargeText()
    ui.toggleContrast()
    ui.toggleLanguage()
    assert ui.font > small and ui.highContrast and ui.lang == "en" and ui.t["done"] == "Done"
    said: list[tuple[str, str]] = []
    ui.voice, ui.voice_enabled = lambda lang, sentence: said.append((lang, sentence)), True
    vm._show_outcome(TicketOutcome(issued(), None, job_id="j"))
    assert said == [("en", "Your number A1023")]
    with qtbot.waitSignal(ui.idle, timeout=2000):
        ui._idle.setInterval(50)
        ui.touch()
    assert (ui.lang, ui.largeText, ui.highContrast, vm.current_screen()) == ("vi", False, False, "home")
    small_panel = demo_site.kiosk.model_copy(
        update={"screen": demo_site.kiosk.screen.model_copy(update={"width_mm": 120.0, "height_mm": 213.0})}
    )
    assert new_dispenser(demo_site.model_copy(update={"kiosk": small_panel})).ui.target == 135  # 9 px/mm


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("groups", 0, "services"), ["land", "nope"], "kiosk.groups[0].services: unknown service 'nope'"),
        (("procedures", 0, "service"), "nope", "kiosk.procedures[0].service: unknown service 'nope'"),
        (("procedures", 2, "counters"), [9], "kiosk.procedures[2].counters: no counter 9"),
        (("officers", 1, "id"), "cb-001", "kiosk.officers[1]: 'cb-001' appears twice"),
        (("rating", "levels"), 4, "kiosk.rating.levels"),
        (("screen", "width_px"), 10, "kiosk.screen.width_px"),
        (("min_target_mm",), 9.0, "kiosk.min_target_mm"),
        (("qr_scanner",), "ftp://x", "ftp"),
        (("languages",), ["fr"], "kiosk.languages[0]"),
        (("colour",), "red", "kiosk.colour: unknown key"),
    ],
)
def test_a_bad_kiosk_table_names_the_key(path: tuple[Any, ...], value: Any, expected: str) -> None:
    data = demo_data()
    target = data["kiosk"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SiteFileError) as err:
        parse_site(data, "x.toml")
    assert expected in str(err.value)


def test_a_site_without_a_kiosk_table_gets_sensible_defaults() -> None:
    data = demo_data()
    del data["kiosk"]
    site = parse_site(data)
    assert site.kiosk.rating.levels == 3 and site.kiosk.languages == ["vi", "en"]
    codes = [p.code for p in site.kiosk.priority_groups(site)]
    assert codes == ["elderly", "pregnant", "disabled", "meritorious"]


def test_the_kiosk_offers_the_priority_groups_of_the_queue_section() -> None:
    """demo.toml's [queue] defines four groups, the kiosk none of its own: all four are offered."""
    site = parse_site(demo_data())
    groups = site.kiosk.priority_groups(site)
    assert [(p.code, p.name, p.name_en) for p in groups] == [
        (p.code, p.name, p.name_en) for p in site.queue.priorities
    ]
    assert "Người có công với cách mạng" in [p.name for p in groups]
    assert site.kiosk.screen.px(15.0) == 61


def test_a_dropped_rating_view_model_is_freed_at_once_not_by_the_cycle_collector(
    qtbot: QtBot, demo_site: Site
) -> None:
    """Its bus client's callbacks hold it weakly: freed by the cycle collector instead, it went at any
    moment, even inside one of its own timers' events (a crash in whatever test ran next)."""
    import gc
    import weakref

    from kiosk.rating import RatingViewModel
    from siteconf.model import Device

    tablet = Device(id="tablet-2", kind=m.DeviceKind.RATING_TABLET, counter=2)
    site = demo_site.model_copy(update={"devices": [*demo_site.devices, tablet]})
    vm = RatingViewModel(site, "tablet-2", "mqtt://127.0.0.1:1")  # never started
    ref = weakref.ref(vm)
    gc.disable()
    try:
        del vm
        assert ref() is None
    finally:
        gc.enable()
