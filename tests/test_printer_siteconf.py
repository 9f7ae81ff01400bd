"""The site file's ``[printing]`` table, the job spool's state machine, and layouts replaced by a site."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from printer.escpos_decoder import EscposDecoder
from printer.profiles import find_profile, profile_for, site_profiles
from printer.render import render_named
from printer.spool import TRANSITIONS, JobSpool, JobState, SpoolError
from siteconf import SiteFileError, load_site
from siteconf.model import parse_site

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"
GOLDEN = Path(__file__).parent / "golden" / "printer"


def _site(printing: dict[str, Any]) -> Any:
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["printing"] = printing
    return parse_site(data, "test.toml")


def test_demo_printing_table() -> None:
    site = load_site(DEMO)
    assert profile_for(site.printing, "printer-k1", 576) == find_profile("generic-80")
    clone = site_profiles(site.printing)["xprinter-80-clone"]
    assert (clone.width, clone.qr_native, clone.pad_bands) == (576, False, True)
    assert profile_for(site.printing, "printer-unlisted", 384).width == 384


@pytest.mark.parametrize(
    ("printing", "message"),
    [
        ({"printers": {"printer-k1": "nope"}}, "printing.printers.printer-k1: unknown profile 'nope'"),
        ({"printers": {"kiosk-1": "generic-80"}}, "printing.printers.kiosk-1: no printer device 'kiosk-1'"),
        ({"profiles": {"x": {"width_dots": 10}}}, "profiles.x: width_dots: Input should be greater than or"),
        (
            {"profiles": {"x": {"base": "NoSuchModel"}}},
            "'NoSuchModel' is not a profile of the escpos-printer-db",
        ),
        ({"profiles": {"x": {"colour": True}}}, "profiles.x: colour: Extra inputs are not permitted"),
        ({"layouts": {"flyer": []}}, "layouts.flyer: unknown layout"),
        ({"layouts": {"ticket": [{"kind": "qr"}]}}, "layouts.ticket[0]: value: a qr element needs text"),
        ({"layouts": {"ticket": [{"kind": "text", "text": "{a.__class__}"}]}}, "must be a plain name"),
        ({"spool": "x"}, "printing.spool: unknown key"),
    ],
)
def test_mistakes_are_named(printing: dict[str, Any], message: str) -> None:
    with pytest.raises(SiteFileError) as raised:
        _site(printing)
    assert message in "; ".join(raised.value.problems)


def test_a_site_layout_replaces_the_built_in_one() -> None:
    site = _site(
        {
            "layouts": {
                "ticket": [
                    {"kind": "text", "text": "{service_name}", "size_px": 30, "bold": True},
                    {"kind": "number", "text": "{number}", "bold": True},
                    {"kind": "text", "text": "{issued_at:%H:%M}"},
                ]
            }
        }
    )
    import json

    values = json.loads((GOLDEN / "ticket.json").read_text(encoding="utf-8"))
    _, data = render_named("ticket", values, "generic-80", site.printing)
    commands = EscposDecoder().feed(data)
    assert [c.name for c in commands].count("GS v 0") == 1
    assert [c.data for c in commands if c.name == "text"] == [b"B2023", b"08:05"]
    _, standard = render_named("ticket", values, "generic-80")
    assert standard != data


def test_spool_transitions_are_exactly_the_table(tmp_path: Path) -> None:
    for start in JobState:
        for target in JobState:
            spool = JobSpool(tmp_path / f"{start}-{target}.sqlite")
            spool.add("j", "{}")
            path = {
                JobState.QUEUED: [],
                JobState.SENT: [JobState.SENT],
                JobState.PRINTED: [JobState.SENT, JobState.PRINTED],
                JobState.FAILED: [JobState.FAILED],
            }[start]
            for step in path:
                spool.move("j", step)
            if target in TRANSITIONS[start]:
                moved = spool.move("j", target, bytes_sent=5, reason="r", code="c")
                assert moved.state is target
                assert (moved.command is None) == moved.finished
            else:
                with pytest.raises(SpoolError, match=f"cannot go from {start} to {target}"):
                    spool.move("j", target)
            spool.close()


def test_spool_keeps_order_and_ids_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    spool = JobSpool(path)
    assert spool.add("a", '{"n": 1}') is None
    assert spool.add("b", '{"n": 2}') is None
    again = spool.add("a", '{"n": 3}')
    assert again is not None and again.command == '{"n": 1}'
    spool.move("a", JobState.SENT, bytes_sent=10)
    spool.close()
    reopened = JobSpool(path)
    assert [(j.job_id, j.state) for j in reopened.open_jobs()] == [
        ("a", JobState.SENT),
        ("b", JobState.QUEUED),
    ]
    with pytest.raises(SpoolError, match="not in the spool"):
        reopened.move("zz", JobState.SENT)
    reopened.close()


def test_the_service_takes_its_profile_spool_and_holds_from_the_site(tmp_path: Path) -> None:
    from firmware_sim.escpos_printer import EscposPrinterSim
    from printer.service import PrinterService
    from transport.sim import register_simulator, unregister_simulator

    site = _site(
        {
            "spool_dir": str(tmp_path / "spool"),
            "printers": {"printer-k1": "pos-5890"},
            "ticket_hold_s": 3,
            "receipt_hold_s": 60,
        }
    )
    register_simulator("printer-k1", EscposPrinterSim(width_dots=384))
    try:
        service = PrinterService.from_site(site, site.device("printer-k1"), "mqtt://127.0.0.1:1")
        try:
            assert service.profile == find_profile("pos-5890")
            assert service.printer.width_dots == 384
            assert service.spool.path == str(tmp_path / "spool" / "printer-k1.sqlite")
            assert service.hold_s == {"print_ticket": 3, "print_receipt": 60}
        finally:
            service.printer.close()
            service.spool.close()
    finally:
        unregister_simulator("printer-k1")
