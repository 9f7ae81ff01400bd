"""Nothing prints as an empty box: characters the font cannot draw are replaced as the site file says,
and the job result names them (never a log line)."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from datetime import datetime

import pytest
from PIL import ImageChops
from support import wait_until
from test_printer_service import PRINTER, Observer, running_service

from bus import models as m
from bus.client import BrokerUrl
from firmware_sim.escpos_printer import EscposPrinterSim
from printer.glyphs import GlyphFallback
from printer.profiles import find_profile
from printer.render import render_named
from printer.textband import font_covers
from printer.ticket import TicketData, render_ticket, ticket_job
from siteconf import Site

SERVICE = "Hộ tịch 😀 中文 👍🏽"
MISSING = ["😀", "中", "文", "👍", "🏽"]  # the skin-tone modifier goes with its emoji: one substitute


def covers(ch: str) -> bool:
    return font_covers(34, bold=True)(ch)


def test_the_font_lacks_emoji_and_cjk_and_has_vietnamese() -> None:
    assert all(covers(ch) for ch in "Hộ tịch Đường ỹ ặ ữ ?")
    assert not any(covers(ch) for ch in "😀中文👍🏽")


@pytest.mark.parametrize(
    ("fallback", "printed"),
    [
        (GlyphFallback(), "Hộ tịch ? ?? ?"),
        (GlyphFallback(substitute="*"), "Hộ tịch * ** *"),
        (GlyphFallback(mode="drop"), "Hộ tịch   "),
        (GlyphFallback(mode="transliterate"), "Hộ tịch ? ?? ?"),
    ],
)
def test_fallback_modes(fallback: GlyphFallback, printed: str) -> None:
    kept, replaced = fallback.apply(SERVICE, covers)
    assert kept == printed
    assert replaced == MISSING
    assert all(covers(ch) for ch in kept)


def test_transliterate_uses_the_compatibility_form_when_the_font_has_it() -> None:
    narrow = set("ABC1fi ")  # a font with only these

    def has(ch: str) -> bool:
        return ch in narrow

    kept, replaced = GlyphFallback(mode="transliterate").apply("①Ａﬁ中", has)
    assert (kept, replaced) == ("1Afi?", ["①", "Ａ", "ﬁ", "中"])


def _ticket(service_name: str) -> TicketData:
    return TicketData(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name=service_name,
        number="A12",
        issued_at=datetime(2026, 11, 23, 8, 5),
        waiting=1,
        estimated_wait_min=5,
    )


@pytest.mark.parametrize("profile", ["generic-80", "generic-58"])
def test_the_paper_shows_the_substitute_not_a_box(profile: str) -> None:
    """The page printed for emoji and CJK is the page printed for the substitutes: no box anywhere."""
    chosen = find_profile(profile)
    job = ticket_job(_ticket(SERVICE), chosen)
    assert list(job.replaced) == MISSING
    (page,) = EscposPrinterSim(width_dots=chosen.width).replay(job.data)
    (plain,) = EscposPrinterSim(width_dots=chosen.width).replay(
        render_ticket(_ticket("Hộ tịch ? ?? ?"), profile=chosen)
    )
    assert page.size == plain.size
    assert ImageChops.difference(page.convert("L"), plain.convert("L")).getbbox() is None


def test_the_site_setting_chooses_the_fallback(demo_site: Site) -> None:
    printing = demo_site.printing.model_copy(update={"unprintable": "drop"})
    _, dropped = render_named("ticket", _ticket(SERVICE).model_dump(), "generic-80", printing)
    _, plain = render_named("ticket", _ticket("Hộ tịch").model_dump(), "generic-80", printing)
    assert dropped == plain


@pytest.fixture
def observer(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[Observer]:
    from broker_support import as_identity

    from bus.client import BusClient

    # Sends print jobs and hears their results: only the server may, so it logs in as the server.
    bus = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "test-printer-glyphs")
    obs = Observer(bus)
    bus.subscribe(bus.topics.device_evt(PRINTER), lambda _t, e: obs.events.append(e), m.device_event_adapter)
    bus.start()
    yield obs
    bus.stop()


@pytest.mark.integration
def test_the_job_result_names_the_replaced_characters_and_no_log_does(
    demo_site: Site, mosquitto: BrokerUrl, observer: Observer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = EscposPrinterSim()
    ticket = m.TicketPrint(
        centre_name="Trung tâm",
        service_name="Đất đai 😀 中",
        number="A5",
        issued_at=m.now(),
        waiting=0,
        estimated_wait_min=0,
    )
    with running_service(demo_site, mosquitto, sim):
        observer.send(m.PrintTicket(job_id="job-glyphs", ticket=ticket))
        assert wait_until(lambda: bool(observer.printed("job-glyphs")))
    (printed,) = observer.printed("job-glyphs")
    assert printed.replaced_chars == ["😀", "中"]
    assert len(sim.pages) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "😀" not in logged and "中" not in logged
    assert not any(unicodedata.category(ch) == "So" for ch in logged)
