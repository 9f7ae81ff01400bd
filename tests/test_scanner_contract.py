"""What any eSCL (AirScan) document scanner must do for motcua: the simulator by default, real
hardware with ``--hw-scanner URL`` (``http://HOST[:PORT]``; put a few A4 sheets in the feeder).

The paper-jam test needs a jam on demand and runs on the simulator only; on hardware it skips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from contract_support import Target

from firmware_sim.escl_scanner import EsclSimulator, blank_pages
from scanner.errors import PaperJamError
from scanner.sources import SCAN_NS, EsclSource

DPI = 200
ADF_STATES = {"ScannerAdfLoaded", "ScannerAdfEmpty", "ScannerAdfJam", "ScannerAdfProcessing"}


@pytest.fixture(params=["sim", "hardware"])
def rig(
    request: pytest.FixtureRequest, hardware_url: Callable[[str], str]
) -> Iterator[Target[EsclSimulator]]:
    """The scanner speaks HTTP, not a ``sim://`` link: its simulator serves on a local port."""
    if request.param == "hardware":
        yield Target(hardware_url("scanner").rstrip("/"), None)
        return
    sim = EsclSimulator(blank_pages(3))
    try:
        yield Target(sim.start(), sim)
    finally:
        sim.stop()


def test_capabilities_offer_the_feeder_at_200_dpi_in_colour(rig: Target[EsclSimulator]) -> None:
    with EsclSource(rig.url) as source:
        caps = source.capabilities()
        assert source.adf_state() in ADF_STATES
    assert caps.find(f".//{{{SCAN_NS}}}Adf") is not None
    resolutions = {int(r.text or 0) for r in caps.iter(f"{{{SCAN_NS}}}XResolution")}
    assert DPI in resolutions


def test_a_feeder_batch_gives_a4_pages_at_the_asked_resolution(rig: Target[EsclSimulator]) -> None:
    with EsclSource(rig.url, source="Feeder", dpi=DPI) as source:
        pages = list(source.pages())
    assert pages
    for page in pages:
        height, width = page.image.shape[:2]
        assert abs(max(height, width) / min(height, width) - 297 / 210) < 0.05
        assert abs(min(height, width) - 210 / 25.4 * DPI) < 0.05 * 210 / 25.4 * DPI


def test_a_jam_is_a_paper_jam_error_naming_where_to_rescan(rig: Target[EsclSimulator]) -> None:
    sim = rig.needs_sim("needs a paper jam on demand")
    sim.set_faults({"jam_after": "1"})
    with EsclSource(rig.url) as source:
        with pytest.raises(PaperJamError, match="rescan from page 2"):
            list(source.pages())
        assert source.adf_state() == "ScannerAdfJam"
    sim.clear_jam()
    with EsclSource(rig.url) as source:
        assert len(list(source.pages())) == 3
